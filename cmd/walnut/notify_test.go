package main

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/store"
)

type probeRecorder []store.Probe

func (r *probeRecorder) Add(p store.Probe) { *r = append(*r, p) }

func TestMaintenanceSinkShowsPending(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	var slugs atomic.Pointer[map[int32]string]
	slugs.Store(&map[int32]string{1: "billing-eu", 2: "api"})
	var windows atomic.Pointer[config.Windows]
	windows.Store(&config.Windows{{Sites: []string{"billing-*"}, From: at.Add(-time.Hour), To: at.Add(time.Hour), Reason: "database upgrade"}})
	var got probeRecorder
	sink := maintenanceSink{next: &got, slugs: &slugs, windows: &windows}

	sink.Add(store.Probe{SiteID: 1, At: at, State: store.StateNotOK, Reason: "HTTP 503"})
	sink.Add(store.Probe{SiteID: 2, At: at, State: store.StateNotOK, Reason: "HTTP 503"})
	sink.Add(store.Probe{SiteID: 1, At: at.Add(2 * time.Hour), State: store.StateNotOK, Reason: "HTTP 503"})

	want := []struct {
		state  store.State
		reason string
	}{
		{store.StatePending, "maintenance: database upgrade"},
		{store.StateNotOK, "HTTP 503"},
		{store.StateNotOK, "HTTP 503"},
	}
	for i, w := range want {
		if got[i].State != w.state || got[i].Reason != w.reason {
			t.Errorf("probe %d: %s %q, want %s %q", i, got[i].State, got[i].Reason, w.state, w.reason)
		}
	}
}
