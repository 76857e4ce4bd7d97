package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/walnut-board/walnut/store"
)

// retentionFromEnv reads WALNUT_RAW_RETENTION, how long every probe is
// kept: a Go duration ("720h") or whole days ("30d"); default 90 days.
// Hourly history is kept 400 days, and never less than probes.
func retentionFromEnv(lookup env) (store.MaintainerOptions, error) {
	r := store.MaintainerOptions{RawRetention: store.DefaultRawRetention, HistoryRetention: store.HistoryRetention}
	raw := strings.TrimSpace(lookup.get("WALNUT_RAW_RETENTION"))
	if raw == "" {
		return r, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(raw, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return r, fmt.Errorf("WALNUT_RAW_RETENTION=%q: not a number of days such as 30d", raw)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(raw); err != nil {
			return r, fmt.Errorf("WALNUT_RAW_RETENTION=%q: not a duration such as 30d or 720h", raw)
		}
	}
	// Probes are packed and dropped by the day: less than one would drop
	// today's.
	if d < 24*time.Hour {
		return r, fmt.Errorf("WALNUT_RAW_RETENTION=%q: at least 1d", raw)
	}
	r.RawRetention = d
	r.HistoryRetention = max(r.HistoryRetention, d)
	return r, nil
}
