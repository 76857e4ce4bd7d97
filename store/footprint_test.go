package store_test

import (
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

func TestFootprintProject(t *testing.T) {
	t.Parallel()
	f := store.Footprint{Empty: 1000, Probe: 10, SiteHour: 1000}
	day := 24 * time.Hour
	raw, hist := 2*day, 4*day
	cases := map[string]struct {
		intervals []time.Duration
		age       time.Duration
		want      float64
	}{
		"nothing yet":                {[]time.Duration{30 * time.Second}, 0, 1000},
		"an hour at 30s":             {[]time.Duration{30 * time.Second}, time.Hour, 1000 + 120*10 + 1000},
		"two sites add up":           {[]time.Duration{30 * time.Second, time.Minute}, time.Hour, 1000 + 120*10 + 1000 + 60*10 + 1000},
		"a site probed every 5m":     {[]time.Duration{5 * time.Minute}, time.Hour, 1000 + 12*10 + 1000},
		"raw stops at its retention": {[]time.Duration{time.Minute}, 3 * day, 1000 + 2*1440*10 + 72*1000},
		"all stops at the longest":   {[]time.Duration{time.Minute}, 40 * day, 1000 + 2*1440*10 + 96*1000},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := f.Project(c.intervals, raw, hist, c.age); got != c.want {
				t.Errorf("Project = %.0f, want %.0f", got, c.want)
			}
		})
	}

	// A day of one site at 1m: 1440·10 + 24·1000 = 38,400 bytes.
	one := []time.Duration{time.Minute}
	if d, ok := f.DaysToReach(1000+2*38_400, one, raw, hist); !ok || d != 3 {
		t.Errorf("DaysToReach = %d, %v; want day 3, the first past two days' growth", d, ok)
	}
	if _, ok := f.DaysToReach(1e9, one, raw, hist); ok {
		t.Error("a budget the steady size never reaches is reached")
	}

	// Recent probes cost HotProbe, older ones Probe.
	hot := store.Footprint{HotProbe: 100, HotWindow: day, Probe: 10}
	for age, want := range map[time.Duration]float64{
		time.Hour: 60 * 100,
		day:       1440 * 100,
		3 * day:   1440*100 + 1440*10,
		9 * day:   1440*100 + 1440*10,
	} {
		if got := hot.Project(one, raw, hist, age); got != want {
			t.Errorf("hot window, after %s: %.0f, want %.0f", age, got, want)
		}
	}
}
