package store

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
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
