package web

import (
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

func TestRosterAsOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 14, 30, 0, 0, time.Local)
	synced := time.Date(2026, 12, 2, 14, 5, 0, 0, time.Local)
	yesterday := synced.AddDate(0, 0, -1)
	for name, tc := range map[string]struct {
		syncs []store.RosterSync
		want  string
	}{
		"NoSync":    {nil, ""},
		"Healthy":   {[]store.RosterSync{{Source: "pagerduty", SyncedAt: &synced}}, ""},
		"Failing":   {[]store.RosterSync{{Source: "pagerduty", SyncedAt: &synced, Error: "HTTP 500"}}, "as of 14:05"},
		"SinceDays": {[]store.RosterSync{{Source: "pagerduty", SyncedAt: &yesterday, Error: "HTTP 500"}}, "as of Tue 1 Dec 14:05"},
		"NeverGood": {[]store.RosterSync{{Source: "pagerduty", Error: "HTTP 401"}}, "not read from PagerDuty yet"},
	} {
		if got := rosterAsOf(tc.syncs, now); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
