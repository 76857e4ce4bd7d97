package checker

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

type checkerBundle struct {
	checker *Checker
	sink    *countSink
	srv     string
	hits    map[string]*atomic.Int64 // requests per path
	errs    *atomic.Int64
	cancel  context.CancelFunc
	done    chan struct{} // closed when Run returns
}

// setupChecker runs a Checker over sites made from the server's URL, probing
// every few milliseconds with stagger off.
func setupChecker(t *testing.T, sites func(srv string) []Site) *checkerBundle {
	t.Helper()
	b := &checkerBundle{sink: newCountSink(), hits: map[string]*atomic.Int64{}, done: make(chan struct{})}
	for _, p := range []string{"/a", "/b", "/b2", "/c"} {
		b.hits[p] = new(atomic.Int64)
	}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, ok := b.hits[r.URL.Path]; ok {
			n.Add(1)
		}
	}), false)
	b.srv = srv.URL
	logger, errs := testLogger(t)
	b.errs = errs
	b.checker = New(b.sink, logger, Options{StaggerDisabled: true})

	ctx, cancel := context.WithCancel(t.Context())
	b.cancel = cancel
	go func() {
		defer close(b.done)
		b.checker.Run(ctx, sites(srv.URL))
	}()
	t.Cleanup(func() {
		cancel()
		receive(t, b.done, "Run to return")
	})
	return b
}

func site(id int32, slug, url string) Site {
	return Site{ID: id, Slug: slug, URL: url, RedactedURL: url, Interval: 2 * time.Millisecond}
}

func TestChecker(t *testing.T) {
	t.Parallel()

	t.Run("RunProbesEverySiteAndStops", func(t *testing.T) {
		t.Parallel()
		b := setupChecker(t, func(srv string) []Site {
			return []Site{site(1, "a", srv+"/a"), site(2, "b", srv+"/b")}
		})
		b.sink.waitCount(t, 1, 2)
		b.sink.waitCount(t, 2, 2)

		b.cancel()
		receive(t, b.done, "Run to return after cancel")
		if n := b.errs.Load(); n != 0 {
			t.Errorf("%d error logs for a clean shutdown, want none", n)
		}
	})

	t.Run("DuplicateSlugRunsOnce", func(t *testing.T) {
		t.Parallel()
		b := setupChecker(t, func(srv string) []Site {
			return []Site{site(1, "a", srv+"/a"), site(9, "a", srv+"/b")}
		})
		b.sink.waitCount(t, 1, 3)
		if n := b.sink.count(9); n != 0 {
			t.Errorf("the duplicate ran %d probes, want none", n)
		}
		b.checker.mu.Lock()
		n := len(b.checker.runners)
		b.checker.mu.Unlock()
		if n != 1 {
			t.Errorf("%d runners, want 1", n)
		}
	})

	t.Run("UpdateAddsRemovesAndRestarts", func(t *testing.T) {
		t.Parallel()
		b := setupChecker(t, func(srv string) []Site {
			return []Site{site(1, "a", srv+"/a"), site(2, "b", srv+"/b"), site(3, "c", srv+"/c")}
		})
		for id := int32(1); id <= 3; id++ {
			b.sink.waitCount(t, id, 1)
		}
		runnerOf := func(slug string) *running {
			b.checker.mu.Lock()
			defer b.checker.mu.Unlock()
			return b.checker.runners[slug]
		}
		keptC := runnerOf("c")

		// a goes, b moves to /b2, c stays as it was, d arrives.
		b.checker.Update([]Site{
			site(2, "b", b.srv+"/b2"),
			site(3, "c", b.srv+"/c"),
			site(4, "d", b.srv+"/c"),
		})
		// Update has waited for a's runner and b's old runner to exit. (Their
		// last requests may still reach the server; their probes were
		// dropped.)
		removedCount := b.sink.count(1)

		b.sink.waitCount(t, 4, 2)
		b.sink.waitCount(t, 2, b.sink.count(2)+2)
		b.sink.waitCount(t, 3, b.sink.count(3)+2)

		if n := b.sink.count(1); n != removedCount {
			t.Errorf("removed site a probed %d more times after Update returned", n-removedCount)
		}
		if n := b.hits["/b2"].Load(); n == 0 {
			t.Error("changed site b never probed its new URL")
		}
		if runnerOf("c") != keptC {
			t.Error("unchanged site c got a new runner")
		}
		if runnerOf("a") != nil {
			t.Error("removed site a still has a runner")
		}
	})

	t.Run("UpdateBeforeRunIsIgnored", func(t *testing.T) {
		t.Parallel()
		logger, _ := testLogger(t)
		c := New(newCountSink(), logger, Options{})
		c.Update([]Site{site(1, "a", "http://127.0.0.1:1/")})
		if len(c.runners) != 0 {
			t.Errorf("%d runners after Update before Run, want none", len(c.runners))
		}
	})

	t.Run("UpdateAfterStopIsIgnored", func(t *testing.T) {
		t.Parallel()
		b := setupChecker(t, func(srv string) []Site { return []Site{site(1, "a", srv+"/a")} })
		b.sink.waitCount(t, 1, 1)
		b.cancel()
		receive(t, b.done, "Run to return after cancel")
		b.checker.Update([]Site{site(2, "b", b.srv+"/b")})
		if len(b.checker.runners) != 0 {
			t.Errorf("%d runners after Update on a stopped checker, want none", len(b.checker.runners))
		}
		if n := b.hits["/b"].Load(); n != 0 {
			t.Errorf("a stopped checker probed a new site %d times", n)
		}
	})
}
