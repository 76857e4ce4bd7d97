package checker

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

// lastSink keeps the last probe; probeOnce runs on the test's goroutine.
type lastSink struct{ p store.Probe }

func (s *lastSink) Add(p store.Probe) { s.p = p }

// TestMaxPending drives a runner's probes one by one on an injected clock:
// a run of pending probes longer than MaxPending turns notok, and any other
// verdict starts the count again.
func TestMaxPending(t *testing.T) {
	t.Parallel()

	type step struct {
		after  time.Duration // clock advance before this probe
		state  recipes.State // what the recipe says
		want   store.State   // the probe's state
		reason string
	}
	const waiting = "CircleCI workflow deploy running"
	tests := map[string]struct {
		max   time.Duration
		steps []step
	}{
		"TurnsNotOKAfterTheLimit": {max: 2 * time.Hour, steps: []step{
			{0, recipes.Pending, store.StatePending, waiting},
			{time.Hour, recipes.Pending, store.StatePending, waiting},
			{time.Hour, recipes.Pending, store.StatePending, waiting}, // exactly 2h: not longer
			{10*time.Minute + 20*time.Second, recipes.Pending, store.StateNotOK, "pending for 2h10m"},
			{50 * time.Minute, recipes.Pending, store.StateNotOK, "pending for 3h"},
		}},
		"OKResetsTheCount": {max: time.Hour, steps: []step{
			{0, recipes.Pending, store.StatePending, waiting},
			{50 * time.Minute, recipes.Pending, store.StatePending, waiting},
			{5 * time.Minute, recipes.OK, store.StateOK, ""},
			{5 * time.Minute, recipes.Pending, store.StatePending, waiting},
			{55 * time.Minute, recipes.Pending, store.StatePending, waiting},
			{6 * time.Minute, recipes.Pending, store.StateNotOK, "pending for 1h1m"},
		}},
		"NotOKResetsTheCount": {max: time.Hour, steps: []step{
			{0, recipes.Pending, store.StatePending, waiting},
			{2 * time.Hour, recipes.NotOK, store.StateNotOK, "failed"},
			{time.Minute, recipes.Pending, store.StatePending, waiting},
		}},
		"NoLimit": {max: 0, steps: []step{
			{0, recipes.Pending, store.StatePending, waiting},
			{100 * time.Hour, recipes.Pending, store.StatePending, waiting},
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), false)
			var state recipes.State
			rec := recipeFunc(func(context.Context, *recipes.Response, recipes.FetchFunc) recipes.Verdict {
				switch state {
				case recipes.Pending:
					return recipes.Verdict{State: state, Reason: waiting}
				case recipes.NotOK:
					return recipes.Verdict{State: state, Reason: "failed"}
				}
				return recipes.Verdict{State: state}
			})
			now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
			sink := &lastSink{}
			r := NewRunner(Site{ID: 1, Slug: "ci", URL: srv.URL, Recipe: rec, MaxPending: tt.max}, sink, nil,
				Options{Now: func() time.Time { return now }})
			for i, s := range tt.steps {
				now = now.Add(s.after)
				state = s.state
				if !r.probeAndSend(probeCtx(t)) {
					t.Fatalf("step %d: no probe", i)
				}
				if sink.p.State != s.want || sink.p.Reason != s.reason {
					t.Errorf("step %d: probe {%s %q}, want {%s %q}", i, sink.p.State, sink.p.Reason, s.want, s.reason)
				}
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		40 * time.Second:                              "40s",
		90 * time.Second:                              "2m",
		45 * time.Minute:                              "45m",
		2*time.Hour + 10*time.Minute:                  "2h10m",
		2*time.Hour + 10*time.Minute + 29*time.Second: "2h10m",
		3 * time.Hour:                                 "3h",
		26*time.Hour + 5*time.Minute:                  "26h5m",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
