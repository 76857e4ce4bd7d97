package web

import (
	"context"
	"log/slog"
	"time"
)

// runEvery calls f at once and then every interval until ctx ends. A
// failure is logged as a warning with msg once per run of failures, so a
// database away for an hour is one line rather than one a tick, and not at
// all when it comes from ctx ending.
func runEvery(ctx context.Context, interval time.Duration, logger *slog.Logger, msg string, f func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		err := f(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			logger.WarnContext(ctx, msg, "error", err)
			failing = true
		case err == nil:
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
