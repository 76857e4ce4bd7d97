package checker

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/walnut-board/walnut/store"
)

// Options tune a Checker or a Runner; zero values take the defaults.
type Options struct {
	// Client makes the probes; nil means NewClient().
	Client *http.Client
	// Now stamps probes; nil means time.Now.
	Now func() time.Time
	// StaggerDisabled makes a runner probe at once instead of after a delay
	// spread over its interval. For tests.
	StaggerDisabled bool
	// Backoff is the delay before a crashed runner restarts, attempt counting
	// from 1; nil means 1s doubling up to 1 min.
	Backoff func(attempt int) time.Duration
	// LateFunc, when set, hears how late each probe starts against its
	// schedule: the time from its tick to the start of the probe.
	LateFunc func(late time.Duration)
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client = NewClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Backoff == nil {
		o.Backoff = defaultBackoff
	}
	return o
}

// defaultBackoff is 1s, 2s, 4s, … up to a minute.
func defaultBackoff(attempt int) time.Duration {
	const first, max = time.Second, time.Minute
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 { // 1s<<6 is past the cap already
		return max
	}
	return min(first<<(attempt-1), max)
}

// Runner probes one site on its own goroutine and ticker, so a slow site never
// delays another, and sends every probe to the sink. It survives panics: a
// crash is recorded as a notok probe ("checker crashed: …") and the loop
// restarts after a backoff.
type Runner struct {
	site   Site
	sink   Sink
	logger *slog.Logger
	opts   Options

	// pendingSince is when the current run of pending probes began; zero
	// when the last probe was not pending. Only the Run goroutine uses it.
	pendingSince time.Time
	// scrub holds the site's secrets, made once.
	scrub scrubber
}

// NewRunner returns a runner for site; call Run to start it. The logger gets
// the site's slug as the "site" attribute.
func NewRunner(site Site, sink Sink, logger *slog.Logger, opts Options) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		site:   site,
		sink:   sink,
		logger: logger.With("site", site.Slug),
		opts:   opts.withDefaults(),
		scrub:  newScrubber(site),
	}
}

// Run probes until ctx is done: first after the stagger delay, then every
// interval. A probe cut short by ctx's end is dropped, not recorded: it says
// nothing about the site.
func (r *Runner) Run(ctx context.Context) {
	r.logger.Debug("site runner started", "url", r.site.RedactedURL, "interval", r.site.interval())
	defer r.logger.Debug("site runner stopped")

	delay := r.stagger()
	for attempt := 0; ; {
		healthy, crashed := r.loop(ctx, delay)
		if !crashed || ctx.Err() != nil {
			return
		}
		if healthy {
			attempt = 0
		}
		attempt++
		delay = r.opts.Backoff(attempt)
		r.logger.Info("site runner restarting", "attempt", attempt, "backoff", delay)
	}
}

// stagger spreads first probes over the interval, so a thousand sites do not
// fire in the same millisecond. It is derived from the slug, so a site keeps
// its phase across restarts of the process.
func (r *Runner) stagger() time.Duration {
	if r.opts.StaggerDisabled {
		return 0
	}
	return staggerDelay(r.site.Slug, r.site.interval())
}

func staggerDelay(slug string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(slug))
	return time.Duration(h.Sum64() % uint64(interval))
}

// loop waits delay, then probes every interval until ctx is done. It returns
// crashed after recovering a panic, and healthy when at least one probe went
// all the way to the sink since it started.
func (r *Runner) loop(ctx context.Context, delay time.Duration) (healthy, crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			crashed = true
			r.recordCrash(v, debug.Stack())
		}
	}()
	due := time.Now()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return healthy, false
		case due = <-t.C:
		}
	}
	ticker := time.NewTicker(r.site.interval())
	defer ticker.Stop()
	for {
		if r.opts.LateFunc != nil {
			r.opts.LateFunc(time.Since(due))
		}
		if r.probeOnce(ctx) {
			healthy = true
		}
		select {
		case <-ctx.Done():
			return healthy, false
		case due = <-ticker.C:
		}
	}
}

// probeOnce probes and hands the result to the sink; it reports whether it did.
func (r *Runner) probeOnce(ctx context.Context) bool {
	out := probe(ctx, r.opts.Client, r.site, r.opts.Now, r.scrub)
	if ctx.Err() != nil {
		return false // shutdown or restart: context.Canceled is not the site's fault
	}
	p := out.probe
	r.limitPending(&p)
	if out.crash != nil {
		r.logger.Error("recipe panicked", "reason", p.Reason, "stack", string(out.crash.stack))
	}
	r.logger.Debug("probe", "state", p.State, "http_status", p.HTTPStatus, "reason", p.Reason,
		"latency_ms", p.Latency.Milliseconds(), "ttfb_ms", p.TTFB.Milliseconds())
	r.sink.Add(p)
	return true
}

// limitPending turns a pending probe notok once the site has been pending
// longer than its MaxPending: a build stuck "running" for hours, a vendor's
// maintenance that never ends. The span runs from the first pending probe
// of the current run to this one's At, so it follows the injected clock.
func (r *Runner) limitPending(p *store.Probe) {
	if p.State != store.StatePending {
		r.pendingSince = time.Time{}
		return
	}
	if r.pendingSince.IsZero() {
		r.pendingSince = p.At
	}
	if r.site.MaxPending <= 0 {
		return
	}
	if d := p.At.Sub(r.pendingSince); d > r.site.MaxPending {
		p.State = store.StateNotOK
		p.Reason = "pending for " + formatPending(d)
	}
}

// formatPending is a duration as a person reads it: "2h10m", "45m", "3h";
// under a minute, seconds ("40s").
func formatPending(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
	}
	d = d.Round(time.Minute)
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// recordCrash logs a panic of the loop and records it as a notok probe. The
// sink may be what panicked, so a second panic here is swallowed.
func (r *Runner) recordCrash(v any, stack []byte) {
	r.pendingSince = time.Time{}
	reason := r.scrub.clean(fmt.Sprintf("checker crashed: %v", v))
	r.logger.Error("site runner crashed", "reason", reason, "stack", string(stack))
	defer func() {
		if v := recover(); v != nil {
			r.logger.Error("recording a crash failed", "panic", r.scrub.clean(fmt.Sprint(v)))
		}
	}()
	r.sink.Add(store.Probe{
		SiteID: r.site.ID,
		At:     r.opts.Now(),
		State:  store.StateNotOK,
		Reason: reason,
	})
}
