package store

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestHeldHours: the oldest hour held follows probes in and out, in any
// order, and is zero once none is held.
func TestHeldHours(t *testing.T) {
	t.Parallel()
	var oldest atomic.Int64
	h := heldHours{n: map[int64]int{}, oldest: &oldest}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := func(d time.Duration) Probe { return Probe{At: t0.Add(d)} }
	check := func(want time.Time) {
		t.Helper()
		got := int64(0)
		if !want.IsZero() {
			got = want.UnixMicro()
		}
		if oldest.Load() != got {
			t.Errorf("oldest %s, want %s", time.UnixMicro(oldest.Load()).UTC(), want)
		}
	}
	h.add([]Probe{p(90 * time.Minute), p(100 * time.Minute)}, 1)
	check(t0.Add(time.Hour))
	h.add([]Probe{p(5 * time.Minute)}, 1) // a probe older than those held
	check(t0)
	h.add([]Probe{p(90 * time.Minute)}, -1)
	check(t0)
	h.add([]Probe{p(5 * time.Minute)}, -1)
	check(t0.Add(time.Hour))
	h.add([]Probe{p(100 * time.Minute)}, -1)
	check(time.Time{})
}
