package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

type testBundle struct {
	store *store.Store
	ids   map[string]int32
	base  time.Time
}

func setup(t *testing.T, specs ...store.SiteSpec) testBundle {
	t.Helper()
	pool := storetest.Pool(t)
	s := store.New(pool)
	if len(specs) == 0 {
		specs = []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://example.com/", Interval: time.Minute, Confirm: 1}}
	}
	ids, err := s.SiteSync(context.Background(), specs)
	if err != nil {
		t.Fatalf("sync sites: %v", err)
	}
	return testBundle{store: s, ids: ids, base: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

// probes builds one probe per state, a minute apart from the bundle's base.
func (b testBundle) probes(slug string, from int, states ...store.State) []store.Probe {
	out := make([]store.Probe, len(states))
	for i, st := range states {
		out[i] = store.Probe{
			SiteID: b.ids[slug], At: b.base.Add(time.Duration(from+i) * time.Minute), State: st,
			HTTPStatus: 200, Latency: 12 * time.Millisecond, TTFB: 8 * time.Millisecond,
			Reason: fmt.Sprintf("probe %d", from+i),
		}
	}
	return out
}

func TestWriteProbes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const ok, notok, pending = store.StateOK, store.StateNotOK, store.StatePending

	t.Run("ConfirmOneRecordsEveryChange", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		n, err := b.store.WriteProbes(ctx, b.probes("api", 0, ok, ok, notok, notok, ok, pending))
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 { // unknown→ok, ok→notok, notok→ok, ok→pending
			t.Fatalf("transitions = %d, want 4", n)
		}
		trs, err := b.store.TransitionListBySite(ctx, b.ids["api"], 10)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for i := len(trs) - 1; i >= 0; i-- {
			got += fmt.Sprintf("%s>%s@%d ", trs[i].From, trs[i].To, int(trs[i].At.Sub(b.base).Minutes()))
		}
		want := "unknown>ok@0 ok>notok@2 notok>ok@4 ok>pending@5 "
		if got != want {
			t.Fatalf("transitions\n got %s\nwant %s", got, want)
		}
		site, err := b.store.SiteGetBySlug(ctx, "api")
		if err != nil {
			t.Fatal(err)
		}
		if site.State != pending || !site.Since.Equal(b.base.Add(5*time.Minute)) || site.Reason != "probe 5" {
			t.Fatalf("site = %s since %v reason %q", site.State, site.Since, site.Reason)
		}
	})

	t.Run("ConfirmTwoNeedsTwoAgreeingProbes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, store.SiteSpec{Slug: "api", Name: "API", URL: "https://x/", Interval: time.Minute, Confirm: 2})
		// One bad probe between good ones is noise, not an outage.
		if _, err := b.store.WriteProbes(ctx, b.probes("api", 0, ok, ok, notok, ok)); err != nil {
			t.Fatal(err)
		}
		site, _ := b.store.SiteGetBySlug(ctx, "api")
		if site.State != ok {
			t.Fatalf("after a single notok, state = %s, want ok", site.State)
		}
		// Two in a row, written in separate batches, are an outage dated
		// from the first of them.
		for i, st := range []store.State{notok, notok} {
			if _, err := b.store.WriteProbes(ctx, b.probes("api", 4+i, st)); err != nil {
				t.Fatal(err)
			}
			site, _ = b.store.SiteGetBySlug(ctx, "api")
			if want := []store.State{ok, notok}[i]; site.State != want {
				t.Fatalf("after %d notok probes, state = %s, want %s", i+1, site.State, want)
			}
		}
		if !site.Since.Equal(b.base.Add(4 * time.Minute)) {
			t.Fatalf("since = %v, want the first failing probe at +4m", site.Since)
		}
		trs, _ := b.store.TransitionListBySite(ctx, b.ids["api"], 10)
		if len(trs) != 2 || trs[0].From != ok || trs[0].To != notok {
			t.Fatalf("transitions = %+v, want unknown>ok then ok>notok", trs)
		}
	})

	t.Run("LateProbeDoesNotRewindState", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := b.store.WriteProbes(ctx, b.probes("api", 5, ok)); err != nil {
			t.Fatal(err)
		}
		n, err := b.store.WriteProbes(ctx, b.probes("api", 1, notok))
		if err != nil {
			t.Fatal(err)
		}
		site, _ := b.store.SiteGetBySlug(ctx, "api")
		if n != 0 || site.State != ok {
			t.Fatalf("late notok probe: %d transitions, state %s; want 0 and ok", n, site.State)
		}
		site, _ = b.store.SiteGetBySlug(ctx, "api")
		probes, _ := b.store.ProbeListBySite(ctx, site, 10)
		if len(probes) != 2 {
			t.Fatalf("stored probes = %d, want 2: a late probe is still history", len(probes))
		}
	})

	t.Run("TwoWritersRecordEachChangeOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Two writers race to record the same outage and the same recovery;
		// each change must be recorded exactly once.
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seq := []store.State{ok, notok, notok, ok}
				for i, st := range seq {
					// Writer w writes minute i*2+w: the two streams interleave.
					p := b.probes("api", i*2+w, st)
					if _, err := b.store.WriteProbes(ctx, p); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		trs, _ := b.store.TransitionListBySite(ctx, b.ids["api"], 10)
		var changes []string
		for i := len(trs) - 1; i >= 0; i-- {
			changes = append(changes, string(trs[i].From)+">"+string(trs[i].To))
		}
		// Whatever the interleaving, the applied sequence only ever moves
		// ok→notok→ok, so a change recorded twice would show as a repeat.
		for i := 1; i < len(changes); i++ {
			if changes[i] == changes[i-1] {
				t.Fatalf("change recorded twice in a row: %v", changes)
			}
		}
		for i, tr := range trs[:len(trs)-1] {
			if tr.From != trs[i+1].To {
				t.Fatalf("transitions do not chain: %v", changes)
			}
		}
		var recorded int
		pool := b.store.Pool()
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM probes`).Scan(&recorded); err != nil {
			t.Fatal(err)
		}
		if recorded != 8 {
			t.Fatalf("probes stored = %d, want 8", recorded)
		}
	})

	t.Run("RetiredSiteKeepsHistory", func(t *testing.T) {
		t.Parallel()
		b := setup(t,
			store.SiteSpec{Slug: "a", Name: "A", URL: "https://a/", Interval: time.Minute},
			store.SiteSpec{Slug: "b", Name: "B", URL: "https://b/", Interval: time.Minute})
		if _, err := b.store.WriteProbes(ctx, b.probes("b", 0, notok)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.SiteSync(ctx, []store.SiteSpec{{Slug: "a", Name: "A", URL: "https://a/", Interval: time.Minute}}); err != nil {
			t.Fatal(err)
		}
		active, _ := b.store.SiteListActive(ctx)
		if len(active) != 1 || active[0].Slug != "a" {
			t.Fatalf("active sites = %+v, want only a", active)
		}
		retired, err := b.store.SiteGetBySlug(ctx, "b")
		if err != nil || !retired.Retired {
			t.Fatalf("retired site b: %+v, %v", retired, err)
		}
		probes, _ := b.store.ProbeListBySite(ctx, retired, 10)
		if len(probes) != 1 {
			t.Fatalf("retired site lost its probes: %d", len(probes))
		}
	})
}

func TestWriter(t *testing.T) {
	t.Parallel()

	t.Run("FlushesOnShutdown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A flush interval far longer than the test: only shutdown can write.
		w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		for _, p := range b.probes("api", 0, store.StateOK, store.StateOK, store.StateNotOK) {
			w.Add(p)
		}
		cancel()
		<-done
		if w.Written() != 3 {
			t.Fatalf("written = %d, want 3", w.Written())
		}
		site, _ := b.store.SiteGetBySlug(context.Background(), "api")
		if site.State != store.StateNotOK {
			t.Fatalf("state = %s, want notok", site.State)
		}
	})

	// A probe added once Run has stopped taking them is counted, never
	// left unseen in the intake.
	t.Run("AddAfterShutdownIsDropped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		cancel()
		<-done
		const n = 100
		for _, p := range b.probes("api", 0, slices.Repeat([]store.State{store.StateOK}, n)...) {
			w.Add(p)
		}
		if w.Dropped() != n || w.Buffered() != 0 || w.Written() != 0 {
			t.Fatalf("dropped %d, buffered %d, written %d; want %d, 0, 0", w.Dropped(), w.Buffered(), w.Written(), n)
		}
	})

	// A COMMIT the server carried out but never answered: the batch is in
	// the database, and writing it again would store it twice.
	t.Run("UnansweredCommitNotWrittenTwice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		flushed := make(chan store.Flush, 10)
		w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{
			FlushInterval: time.Hour, BatchSize: 4,
			RetryBackoff: func(int) time.Duration { return 0 },
			FlushedFunc:  func(f store.Flush) { flushed <- f },
		})
		store.LoseCommitAnswers(w, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		for _, p := range b.probes("api", 0, store.StateOK, store.StateOK, store.StateNotOK, store.StateNotOK) {
			w.Add(p)
		}
		select {
		case f := <-flushed:
			if f.Err != nil || f.Probes != 4 {
				t.Fatalf("first flush: %d probes, error %v; want 4 written", f.Probes, f.Err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the batch was not written")
		}
		cancel()
		<-done
		var rows int
		if err := b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM probes`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 4 || w.Written() != 4 || w.Dropped() != 0 {
			t.Fatalf("%d rows, written %d, dropped %d; want 4, 4, 0", rows, w.Written(), w.Dropped())
		}
	})

	t.Run("FlushesFullBatchAtOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		flushed := make(chan int, 10)
		w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{
			FlushInterval: time.Hour, BatchSize: 4,
			FlushedFunc: func(f store.Flush) { flushed <- f.Probes },
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go w.Run(ctx)
		for _, p := range b.probes("api", 0, store.StateOK, store.StateOK, store.StateOK, store.StateOK) {
			w.Add(p)
		}
		select {
		case n := <-flushed:
			if n != 4 {
				t.Fatalf("batch of %d, want 4", n)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a full batch was not written before the flush interval")
		}
	})
}

// TestProbeRowSize holds the schema to its budget: a probe row with its
// share of the index must cost well under 100 bytes on disk.
func TestProbeRowSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	if _, err := b.store.ProbePartitionsEnsure(ctx, b.base, 1); err != nil {
		t.Fatal(err)
	}
	const n = 20000
	batch := make([]store.Probe, 0, 1000)
	for i := range n {
		batch = append(batch, store.Probe{
			SiteID: b.ids["api"], At: b.base.Add(time.Duration(i) * time.Second / 10), State: store.StateOK,
			HTTPStatus: 200, Latency: 123456 * time.Microsecond, TTFB: 100 * time.Millisecond,
			DNS: 2 * time.Millisecond, Connect: 10 * time.Millisecond, TLS: 30 * time.Millisecond,
		})
		if len(batch) == cap(batch) {
			if _, err := b.store.WriteProbes(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var heap, index int64
	err := b.store.Pool().QueryRow(ctx, `
		SELECT pg_relation_size($1::regclass),
		       (SELECT sum(pg_relation_size(indexrelid)) FROM pg_index WHERE indrelid = $1::regclass)`, "probes_"+b.base.Format("20060102")).Scan(&heap, &index)
	if err != nil {
		t.Fatal(err)
	}
	perRow := float64(heap+index) / n
	t.Logf("probe row: %.1f bytes (heap %.1f, index %.1f)", perRow, float64(heap)/n, float64(index)/n)
	// A raw row lives two days (then it is packed, see TestBlockRoundTrip
	// and BENCHMARKS.md "Storage"), so its (site_id, at) index may cost
	// what a 30-day row could not.
	if perRow >= 110 {
		t.Fatalf("a probe costs %.1f bytes with its index, want under 110", perRow)
	}
}

func TestWriterLogsTransitions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var logs storetest.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	w := store.NewWriter(b.store, logger, store.WriterOptions{FlushInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for _, p := range b.probes("api", 0, store.StateOK, store.StateNotOK, store.StateNotOK) {
		w.Add(p)
	}
	cancel()
	<-done
	out := logs.String()
	if n := strings.Count(out, "site changed state"); n != 2 {
		t.Fatalf("%d transition lines, want 2 (unknown>ok, ok>notok):\n%s", n, out)
	}
	if !strings.Contains(out, "site=api from=ok to=notok") || !strings.Contains(out, `reason="probe 1"`) {
		t.Fatalf("transition line lacks site, states or reason:\n%s", out)
	}
}

// TestWriterWithoutLogger: a writer built without a logger logs nothing,
// rather than panicking at the first transition.
func TestWriterWithoutLogger(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := store.NewWriter(b.store, nil, store.WriterOptions{FlushInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for _, p := range b.probes("api", 0, store.StateOK, store.StateNotOK) {
		w.Add(p)
	}
	cancel()
	<-done
	if w.Written() != 2 {
		t.Errorf("%d probes written, want 2", w.Written())
	}
}
