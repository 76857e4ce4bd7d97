package store

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/walnut-board/walnut/migrations"
)

// Pool hands the store's tests its pool, for SQL of their own. Nothing
// outside store gets it: store is the only door to PostgreSQL.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migrate is (*Store).Migrate on a test's pool, for the store's upgrade tests.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return New(pool).Migrate(ctx, logger)
}

// MigrateDownToZero is (*Store).MigrateDownToZero on a test's pool.
func MigrateDownToZero(ctx context.Context, pool *pgxpool.Pool) error {
	return New(pool).MigrateDownToZero(ctx)
}

// LoseCommitAnswers makes w's next n successful writes report their COMMIT
// as unanswered, as when the connection drops after the server committed.
// Call it before Run.
func LoseCommitAnswers(w *Writer, n int) {
	var left atomic.Int32
	left.Store(int32(n))
	w.commitFault = func(err error) error {
		if err == nil && left.Add(-1) >= 0 {
			return &commitError{errors.New("write probes: commit: unexpected EOF")}
		}
		return err
	}
}

// MigrateUpTo migrates the schema up to version, as a database deployed
// with that version's code would be.
func MigrateUpTo(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return err
	}
	_, err = provider.UpTo(ctx, version)
	return err
}
