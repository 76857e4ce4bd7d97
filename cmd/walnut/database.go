package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/pglocal"
)

// localDir is where Walnut keeps its own PostgreSQL when DATABASE_URL is
// unset, relative to the working directory.
const localDir = ".walnut/postgres"

// openDatabase connects to DATABASE_URL or, when it is unset, starts (or
// reuses) the local PostgreSQL under .walnut/. The returned close function
// closes the store and stops a cluster this call started.
func openDatabase(ctx context.Context, lookup env, logger *slog.Logger) (*store.Store, func(), error) {
	if url := lookup.get("DATABASE_URL"); url != "" {
		st, err := store.Open(ctx, url)
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}
	dir, err := filepath.Abs(localDir)
	if err != nil {
		return nil, nil, fmt.Errorf("local database: %w", err)
	}
	logger.Info("DATABASE_URL is not set: using a local PostgreSQL", "dir", dir)
	cluster, err := pglocal.Start(ctx, pglocal.Options{Dir: dir, Logger: logger, Relocate: true})
	if err != nil {
		return nil, nil, fmt.Errorf("local database: %w", err)
	}
	stop := func() {
		if err := cluster.Stop(); err != nil {
			logger.Error("stop local PostgreSQL", "error", err)
		}
	}
	if err := cluster.CreateDatabase(ctx, "walnut"); err != nil {
		stop()
		return nil, nil, fmt.Errorf("local database: %w", err)
	}
	st, err := store.Open(ctx, cluster.URL("walnut"))
	if err != nil {
		stop()
		return nil, nil, err
	}
	return st, func() { st.Close(); stop() }, nil
}
