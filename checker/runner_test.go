package checker

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

type runnerBundle struct {
	srv     string // the probed server's URL
	sink    chanSink
	backoff chan int // attempts passed to Backoff
	errs    *atomic.Int64
}

// setupRunner starts a Runner for a site probing a fresh server every
// millisecond, stagger off, backoff recorded and zero. It stops the runner,
// and waits for it, when the test ends.
func setupRunner(t *testing.T, site func(srv string) Site, sink Sink) *runnerBundle {
	t.Helper()
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), false)
	b := &runnerBundle{srv: srv.URL, sink: newChanSink(t), backoff: make(chan int, 16)}
	if sink == nil {
		sink = b.sink
	}
	logger, errs := testLogger(t)
	b.errs = errs
	s := site(srv.URL)
	if s.Interval == 0 {
		s.Interval = time.Millisecond
	}
	r := NewRunner(s, sink, logger, Options{
		StaggerDisabled: true,
		Backoff: func(attempt int) time.Duration {
			select {
			case b.backoff <- attempt:
			default: // the test has seen enough
			}
			return 0
		},
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		receive(t, done, "the runner to stop")
	})
	return b
}

func TestRunner(t *testing.T) {
	t.Parallel()

	t.Run("ProbesEveryInterval", func(t *testing.T) {
		t.Parallel()
		b := setupRunner(t, func(srv string) Site { return Site{ID: 3, Slug: "api", URL: srv} }, nil)
		for range 3 {
			if p := b.sink.next(t); p.State != store.StateOK || p.SiteID != 3 {
				t.Fatalf("probe = %+v, want ok for site 3", p)
			}
		}
	})

	t.Run("KeepsProbingAfterRecipePanic", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		rec := recipeFunc(func(context.Context, *recipes.Response, recipes.FetchFunc) recipes.Verdict {
			if calls.Add(1) == 1 {
				panic("recipe bug with SECRET")
			}
			return recipes.Verdict{State: recipes.OK}
		})
		b := setupRunner(t, func(srv string) Site {
			return Site{ID: 1, Slug: "ci", URL: srv, Recipe: rec, Secrets: []string{"SECRET"}}
		}, nil)

		p := b.sink.next(t)
		if p.State != store.StateNotOK || p.Reason != "checker crashed: recipe bug with ***" || p.HTTPStatus != 200 {
			t.Errorf("first probe = %+v, want notok, checker crashed, scrubbed", p)
		}
		for range 2 {
			if p := b.sink.next(t); p.State != store.StateOK {
				t.Errorf("probe after the panic = %+v, want ok", p)
			}
		}
		select {
		case a := <-b.backoff:
			t.Errorf("backoff attempt %d: a recipe panic must not restart the runner", a)
		default:
		}
	})

	t.Run("RestartsAfterLoopPanic", func(t *testing.T) {
		t.Parallel()
		sink := &panicOnceSink{chanSink: newChanSink(t)}
		b := setupRunner(t, func(srv string) Site { return Site{ID: 2, Slug: "shop", URL: srv} }, sink)

		p := sink.next(t)
		if p.State != store.StateNotOK || !strings.HasPrefix(p.Reason, "checker crashed: sink exploded") || p.SiteID != 2 {
			t.Errorf("crash probe = %+v, want notok, checker crashed: sink exploded", p)
		}
		if a := receive(t, b.backoff, "a restart"); a != 1 {
			t.Errorf("first restart attempt = %d, want 1", a)
		}
		for range 2 {
			if p := sink.next(t); p.State != store.StateOK {
				t.Errorf("probe after the restart = %+v, want ok", p)
			}
		}
		if b.errs.Load() == 0 {
			t.Error("the crash was not logged as an error")
		}
	})

	t.Run("BackoffGrowsWhileCrashing", func(t *testing.T) {
		t.Parallel()
		sink := &panicOnceSink{chanSink: newChanSink(t), always: true}
		b := setupRunner(t, func(srv string) Site { return Site{ID: 4, Slug: "flaky", URL: srv} }, sink)
		for want := 1; want <= 3; want++ {
			if a := receive(t, b.backoff, "a restart"); a != want {
				t.Fatalf("restart attempt = %d, want %d", a, want)
			}
		}
	})

	t.Run("ShutdownLogsNoError", func(t *testing.T) {
		t.Parallel()
		var errs *atomic.Int64
		t.Run("Run", func(t *testing.T) {
			b := setupRunner(t, func(srv string) Site { return Site{Slug: "quiet", URL: srv} }, nil)
			errs = b.errs
			b.sink.next(t)
		}) // the subtest's cleanup cancels the runner and waits for it
		if n := errs.Load(); n != 0 {
			t.Errorf("%d error logs for a clean shutdown, want none", n)
		}
	})
}

// panicOnceSink panics on its first Add, standing for a bug in the loop
// outside the recipe. When always, it panics on every probe and drops the
// crash probes.
type panicOnceSink struct {
	chanSink
	always bool
	calls  atomic.Int64
}

func (s *panicOnceSink) Add(p store.Probe) {
	if s.always {
		if p.State == store.StateOK {
			panic("sink exploded")
		}
		return
	}
	if s.calls.Add(1) == 1 {
		panic("sink exploded")
	}
	s.chanSink.Add(p)
}

func TestNextDue(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		slug     string
		interval time.Duration
	}{
		"API":       {"api", 30 * time.Second},
		"Shop":      {"shop", 30 * time.Second},
		"Short":     {"ci", time.Second},
		"Long":      {"nightly", time.Hour},
		"EmptySlug": {"", 30 * time.Second},
	}
	now := time.Date(2026, 11, 25, 14, 2, 7, 123456789, time.UTC)
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			first := NextDue(tt.slug, tt.interval, now)
			if d := first.Sub(now); d < 0 || d >= tt.interval {
				t.Errorf("NextDue(%q, %v) is %v after now, want within [0, interval)", tt.slug, tt.interval, d)
			}
			// The first probe falls on the site's phase of the wall clock,
			// whenever the process starts: a later start waits less, by as
			// much as it is later.
			if got, want := time.Duration(first.UnixNano()%int64(tt.interval)), sitePhase(tt.slug, tt.interval); got != want {
				t.Errorf("first probe at phase %v, want %v", got, want)
			}
			later := now.Add(tt.interval / 3)
			if got := NextDue(tt.slug, tt.interval, later); !got.Equal(first) && !got.Equal(first.Add(tt.interval)) {
				t.Errorf("starting %v later, first probe at %v, want %v or one interval after", tt.interval/3, got, first)
			}
			// A due instant is its own next due time, so a probe counted
			// against the grid is never pushed to the following tick.
			if got := NextDue(tt.slug, tt.interval, first); !got.Equal(first) {
				t.Errorf("NextDue at a due time %v = %v, want the same instant", first, got)
			}
		})
	}

	if sitePhase("api", time.Minute) == sitePhase("shop", time.Minute) {
		t.Error("two slugs got the same phase; the spread is not per slug")
	}
	if got := NextDue("api", 0, now); !got.Equal(now) {
		t.Errorf("NextDue with no interval = %v, want now (%v)", got, now)
	}
	r := NewRunner(Site{Slug: "api", Interval: time.Minute}, newCountSink(), nil, Options{StaggerDisabled: true})
	if d := r.stagger(); d != 0 {
		t.Errorf("stagger with StaggerDisabled = %v, want 0", d)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		attempt int
		want    time.Duration
	}{
		"Zero":   {0, time.Second},
		"First":  {1, time.Second},
		"Second": {2, 2 * time.Second},
		"Third":  {3, 4 * time.Second},
		"Sixth":  {6, 32 * time.Second},
		"Capped": {7, time.Minute},
		"Huge":   {1000, time.Minute},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := defaultBackoff(tt.attempt); got != tt.want {
				t.Errorf("defaultBackoff(%d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
}
