package store

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/walnut-board/walnut/migrations"
)

// Migrate brings the schema up to date. It is idempotent: a database already
// at the newest version is left alone.
func (s *Store) Migrate(ctx context.Context, logger *slog.Logger) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	// Features are numbered apart (the storage layout from 00008, the
	// certificates from 00020) and may land in either order: a database
	// that has 00020 still takes 00008 when it arrives. They touch
	// different tables.
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	for _, r := range results {
		logger.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return migrateRiver(ctx, s.pool, logger)
}

// MigrateDownToZero undoes every migration; tests use it to prove each Down
// undoes its Up.
func (s *Store) MigrateDownToZero(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := provider.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("migrate database down: %w", err)
	}
	return migrateRiverDown(ctx, s.pool)
}
