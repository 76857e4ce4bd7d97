package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/walnut-board/walnut/store"
)

const (
	defaultRawRetention    = 30 * 24 * time.Hour
	defaultRollupRetention = 400 * 24 * time.Hour
)

// retentionFromEnv reads WALNUT_RAW_RETENTION: a Go duration ("720h") or
// whole days ("30d"); default 30 days. Rollups of hours and days are kept
// 400 days, and never less than raw probes.
func retentionFromEnv(lookup env) (store.Retention, error) {
	r := store.Retention{Raw: defaultRawRetention, Rollups: defaultRollupRetention}
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
	// Partitions are days: less than one would drop today's probes.
	if d < 24*time.Hour {
		return r, fmt.Errorf("WALNUT_RAW_RETENTION=%q: at least 1d", raw)
	}
	r.Raw = d
	r.Rollups = max(r.Rollups, d)
	return r, nil
}

// maintainRetention drops raw probe partitions and rollups past their
// retention, at start and then hourly: a drop is cheap, and an hour late
// at most.
func maintainRetention(ctx context.Context, st *store.Store, logger *slog.Logger, r store.Retention) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		res, err := st.ApplyRetention(ctx, time.Now(), r)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("apply retention", "error", err)
		case res.Partitions > 0 || res.Rollups > 0:
			logger.Info("applied retention", "partitions_dropped", res.Partitions, "rollups_deleted", res.Rollups,
				"raw_retention", r.Raw.String(), "rollup_retention", r.Rollups.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// foldEvery is how often finished minute rollups are folded into hours and
// days. Readers are exact either way; folding keeps long windows cheap.
const foldEvery = 10 * time.Second

// foldRollups folds finished minute rollups into hours and days until ctx
// ends. It lives outside the writer's transaction so that a probe writes one
// rollup row, not three.
func foldRollups(ctx context.Context, st *store.Store, logger *slog.Logger) {
	t := time.NewTicker(foldEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := st.RollupFold(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			logger.Error("fold rollups", "error", err)
			failing = true
		case err == nil:
			failing = false
		}
	}
}
