package checker

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/walnut-board/walnut/secret"
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
	// Secrets are hidden from every site's reasons besides what the site's
	// own request carries: the alert sinks' credentials. Nil adds none.
	Secrets *secret.Scrubber
	// LateFunc, when set, hears how late each probe starts against its
	// schedule: the time from its tick to the start of the probe.
	LateFunc func(late time.Duration)
	// Certs keeps the certificates sites present and the warnings sent of
	// them; nil: certificates are only judged (cert_critical), not kept.
	Certs CertStore
	// MaintenanceFunc, when set, says whether the site with slug is in a
	// maintenance window at a probe's time, and what the probe then reads
	// (config.Windows.Reason): such probes are recorded as pending with
	// that reason, whatever the verdict, so the board shows the site grey,
	// uptime leaves the time out and nobody is paged.
	MaintenanceFunc func(slug string, at time.Time) (reason string, in bool)
	// Heartbeats wakes the runners of heartbeat sites when a call comes in
	// and tells them when the last one was; nil: they know only their own
	// start, so every heartbeat site turns notok once its deadline passes.
	Heartbeats *Heartbeats

	// workers run the probes; resolved once in withDefaults, so the runners
	// of a Checker share them.
	workers *workers
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
	if o.workers == nil {
		o.workers = newWorkers(10 * time.Second)
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
	// done carries each probe's outcome from its goroutine (probeOnce).
	done chan probeResult
	// prober carries the site's client and TLS settings, made once.
	prober prober
	// certs remembers what was saved of the site's certificate.
	certs certMemo
}

// NewRunner returns a runner for site; call Run to start it. The logger gets
// the site's slug as the "site" attribute.
func NewRunner(site Site, sink Sink, logger *slog.Logger, opts Options) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{
		site:   site,
		sink:   withMaintenance(sink, site.Slug, opts.MaintenanceFunc),
		logger: logger.With("site", site.Slug),
		opts:   opts.withDefaults(),
		scrub:  newScrubber(site, opts.Secrets),
		done:   make(chan probeResult, 1),
	}
	r.prober = newProber(r.opts.Client, site)
	return r
}

// Run probes until ctx is done: first after the stagger delay, then every
// interval. A probe cut short by ctx's end is dropped, not recorded: it says
// nothing about the site.
//
// Run and loop are what an idle runner's stack holds while it waits, 10,000
// times over: their logging and crash handling live in functions of their
// own (logStarted, restartDelay, recoverCrash), so that the two frames stay
// small and a waiting runner fits the smallest stack Go gives.
func (r *Runner) Run(ctx context.Context) {
	r.logStarted()
	defer r.logStopped()
	defer r.certs.bg.Wait()
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
		delay = r.restartDelay(attempt)
	}
}

//go:noinline
func (r *Runner) logStarted() {
	r.logger.Debug("site runner started", "url", r.site.RedactedURL, "interval", r.site.Interval)
}

//go:noinline
func (r *Runner) logStopped() { r.logger.Debug("site runner stopped") }

//go:noinline
func (r *Runner) restartDelay(attempt int) time.Duration {
	delay := r.opts.Backoff(attempt)
	r.logger.Info("site runner restarting", "attempt", attempt, "backoff", delay)
	return delay
}

// stagger spreads first probes over the interval, so a thousand sites do not
// fire in the same millisecond. Each site has a phase derived from its slug,
// and its probes fall at that phase of the wall clock (phase past every
// multiple of the interval since the Unix epoch): a restarted process, or
// another instance taking the site over, keeps the site's cadence instead
// of probing it again early.
func (r *Runner) stagger() time.Duration {
	if r.opts.StaggerDisabled {
		return 0
	}
	now := time.Now()
	return NextDue(r.site.Slug, r.site.Interval, now).Sub(now)
}

// NextDue is the first instant at or after t at which the probes of the site
// with slug fall when it is probed every interval: the site's phase past a
// multiple of the interval since the Unix epoch. A runner waits for it
// before its first probe, and the scale harness (bench) measures each
// probe's lateness against the same grid, so the two cannot disagree. A
// non-positive interval has no grid: NextDue returns t.
func NextDue(slug string, interval time.Duration, t time.Time) time.Time {
	if interval <= 0 {
		return t
	}
	iv := int64(interval)
	since := t.UnixNano() % iv // how far t is past the last multiple
	return t.Add(time.Duration((int64(sitePhase(slug, interval)) - since + iv) % iv))
}

// sitePhase is fnv64a of the slug modulo the interval.
func sitePhase(slug string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(slug))
	return time.Duration(h.Sum64() % uint64(interval))
}

// loop waits delay, then probes every interval until ctx is done. It returns
// crashed after recovering a panic, and healthy when at least one probe went
// all the way to the sink since it started.
func (r *Runner) loop(ctx context.Context, delay time.Duration) (healthy, crashed bool) {
	defer r.recoverCrash(&crashed)
	due := time.Now()
	if delay > 0 {
		t := time.NewTimer(delay)
		var ok bool
		due, ok = tick(ctx, t.C)
		t.Stop()
		if !ok {
			return healthy, false
		}
	}
	ticker := time.NewTicker(r.site.Interval)
	defer ticker.Stop()
	for ok := true; ok; due, ok = tick(ctx, ticker.C) {
		if r.probeOnce(ctx, due) {
			healthy = true
		}
	}
	return healthy, false
}

// tick waits for c's next tick, or reports false when ctx ends first.
//
//go:noinline
func tick(ctx context.Context, c <-chan time.Time) (time.Time, bool) {
	select {
	case <-ctx.Done():
		return time.Time{}, false
	case t := <-c:
		return t, true
	}
}

// recoverCrash, deferred by loop, turns a panic into a recorded crash.
func (r *Runner) recoverCrash(crashed *bool) {
	v := recover()
	if v == nil {
		return
	}
	*crashed = true
	stack := debug.Stack()
	if pp, ok := v.(probePanic); ok {
		v, stack = pp.v, pp.stack
	}
	r.recordCrash(v, stack)
}

// probePanic carries a panic of a probe's goroutine, with its stack, to the
// runner's loop.
type probePanic struct {
	v     any
	stack []byte
}

// probeOnce probes and hands the result to the sink; it reports whether it did.
//
// The work runs on a worker goroutine (workers.go), not the runner's. The
// HTTP client's calls and the sink's metrics are deep, and a goroutine's
// stack keeps the size it once grew to until a collection finds it mostly
// unused: probing on the runner's goroutine left 10,000 idle runners holding
// about 8 KiB of stack each, where waiting on a ticker needs a fraction of
// that. The runner still waits for the result, so a site's probes never
// overlap and pendingSince has one user at a time.
//
// due is when the probe was scheduled; LateFunc hears how late it starts.
func (r *Runner) probeOnce(ctx context.Context, due time.Time) bool {
	r.opts.workers.do(func() { r.probeJob(ctx, due) })
	res := <-r.done
	if res.panic != nil {
		panic(*res.panic)
	}
	return res.sent
}

// probeResult is what a probe's goroutine tells its runner.
type probeResult struct {
	sent  bool
	panic *probePanic
}

func (r *Runner) probeJob(ctx context.Context, due time.Time) {
	var res probeResult
	defer func() {
		if v := recover(); v != nil {
			res.panic = &probePanic{v: v, stack: debug.Stack()}
		}
		r.done <- res
	}()
	if r.opts.LateFunc != nil {
		r.opts.LateFunc(time.Since(due))
	}
	res.sent = r.probeAndSend(ctx)
}

func (r *Runner) probeAndSend(ctx context.Context) bool {
	out := r.prober.run(ctx, r.site, r.opts.Now, r.scrub)
	if ctx.Err() != nil {
		return false // shutdown or restart: context.Canceled is not the site's fault
	}
	r.keepCert(ctx, out.cert, out.probe.At)
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
		p.Reason = "pending for " + HumanDuration(d)
	}
}

// HumanDuration is a duration as a person reads it in a reason: "2h10m",
// "45m", "3h"; under a minute, seconds ("40s"). `walnut check` writes its
// "no heartbeat for …" with it too, so that both say the same.
func HumanDuration(d time.Duration) string {
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

// recordCrash logs a panic of the loop and records it as a notok probe.
func (r *Runner) recordCrash(v any, stack []byte) {
	r.pendingSince = time.Time{}
	addCrash(r.logger, r.scrub, r.sink, r.site, r.opts.Now(), "site runner crashed", v, stack)
}

// addCrash logs a runner's panic v and records it as the site's notok
// probe. The sink may be what panicked, so a second panic here is
// swallowed: it must not escape the runner's goroutine and stop the
// process.
func addCrash(logger *slog.Logger, scrub scrubber, sink Sink, site Site, at time.Time, msg string, v any, stack []byte) {
	reason := scrub.clean(fmt.Sprintf("checker crashed: %v", v))
	logger.Error(msg, "reason", reason, "stack", string(stack))
	defer func() {
		if v := recover(); v != nil {
			logger.Error("recording a crash failed", "panic", scrub.clean(fmt.Sprint(v)))
		}
	}()
	sink.Add(store.Probe{SiteID: site.ID, Slug: site.Slug, At: at, State: store.StateNotOK, Reason: reason})
}
