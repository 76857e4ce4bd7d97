package notify

import (
	"testing"
	"time"

	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// flips writes a first ok verdict, then n changes: notok, ok, notok, ...
func (b *testBundle) flips(t *testing.T, slug string, n int) {
	t.Helper()
	b.probe(t, slug, store.StateOK, 200, "")
	for i := range n {
		if i%2 == 0 {
			b.probe(t, slug, store.StateNotOK, 500, "HTTP 500")
		} else {
			b.probe(t, slug, store.StateOK, 200, "")
		}
	}
}

// sentTo counts PagerDuty's requests for a site, and the flapping ones
// among them.
func (b *testBundle) sentTo(slug string) (requests, flapping int) {
	reqs, _ := b.pd.snapshot()
	for _, ev := range reqs {
		if ev.DedupKey != "walnut/"+slug {
			continue
		}
		requests++
		if ev.Payload != nil && ev.Payload.Class == string(EventFlapping) {
			flapping++
		}
	}
	return requests, flapping
}

func TestFlappingThresholdsPerSite(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api", "web", "build", "legacy"})
	clock := storetest.NewClock(b.clock)
	start(t, b.dispatcher(t, func(o *Options) {
		o.Now = clock.Now
		// legacy is not in the config's list: it gets these.
		o.DefaultFlapping = Flapping{Changes: 4, Within: time.Hour, Settle: time.Hour}
		o.Flapping = map[string]Flapping{
			// A long settle: the clock passes the other sites' probes
			// too, and api must not settle before the count is taken.
			"api":   {Changes: 3, Within: 30 * time.Minute, Settle: time.Hour},
			"web":   Flapping(config.DefaultFlapping()),
			"build": {Off: true},
		}
	}))

	b.flips(t, "api", 4)
	b.flips(t, "web", 4)
	b.flips(t, "build", 8)
	b.flips(t, "legacy", 4)
	clock.Set(b.clock.Add(time.Second)) // nobody has settled yet
	b.waitIdle(t)

	for _, tt := range []struct {
		slug               string
		requests, flapping int
		why                string
	}{
		{"api", 3, 1, "changes 1-2 sent, the 3rd is the flapping notice, the 4th held"},
		{"web", 4, 0, "4 changes are under the default 5"},
		{"build", 8, 0, "damping is off"},
		{"legacy", 4, 1, "the dispatcher's own default, 4, applies"},
	} {
		if requests, flapping := b.sentTo(tt.slug); requests != tt.requests || flapping != tt.flapping {
			t.Errorf("%s: %d requests with %d flapping, want %d with %d: %s",
				tt.slug, requests, flapping, tt.requests, tt.flapping, tt.why)
		}
	}
}

func TestSetFlappingOnReload(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api"})
	clock := storetest.NewClock(b.clock)
	d := b.dispatcher(t, func(o *Options) {
		o.Now = clock.Now
		o.Flapping = map[string]Flapping{"api": {Off: true}}
	})
	start(t, d)

	b.flips(t, "api", 3)
	b.waitIdle(t)
	if requests, flapping := b.sentTo("api"); requests != 3 || flapping != 0 {
		t.Fatalf("damping off: %d requests with %d flapping, want 3 with none", requests, flapping)
	}

	// A reload turns damping on: 3 changes within 10 minutes, settled
	// after 2 quiet minutes.
	d.SetFlapping(map[string]Flapping{"api": {Changes: 3, Within: 10 * time.Minute, Settle: 2 * time.Minute}})
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503") // no change
	b.probe(t, "api", store.StateOK, 200, "")            // the 4th change in 10 minutes: flapping
	clock.Set(b.clock.Add(time.Minute))                  // not settled yet
	b.waitIdle(t)
	if requests, flapping := b.sentTo("api"); requests != 4 || flapping != 1 {
		t.Fatalf("after the reload: %d requests with %d flapping, want 4 with 1", requests, flapping)
	}

	// The site's own settle time, 2 minutes, not the default 10: the sink
	// hears where the site settled (up; it was last told "flapping"). With
	// the default settle this wait would time out.
	for range 4 {
		b.pd.wait(t)
	}
	clock.Set(b.clock.Add(2*time.Minute + time.Second))
	if err := b.st.NotifyWakeAt(t.Context(), b.ids["api"], SinkPagerDuty, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ev := b.pd.wait(t); ev.Action != "resolve" {
		t.Fatalf("after settling: %s, want resolve", ev.Action)
	}
}
