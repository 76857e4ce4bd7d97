package checker

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// TestProbesCarryTheirSlug: every probe the checker hands on names its
// site's slug, a runner's, a crash's and a heartbeat call's alike, so that
// what reads them on the way to the writer needs no map of ids to slugs.
func TestProbesCarryTheirSlug(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), false)
	sink := &lastSink{}
	r := NewRunner(Site{ID: 1, Slug: "api", URL: srv.URL, Timeout: waitTimeout}, sink, nil, Options{})
	if !r.probeAndSend(probeCtx(t)) {
		t.Fatal("no probe")
	}
	if sink.p.Slug != "api" {
		t.Errorf("probe slug %q, want api", sink.p.Slug)
	}
	r.recordCrash("boom", nil)
	if sink.p.Slug != "api" || sink.p.State != store.StateNotOK {
		t.Errorf("crash probe {%s %q}, want notok for api", sink.p.State, sink.p.Slug)
	}

	hsink := newCountSink()
	hbs := NewHeartbeats(hsink, nil, nil, HeartbeatOptions{})
	site := heartbeatSite(time.Minute, 10*time.Second)
	hbs.SetSites([]Site{site})
	if _, err := hbs.Receive(context.Background(), site.Slug, testToken, Report{}); err != nil {
		t.Fatal(err)
	}
	hsink.waitCount(t, site.ID, 1)
	hsink.mu.Lock()
	defer hsink.mu.Unlock()
	if got := hsink.last[site.ID].Slug; got != site.Slug {
		t.Errorf("heartbeat probe slug %q, want %q", got, site.Slug)
	}
}
