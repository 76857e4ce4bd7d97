package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// A slow database, as opposed to one that is down (outage_test.go): another
// session holds a lock the writer needs, so every write waits on it without
// any error, until the lock is released or the write's deadline passes.

// TestWriterSlowDatabase holds site_state locked under a running writer.
func TestWriterSlowDatabase(t *testing.T) {
	t.Parallel()
	const ok, notok, pending = store.StateOK, store.StateNotOK, store.StatePending

	// While a write waits on the lock, probes keep being taken; past the
	// bound the oldest waiting ones are dropped and counted; when the lock
	// goes, what was kept is written in order with the transitions it
	// implies.
	t.Run("ProbesKeepFlowingWhileAWriteWaits", func(t *testing.T) {
		t.Parallel()
		b := setup(t,
			store.SiteSpec{Slug: "api", Name: "API", URL: "https://api/", Interval: time.Minute, Confirm: 1},
			store.SiteSpec{Slug: "web", Name: "Web", URL: "https://web/", Interval: time.Minute, Confirm: 2})
		const bound = 40
		// A write deadline longer than any test: the write that meets the
		// lock waits until the test releases it.
		w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{
			FlushInterval: 5 * time.Millisecond, BatchSize: 4, MaxBuffered: bound,
			WriteTimeout: time.Hour,
		})
		stop := runWriter(t, w)
		defer stop()

		first := []store.Probe{b.probe("api", 0, ok), b.probe("web", 0, ok)}
		for _, p := range first {
			w.Add(p)
		}
		storetest.WaitFor(t, "the first probes written", func() bool { return w.Written() == 2 })

		release := lockSiteState(t, b.store)
		// One probe starts a write, which waits on the lock: from here on
		// nothing can be written, and that write is the batch in flight.
		trigger := b.probe("api", 1, ok)
		w.Add(trigger)
		storetest.WaitFor(t, "a write waiting on the lock", func() bool { return lockWaiters(t, b.store) == 1 })

		// Far more probes than the intake holds (16 batches = 64) and than
		// the bound: with a writer that stopped taking probes while it
		// waits, Add would block here until the lock is released.
		var burst []store.Probe
		for i := range 200 {
			slug := []string{"api", "web"}[i%2]
			burst = append(burst, b.probe(slug, 2+i/2, flapping(i)))
		}
		added := make(chan struct{})
		go func() {
			for _, p := range burst {
				w.Add(p)
			}
			close(added)
		}()
		select {
		case <-added:
		case <-time.After(time.Minute):
			t.Fatal("Add blocked while a write waited on the database")
		}
		// The bound counts the batch in flight: 39 of the burst are kept,
		// the 161 oldest dropped.
		kept := burst[len(burst)-(bound-1):]
		storetest.WaitFor(t, "the oldest probes dropped", func() bool { return w.Dropped() == uint64(len(burst)-len(kept)) })
		if w.Buffered() != bound || w.Written() != 2 || w.LastError() != nil {
			t.Fatalf("while locked: buffered %d written %d last error %v; want %d, 2, nil", w.Buffered(), w.Written(), w.LastError(), bound)
		}
		if lockWaiters(t, b.store) != 1 {
			t.Fatal("the write in flight no longer waits on the lock")
		}
		// No write has failed yet: only Stalled tells a health check that
		// the database does not answer.
		if w.Stalled() <= 0 {
			t.Fatal("Stalled = 0 while a write waits on the lock")
		}
		stuck := w.Stalled()

		release()
		want := slices.Concat(first, []store.Probe{trigger}, kept)
		storetest.WaitFor(t, "the backlog written", func() bool { return w.Written() == uint64(len(want)) && w.Buffered() == 0 })
		if w.Stalled() != 0 || w.LastError() != nil || w.Dropped() != uint64(len(burst)-len(kept)) {
			t.Fatalf("after the lock: stalled %v, last error %v, dropped %d", w.Stalled(), w.LastError(), w.Dropped())
		}
		t.Logf("write waited %v on the lock; %d probes offered, %d kept, %d dropped", stuck.Round(time.Millisecond), len(burst)+1, len(kept)+1, w.Dropped())
		checkStored(t, b, want, map[string]int{"api": 1, "web": 2})
	})

	// A write that waits longer than WriteTimeout is abandoned and retried
	// with a smaller batch; abandoning it frees its server session too.
	t.Run("AWriteThatWaitsTimesOut", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := setup(t,
			store.SiteSpec{Slug: "api", Name: "API", URL: "https://api/", Interval: time.Minute, Confirm: 2})
		first := []store.Probe{b.probe("api", 0, ok)}
		if _, err := b.store.WriteProbes(ctx, first); err != nil {
			t.Fatal(err)
		}
		flushes := make(chan store.Flush, 1000)
		// The fourth failed write holds Run in its backoff until the test
		// has seen every abandoned write leave the lock queue: with
		// retries running, a slow machine could always have one session
		// leaving while the next one waits.
		const attempts = 4
		resume := make(chan struct{})
		w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{
			FlushInterval: 5 * time.Millisecond, BatchSize: 8,
			// Far longer than a batch of 8 takes, even on a loaded
			// machine, far shorter than the lock is held: only the lock
			// makes a write reach it. (A write that timed out after its
			// COMMIT reached the server would be written twice.)
			WriteTimeout: time.Second,
			RetryBackoff: func(n int) time.Duration {
				if n == attempts {
					<-resume
				}
				return 10 * time.Millisecond
			},
			FlushedFunc: func(f store.Flush) { flushes <- f },
		})
		runWriter(t, w)
		var resumed bool
		resumeRun := func() {
			if !resumed {
				resumed = true
				close(resume)
			}
		}
		// Registered after runWriter's stop, so it runs first: a test
		// that fails early must not leave Run waiting.
		t.Cleanup(resumeRun)

		release := lockSiteState(t, b.store)
		states := []store.State{notok, ok, notok, notok, notok, pending, pending, ok, ok, notok, ok, ok}
		var later []store.Probe
		for i, st := range states {
			later = append(later, b.probe("api", 1+i, st))
		}
		for _, p := range later {
			w.Add(p)
		}
		// Each timeout halves the batch: 8, 4, 2, 1. Whatever the first
		// attempt held, the fourth holds one probe.
		for attempt := 1; attempt <= attempts; attempt++ {
			f := awaitFlush(t, flushes)
			if f.Err == nil {
				t.Fatalf("attempt %d wrote %d probes through the lock", attempt, f.Probes)
			}
			if !errors.Is(f.Err, context.DeadlineExceeded) && !pgconn.Timeout(f.Err) {
				t.Fatalf("attempt %d: %v, want a timeout", attempt, f.Err)
			}
			if max := 8 >> (attempt - 1); f.Probes > max {
				t.Fatalf("attempt %d wrote a batch of %d, want at most %d", attempt, f.Probes, max)
			}
		}
		// An abandoned write must not leave its session queued on the
		// lock: a long lock would use up the server's connections one
		// retry at a time.
		storetest.WaitFor(t, "abandoned writes to leave the lock queue", func() bool { return lockWaiters(t, b.store) == 0 })
		if w.LastError() == nil {
			t.Fatal("LastError = nil after writes timed out")
		}

		began := time.Now()
		release()
		resumeRun()
		storetest.WaitFor(t, "the backlog written", func() bool { return w.Written() == uint64(len(later)) && w.Buffered() == 0 })
		if w.LastError() != nil || w.Dropped() != 0 {
			t.Fatalf("after the lock: last error %v, dropped %d", w.LastError(), w.Dropped())
		}
		t.Logf("%d writes timed out; %d probes written %v after the lock went", attempts, len(later), time.Since(began).Round(time.Millisecond))
		checkStored(t, b, slices.Concat(first, later), map[string]int{"api": 2})
	})

	// Shutting down while the database is locked ends: the write in flight
	// is canceled, the last try is bounded, and what it could not write is
	// counted as dropped.
	t.Run("ShutdownWhileLockedEnds", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{
			FlushInterval: 5 * time.Millisecond,
			// The write that meets the lock waits there until shutdown
			// cancels it, however slow the machine: a short deadline
			// would have it time out, leave the lock queue and back off,
			// and the test would have to catch it between tries.
			WriteTimeout:    time.Hour,
			ShutdownTimeout: 300 * time.Millisecond,
		})
		stop := runWriter(t, w)
		lockSiteState(t, b.store)
		probes := b.probes("api", 0, ok, notok, ok)
		for _, p := range probes {
			w.Add(p)
		}
		storetest.WaitFor(t, "a write waiting on the lock", func() bool { return lockWaiters(t, b.store) == 1 })
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(time.Minute):
			t.Fatal("Run did not return at shutdown while the database was locked")
		}
		if w.Written() != 0 || w.Dropped() != uint64(len(probes)) || w.Buffered() != 0 {
			t.Fatalf("after shutdown: written %d dropped %d buffered %d; want 0, %d, 0", w.Written(), w.Dropped(), w.Buffered(), len(probes))
		}
		storetest.WaitFor(t, "the canceled writes to leave the lock queue", func() bool { return lockWaiters(t, b.store) == 0 })
	})
}

// probe is one probe of slug, minute minutes after the bundle's base.
func (b testBundle) probe(slug string, minute int, st store.State) store.Probe {
	return store.Probe{
		SiteID: b.ids[slug], At: b.base.Add(time.Duration(minute) * time.Minute), State: st,
		HTTPStatus: 200, Latency: 12 * time.Millisecond, TTFB: 8 * time.Millisecond,
		Reason: fmt.Sprintf("%s %d", slug, minute),
	}
}

// flapping is a state sequence that changes often, with runs of one, two
// and three, so that confirm has something to ignore and something to keep.
func flapping(i int) store.State {
	return []store.State{
		store.StateOK, store.StateNotOK, store.StateOK, store.StateOK, store.StateNotOK,
		store.StateNotOK, store.StateNotOK, store.StatePending, store.StateOK,
	}[(i/2)%9]
}

// runWriter runs w until the returned stop is called (or the test ends).
func runWriter(t *testing.T, w *store.Writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func awaitFlush(t *testing.T, flushes <-chan store.Flush) store.Flush {
	t.Helper()
	select {
	case f := <-flushes:
		return f
	case <-time.After(time.Minute):
		t.Fatal("no write attempt within a minute")
		return store.Flush{}
	}
}

// lockSiteState takes site_state in ACCESS EXCLUSIVE mode on a connection of
// its own and holds it, in an open transaction, until release is called (or
// the test ends). The writer's walnut_apply_probes and every reader of the
// board wait on it.
func lockSiteState(t *testing.T, s *store.Store) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, s.Pool().Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE site_state IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		if err := tx.Rollback(ctx); err != nil {
			t.Errorf("release the lock: %v", err)
		}
		conn.Close(ctx)
	}
	t.Cleanup(release)
	return release
}

// lockWaiters is how many sessions of the test's database wait for a lock
// on site_state.
func lockWaiters(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	err := s.Pool().QueryRow(context.Background(), `
		SELECT count(*) FROM pg_locks
		 WHERE NOT granted AND relation = 'site_state'::regclass
		   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkStored compares the probes table with want (each probe once, none
// lost, none twice) and each site's transitions and state with what the
// state machine makes of want, given each site's confirm.
func checkStored(t *testing.T, b testBundle, want []store.Probe, confirm map[string]int) {
	t.Helper()
	ctx := context.Background()
	for slug, id := range b.ids {
		var seq []store.Probe
		for _, p := range want {
			if p.SiteID == id {
				seq = append(seq, p)
			}
		}
		site, err := b.store.SiteGetBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := b.store.ProbeListBySite(ctx, site, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(seq) {
			t.Fatalf("site %s: %d probes stored, want %d", slug, len(stored), len(seq))
		}
		for i, p := range stored { // newest first
			if w := seq[len(seq)-1-i]; !p.At.Equal(w.At) || p.State != w.State {
				t.Fatalf("site %s: stored probe %d is %s at %v, want %s at %v", slug, i, p.State, p.At, w.State, w.At)
			}
		}

		wantTrs, wantState := replay(seq, confirm[slug], b.base)
		trs, err := b.store.TransitionListBySite(ctx, id, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := len(trs) - 1; i >= 0; i-- {
			got = append(got, fmt.Sprintf("%s>%s@%s", trs[i].From, trs[i].To, trs[i].At.Sub(b.base)))
		}
		if !slices.Equal(got, wantTrs) {
			t.Fatalf("site %s transitions\n got %v\nwant %v", slug, got, wantTrs)
		}
		if site.State != wantState {
			t.Fatalf("site %s: state %s, want %s", slug, site.State, wantState)
		}
	}
}

// replay is the state machine of walnut_apply_probes, written out again: a
// site changes when confirm probes in a row agree, dated from the first of
// them.
func replay(seq []store.Probe, confirm int, base time.Time) (transitions []string, state store.State) {
	state = store.StateUnknown
	var last store.State
	var streak int
	var start time.Time
	for _, p := range seq {
		if p.State == last && streak > 0 {
			streak++
		} else {
			last, streak, start = p.State, 1, p.At
		}
		if last != state && streak >= confirm {
			transitions = append(transitions, fmt.Sprintf("%s>%s@%s", state, last, start.Sub(base)))
			state = last
		}
	}
	return transitions, state
}
