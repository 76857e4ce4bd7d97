package checker

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
)

// Checker runs one Runner per site and applies changes to the set of sites.
type Checker struct {
	sink   Sink
	logger *slog.Logger
	opts   Options

	mu      sync.Mutex
	ctx     context.Context // Run's; nil before Run
	stopped bool            // Run's context is done; no runner may start
	runners map[string]*running
	wg      sync.WaitGroup
}

// running is a started runner: its site, how to stop it, and when it has.
type running struct {
	site   Site
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a checker sending probes to sink. The defaults of opts are
// resolved once, so every runner shares one client.
func New(sink Sink, logger *slog.Logger, opts Options) *Checker {
	if sink == nil {
		panic("checker.New: nil sink")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{
		sink:    sink,
		logger:  logger,
		opts:    opts.withDefaults(),
		runners: map[string]*running{},
	}
}

// Run starts a runner per site, keyed by slug (a repeated slug is logged and
// skipped), and blocks until ctx is done and every runner has returned. Call
// it once.
func (c *Checker) Run(ctx context.Context, sites []Site) {
	c.mu.Lock()
	if c.ctx != nil {
		c.mu.Unlock()
		panic("checker: Run called twice")
	}
	c.ctx = ctx
	c.apply(sites)
	c.logger.Info("checker started", "sites", len(c.runners))
	c.mu.Unlock()

	<-ctx.Done()

	c.mu.Lock()
	c.stopped = true // runners stop with ctx; none may be added now
	c.mu.Unlock()
	c.wg.Wait()

	c.mu.Lock()
	clear(c.runners)
	c.mu.Unlock()
	c.logger.Info("checker stopped")
}

// Update applies a new set of sites to a running checker: runners of removed
// sites stop, new sites get a runner, and a site whose definition changed in
// any way (URL, interval, recipe options, …) gets a fresh runner. Sites that
// did not change keep their runner and its rhythm. Update returns once the
// stopped runners have exited, so two runners for one slug never overlap
// (a runner blocked in the sink's Add holds it up until Add returns). Before
// Run or after Run's context is done it does nothing.
func (c *Checker) Update(sites []Site) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil || c.stopped {
		c.logger.Warn("checker update ignored: the checker is not running")
		return
	}
	c.apply(sites)
}

// apply reconciles the runners with sites; c.mu is held.
func (c *Checker) apply(sites []Site) {
	want := make(map[string]Site, len(sites))
	for _, s := range sites {
		if _, dup := want[s.Slug]; dup {
			c.logger.Error("duplicate site slug, ignored", "site", s.Slug)
			continue
		}
		want[s.Slug] = s
	}

	// Stop removed and changed runners, all at once, then wait, so that two
	// runners for one slug never overlap.
	var stopping []*running
	for slug, r := range c.runners {
		s, keep := want[slug]
		// DeepEqual compares recipes by value, so an unchanged config
		// rebuilt on reload keeps its runners; a recipe holding a func
		// always compares unequal, and merely restarts.
		if keep && reflect.DeepEqual(r.site, s) {
			continue
		}
		r.cancel()
		stopping = append(stopping, r)
		delete(c.runners, slug)
		if keep {
			c.logger.Info("site changed, restarting its runner", "site", slug)
		} else {
			c.logger.Info("site removed, stopping its runner", "site", slug)
		}
	}
	for _, r := range stopping {
		<-r.done
	}

	for _, s := range sites {
		if _, ok := c.runners[s.Slug]; ok {
			continue // unchanged, or a duplicate already started
		}
		c.start(want[s.Slug])
	}
}

// start launches a runner for s; c.mu is held.
func (c *Checker) start(s Site) {
	ctx, cancel := context.WithCancel(c.ctx)
	r := &running{site: s, cancel: cancel, done: make(chan struct{})}
	c.runners[s.Slug] = r
	var runner interface{ Run(context.Context) }
	if s.Heartbeat != nil {
		runner = newHeartbeatRunner(s, c.sink, c.logger, c.opts)
	} else {
		runner = NewRunner(s, c.sink, c.logger, c.opts)
	}
	c.wg.Go(func() {
		defer close(r.done)
		defer cancel()
		runner.Run(ctx)
	})
}
