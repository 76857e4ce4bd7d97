package checker

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/walnut-board/walnut/store"
)

// heartbeatRunner watches one heartbeat site's deadline, on the instance
// that holds the site's lease. The calls themselves are stored by whichever
// instance takes them (Heartbeats.Receive); this runner only speaks when
// they stop: once every+grace has passed since the last call it writes a
// notok probe, "no heartbeat for 7m", and again every `every` while the
// silence lasts, so that uptime counts the whole outage as down rather than
// holding one verdict for at most two intervals.
type heartbeatRunner struct {
	site   Site
	sink   Sink
	logger *slog.Logger
	opts   Options
	scrub  scrubber
}

func newHeartbeatRunner(site Site, sink Sink, logger *slog.Logger, opts Options) *heartbeatRunner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &heartbeatRunner{site: site, sink: withMaintenance(sink, site.Slug, opts.MaintenanceFunc), logger: logger.With("site", site.Slug), opts: opts.withDefaults(), scrub: newScrubber(site, opts.Secrets)}
}

// Run watches until ctx ends, restarting after a panic with the runner's
// backoff, as a probing runner does.
func (r *heartbeatRunner) Run(ctx context.Context) {
	r.logger.Debug("heartbeat runner started", "every", r.site.Heartbeat.Every, "grace", r.site.Heartbeat.Grace)
	defer r.logger.Debug("heartbeat runner stopped")
	start := r.opts.Now()
	for attempt := 0; ; {
		healthy, crashed := r.watch(ctx, start)
		if !crashed || ctx.Err() != nil {
			return
		}
		if healthy {
			attempt = 0
		}
		attempt++
		t := time.NewTimer(r.opts.Backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// watch is the runner's loop: crashed after recovering a panic, and healthy
// when it had got as far as a wait before, so that a runner crashing now
// and then restarts soon rather than after the longest backoff.
func (r *heartbeatRunner) watch(ctx context.Context, start time.Time) (healthy, crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			crashed = true
			addCrash(r.logger, r.scrub, r.sink, r.site, r.opts.Now(), "heartbeat runner crashed", v, debug.Stack())
		}
	}()
	hb := r.site.Heartbeat
	hbs := r.opts.Heartbeats
	var wake <-chan struct{}
	var last time.Time
	if hbs != nil {
		wake = hbs.watch(r.site.Slug)
		// The clock runs from the last call any instance recorded, so a
		// restart or a takeover does not give a silent job a fresh grace.
		var err error
		if last, err = hbs.last(ctx, r.site); err != nil && ctx.Err() == nil {
			r.logger.Warn("read last heartbeat; counting from the latest call seen here", "error", err)
		}
	}
	var silentAt time.Time // when this runner last wrote "no heartbeat"
	for {
		base := last
		if base.IsZero() {
			base = start
		}
		next := base.Add(hb.Every + hb.Grace)
		if silentAt.After(base) {
			next = silentAt.Add(hb.Every)
		}
		t := time.NewTimer(next.Sub(r.opts.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return healthy, false
		case <-wake:
			t.Stop()
			healthy = true
			if seen := hbs.lastSeen(r.site.Slug); seen.After(last) {
				last = seen
			}
			continue
		case <-t.C:
			healthy = true
		}
		// Another instance may have taken a call: ask before speaking.
		if hbs != nil {
			fresh, err := hbs.last(ctx, r.site)
			if ctx.Err() != nil {
				return healthy, false
			}
			if err != nil {
				r.logger.Warn("read last heartbeat; judging by the calls seen here", "error", err)
			}
			if fresh.After(last) {
				last = fresh
				if now := r.opts.Now(); now.Before(last.Add(hb.Every + hb.Grace)) {
					continue
				}
			}
		}
		now := r.opts.Now()
		reason := "no heartbeat yet"
		if !last.IsZero() {
			reason = NoHeartbeatReason(now.Sub(last))
		}
		r.logger.Debug("heartbeat overdue", "reason", reason)
		r.sink.Add(store.Probe{SiteID: r.site.ID, Slug: r.site.Slug, At: now, State: store.StateNotOK, Reason: reason})
		silentAt = now
	}
}

// NoHeartbeatReason is the reason of a heartbeat site whose job has not
// called for d.
func NoHeartbeatReason(d time.Duration) string { return "no heartbeat for " + HumanDuration(d) }
