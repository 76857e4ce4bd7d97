package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/pglocal"
)

// TestWriterSurvivesDatabaseOutage stops PostgreSQL under a running writer:
// probes made meanwhile wait in memory, and when the database is back they
// are written in order, with the transitions they imply.
func TestWriterSurvivesDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs its own PostgreSQL cluster")
	}
	t.Parallel()
	ctx := context.Background()

	// A cluster of its own: the shared test server must not go down.
	parent, err := os.MkdirTemp("", "wo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	// PostgreSQL runs as its own user when the tests run as root.
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := pglocal.Options{Dir: filepath.Join(parent, "pg"), Logger: discardLogger()}
	cluster, err := pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	if err := cluster.CreateDatabase(ctx, "walnut"); err != nil {
		t.Fatal(err)
	}
	pool, err := store.Open(ctx, cluster.URL("walnut"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := store.Migrate(ctx, pool, discardLogger()); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://x/", Interval: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	b := testBundle{store: st, ids: ids, base: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}

	flushes := make(chan store.Flush, 100)
	w := store.NewWriter(st, discardLogger(), store.WriterOptions{
		FlushInterval: 20 * time.Millisecond,
		RetryBackoff:  func(int) time.Duration { return 50 * time.Millisecond },
		FlushedFunc:   func(f store.Flush) { flushes <- f },
	})
	wctx, stopWriter := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	t.Cleanup(func() { stopWriter(); <-done })

	awaitFlush := func(wantErr bool) {
		t.Helper()
		deadline := time.After(time.Minute)
		for {
			select {
			case f := <-flushes:
				if (f.Err != nil) == wantErr {
					return
				}
			case <-deadline:
				t.Fatalf("no flush with error=%v", wantErr)
			}
		}
	}

	w.Add(b.probes("api", 0, store.StateOK)[0])
	awaitFlush(false)

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	// The outage: the site goes down and comes back while nothing can be
	// written.
	for _, p := range b.probes("api", 1, store.StateNotOK, store.StateNotOK, store.StateOK) {
		w.Add(p)
	}
	awaitFlush(true)
	if w.LastError() == nil || w.Buffered() == 0 {
		t.Fatalf("during the outage: last error %v, buffered %d", w.LastError(), w.Buffered())
	}

	cluster, err = pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	awaitFlush(false)
	if w.Written() != 4 || w.Dropped() != 0 {
		t.Fatalf("written %d dropped %d, want 4 and 0", w.Written(), w.Dropped())
	}
	trs, err := st.TransitionListBySite(ctx, ids["api"], 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 3 || trs[1].To != store.StateNotOK || !trs[1].At.Equal(b.base.Add(time.Minute)) || trs[0].To != store.StateOK {
		t.Fatalf("transitions after the outage = %+v; want unknown>ok, ok>notok at +1m, notok>ok", trs)
	}
}
