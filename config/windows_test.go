package config

import (
	"testing"
	"time"
)

func TestWindowsUntil(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	once := Maintenance{Sites: []string{"db-*"}, From: time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)}
	// Saturdays 23:00 to Sunday 02:00, New York time.
	weekly := Maintenance{Sites: []string{"api"}, Weekly: &Weekly{Days: []time.Weekday{time.Saturday}, Start: "23:00", End: "02:00", Location: ny}}
	windows := Windows{once, weekly}
	cases := map[string]struct {
		slug string
		at   time.Time
		in   bool
		end  time.Time
	}{
		"one-off, inside":          {"db-main", time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC), true, once.To},
		"one-off, at the end":      {"db-main", once.To, false, time.Time{}},
		"one-off, other site":      {"api", time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC), false, time.Time{}},
		"weekly, saturday night":   {"api", time.Date(2026, 11, 28, 23, 30, 0, 0, ny), true, time.Date(2026, 11, 29, 2, 0, 0, 0, ny)},
		"weekly, past midnight":    {"api", time.Date(2026, 11, 29, 1, 0, 0, 0, ny), true, time.Date(2026, 11, 29, 2, 0, 0, 0, ny)},
		"weekly, sunday afternoon": {"api", time.Date(2026, 11, 29, 13, 0, 0, 0, ny), false, time.Time{}},
		"weekly, friday night":     {"api", time.Date(2026, 11, 27, 23, 30, 0, 0, ny), false, time.Time{}},
	}
	for name, c := range cases {
		end, in := windows.Until(c.slug, c.at)
		if in != c.in || !end.Equal(c.end) {
			t.Errorf("%s: (%v, %v), want (%v, %v)", name, end, in, c.end, c.in)
		}
		if _, active := windows.Active(c.slug, c.at); active != c.in {
			t.Errorf("%s: Active = %v, want %v", name, active, c.in)
		}
	}
}

// TestWindowsReason: a probe of a site in a window reads "maintenance",
// with the window's reason when it has one; other sites, and the same site
// outside the window, keep their own.
func TestWindowsReason(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	ws := Windows{
		{Sites: []string{"billing-*"}, From: at.Add(-time.Hour), To: at.Add(time.Hour), Reason: "database upgrade"},
		{Sites: []string{"web"}, From: at.Add(-time.Hour), To: at.Add(time.Hour)},
	}
	cases := map[string]struct {
		slug   string
		at     time.Time
		reason string
		in     bool
	}{
		"WithReason":    {"billing-eu", at, "maintenance: database upgrade", true},
		"WithoutReason": {"web", at, "maintenance", true},
		"OtherSite":     {"api", at, "", false},
		"AfterTheEnd":   {"billing-eu", at.Add(2 * time.Hour), "", false},
	}
	for name, c := range cases {
		if reason, in := ws.Reason(c.slug, c.at); reason != c.reason || in != c.in {
			t.Errorf("%s: (%q, %v), want (%q, %v)", name, reason, in, c.reason, c.in)
		}
	}
}
