package config

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Windows are the config's maintenance windows.
type Windows []Maintenance

// Reason says whether a window covers the site with slug at t and, if so,
// what its probes read instead of their verdict: "maintenance", or
// "maintenance: " and the window's reason. Such probes are pending: the
// board shows the site grey, uptime leaves the time out, nobody is paged.
func (ws Windows) Reason(slug string, t time.Time) (string, bool) {
	w, ok := ws.Active(slug, t)
	if !ok {
		return "", false
	}
	if w.Reason == "" {
		return "maintenance", true
	}
	return "maintenance: " + w.Reason, true
}

// Until reports whether a window covers the site at t and, if so, when the
// last such window ends: the dispatcher holds the site's notices until then.
func (ws Windows) Until(slug string, t time.Time) (time.Time, bool) {
	var end time.Time
	found := false
	for _, m := range ws {
		if !m.Matches(slug) {
			continue
		}
		if e, ok := m.endAt(t); ok {
			found = true
			if e.After(end) {
				end = e
			}
		}
	}
	return end, found
}

// Active returns a window that covers the site at t, if any.
func (ws Windows) Active(slug string, t time.Time) (Maintenance, bool) {
	for _, m := range ws {
		if m.Matches(slug) {
			if _, ok := m.endAt(t); ok {
				return m, true
			}
		}
	}
	return Maintenance{}, false
}

// endAt reports whether m is active at t, and when that occurrence ends.
func (m Maintenance) endAt(t time.Time) (time.Time, bool) {
	if m.Weekly == nil {
		if !t.Before(m.From) && t.Before(m.To) {
			return m.To, true
		}
		return time.Time{}, false
	}
	w := m.Weekly
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	// An occurrence starts on a listed day; one that runs past midnight may
	// have started the day before.
	for _, back := range []int{0, 1} {
		y, mo, d := lt.AddDate(0, 0, -back).Date()
		day := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		if !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		start := atClock(day, w.Start)
		end := atClock(day, w.End)
		if !end.After(start) {
			end = atClock(day.AddDate(0, 0, 1), w.End)
		}
		if !t.Before(start) && t.Before(end) {
			return end, true
		}
	}
	return time.Time{}, false
}

// atClock is day at "HH:MM" ("24:00" is the next midnight).
func atClock(day time.Time, hhmm string) time.Time {
	h, m, _ := strings.Cut(hhmm, ":")
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	return time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, day.Location())
}
