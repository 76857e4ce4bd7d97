package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	st := store.New(pool)
	// The template is already migrated: up again must be a no-op.
	if err := st.Migrate(ctx, discardLogger()); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if err := st.MigrateDownToZero(ctx); err != nil {
		t.Fatalf("down to zero: %v", err)
	}
	var tables int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("after down to zero, %d tables remain", tables)
	}
	if err := st.Migrate(ctx, discardLogger()); err != nil {
		t.Fatalf("migrate up after down: %v", err)
	}
}
