package main

import (
	"testing"
	"time"
)

func TestRetentionFromEnv(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	cases := map[string]struct {
		value   string
		raw     time.Duration
		rollups time.Duration
		err     bool
	}{
		"default is 90 days":         {"", 90 * day, 400 * day, false},
		"days":                       {"7d", 7 * day, 400 * day, false},
		"a Go duration":              {"720h", 30 * day, 400 * day, false},
		"longer than rollups":        {"500d", 500 * day, 500 * day, false},
		"under a day":                {"2h", 0, 0, true},
		"not a number of days":       {"xd", 0, 0, true},
		"not a duration":             {"month", 0, 0, true},
		"zero days would drop today": {"0d", 0, 0, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lookup := env(func(k string) (string, bool) {
				if k == "WALNUT_RAW_RETENTION" && c.value != "" {
					return c.value, true
				}
				return "", false
			})
			r, err := retentionFromEnv(lookup)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if !c.err && (r.RawRetention != c.raw || r.HistoryRetention != c.rollups) {
				t.Errorf("retention %+v, want raw %s rollups %s", r, c.raw, c.rollups)
			}
		})
	}
}
