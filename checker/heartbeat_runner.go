package checker

import (
	"context"
	"fmt"
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
	for attempt := 1; ; attempt++ {
		if !r.watch(ctx, start) || ctx.Err() != nil {
			return
		}
		t := time.NewTimer(r.opts.Backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// watch is the runner's loop; it reports true after recovering a panic.
func (r *heartbeatRunner) watch(ctx context.Context, start time.Time) (crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			crashed = true
			reason := r.scrub.clean(fmt.Sprintf("checker crashed: %v", v))
			r.logger.Error("heartbeat runner crashed", "reason", reason, "stack", string(debug.Stack()))
			r.sink.Add(store.Probe{SiteID: r.site.ID, Slug: r.site.Slug, At: r.opts.Now(), State: store.StateNotOK, Reason: reason})
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
			return false
		case <-wake:
			t.Stop()
			if seen := hbs.lastSeen(r.site.Slug); seen.After(last) {
				last = seen
			}
			continue
		case <-t.C:
		}
		// Another instance may have taken a call: ask before speaking.
		if hbs != nil {
			fresh, err := hbs.last(ctx, r.site)
			if ctx.Err() != nil {
				return false
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
