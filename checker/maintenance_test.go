package checker

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// inWindow is a MaintenanceFunc: billing-eu is in a window until 23:00.
func inWindow(slug string, at time.Time) (string, bool) {
	if slug == "billing-eu" && at.Before(time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)) {
		return "maintenance: database upgrade", true
	}
	return "", false
}

// TestMaintenanceTurnsProbesPending: while MaintenanceFunc says a site is
// in a window, its probes are recorded pending with the window's reason,
// whatever the verdict; other sites, and the site after the window, keep
// theirs.
func TestMaintenanceTurnsProbesPending(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}), false)
	now := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	steps := []struct {
		slug   string
		at     time.Time
		state  store.State
		reason string
	}{
		{"billing-eu", now, store.StatePending, "maintenance: database upgrade"},
		{"api", now, store.StateNotOK, "HTTP 503 Service Unavailable"},
		{"billing-eu", now.Add(time.Hour), store.StateNotOK, "HTTP 503 Service Unavailable"},
	}
	for i, s := range steps {
		sink := &lastSink{}
		at := s.at
		r := NewRunner(Site{ID: 1, Slug: s.slug, URL: srv.URL, Timeout: waitTimeout}, sink, nil,
			Options{Now: func() time.Time { return at }, MaintenanceFunc: inWindow})
		if !r.probeAndSend(probeCtx(t)) {
			t.Fatalf("step %d: no probe", i)
		}
		if sink.p.State != s.state || sink.p.Reason != s.reason {
			t.Errorf("step %d (%s): probe {%s %q}, want {%s %q}", i, s.slug, sink.p.State, sink.p.Reason, s.state, s.reason)
		}
	}
}

// TestMaintenanceCoversHeartbeatCalls: a job's call during a window is
// recorded pending "maintenance", though the job said notok; the caller
// still hears the state it reported.
func TestMaintenanceCoversHeartbeatCalls(t *testing.T) {
	t.Parallel()
	sink := newCountSink()
	now := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	hbs := NewHeartbeats(sink, nil, nil, HeartbeatOptions{Now: func() time.Time { return now }, MaintenanceFunc: inWindow})
	site := heartbeatSite(time.Minute, 10*time.Second)
	site.Slug = "billing-eu"
	hbs.SetSites([]Site{site})
	rcpt, err := hbs.Receive(context.Background(), "billing-eu", testToken, Report{State: store.StateNotOK, Reason: "exit 1"})
	if err != nil || rcpt.State != store.StateNotOK {
		t.Fatalf("Receive = %+v, %v", rcpt, err)
	}
	sink.waitCount(t, site.ID, 1)
	sink.mu.Lock()
	p := sink.last[site.ID]
	sink.mu.Unlock()
	if p.State != store.StatePending || p.Reason != "maintenance: database upgrade" {
		t.Errorf("probe {%s %q}, want pending maintenance", p.State, p.Reason)
	}
}
