package store_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/pglocal"
	"github.com/walnut-board/walnut/store/storetest"
)

// TestWriterSurvivesDatabaseOutage stops PostgreSQL under a running writer:
// probes made meanwhile wait in memory, and when the database is back they
// are written in order, with the transitions they imply, even when the
// backlog holds a probe the database refuses.
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
	st, err := store.Open(ctx, cluster.URL("walnut"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, discardLogger()); err != nil {
		t.Fatal(err)
	}
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://x/", Interval: time.Minute},
		{Slug: "vendor", Name: "Vendor", URL: "https://vendor/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := testBundle{store: st, ids: ids, base: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}

	flushes := make(chan store.Flush, 100)
	var logs storetest.Buffer
	w := store.NewWriter(st, slog.New(slog.NewTextHandler(&logs, nil)), store.WriterOptions{
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
	// written, and another site's probe in the backlog is one the database
	// will refuse: the backlog goes as one batch, which must be split.
	backlog := b.probes("api", 1, store.StateNotOK, store.StateNotOK, store.StateOK)
	poison := b.probe("vendor", 1, "bogus")
	backlog = append(backlog[:1], append([]store.Probe{poison}, backlog[1:]...)...)
	for _, p := range backlog {
		w.Add(p)
	}
	awaitFlush(true)
	if w.LastError() == nil || w.Buffered() == 0 {
		t.Fatalf("during the outage: last error %v, buffered %d", w.LastError(), w.Buffered())
	}
	// Compaction is told to leave the backlog's hour alone.
	if got := w.OldestHeld(); !got.Equal(b.base) {
		t.Errorf("during the outage: oldest held %s, want %s", got, b.base)
	}

	cluster, err = pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "the backlog written", func() bool { return w.Written() == 5 })
	storetest.WaitFor(t, "no hour held", func() bool { return w.OldestHeld().IsZero() })
	if w.Dropped() != 0 || w.Rejected() != 1 {
		t.Fatalf("dropped %d rejected %d, want 0 and 1", w.Dropped(), w.Rejected())
	}
	vendor, err := st.SiteGetBySlug(ctx, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	if vendor.State != store.StateNotOK || !strings.HasPrefix(vendor.Reason, "probe could not be stored: ") {
		t.Fatalf("vendor after the outage: %s %q, want notok, probe could not be stored", vendor.State, vendor.Reason)
	}
	if n := strings.Count(logs.String(), "database writes resumed"); n != 1 {
		t.Fatalf("%d \"database writes resumed\" lines, want 1, after the outage:\n%s", n, logs.String())
	}
	trs, err := st.TransitionListBySite(ctx, ids["api"], 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 3 || trs[1].To != store.StateNotOK || !trs[1].At.Equal(b.base.Add(time.Minute)) || trs[0].To != store.StateOK {
		t.Fatalf("transitions after the outage = %+v; want unknown>ok, ok>notok at +1m, notok>ok", trs)
	}
}
