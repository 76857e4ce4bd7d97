package checker

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LeaseStore splits the sites between the instances that share a
// database: each renews its claim on its share, and the sites of an
// instance silent for longer than ttl go to the others. *store.Store has
// it.
type LeaseStore interface {
	// LeaseRenew renews owner's leases, taking its share of the sites
	// no one holds, and returns the ids of the sites owner now holds.
	LeaseRenew(ctx context.Context, owner string, ttl time.Duration) ([]int32, error)
	// LeaseRelease gives up every lease owner holds.
	LeaseRelease(ctx context.Context, owner string) error
}

// PlacerOptions are a Placer's settings besides its leases and checker.
type PlacerOptions struct {
	// Owner names this instance in the leases; unique across restarts.
	Owner string
	// Every is how often the instance renews its leases and rebalances
	// its share; 0 means 3s.
	Every time.Duration
	// TTL is how long an instance may stay silent before the others take
	// its sites over, so a crashed instance's sites are probed again
	// within about TTL plus one interval; 0 means 10s.
	TTL    time.Duration
	Logger *slog.Logger
}

// Placer decides which sites this instance probes. Several instances on
// one database split the sites through leases; a lone one holds them all.
// It hands the checker the sites it holds whenever the config or its share
// changes.
type Placer struct {
	leases  LeaseStore
	checker *Checker
	opts    PlacerOptions

	mu      sync.Mutex
	sites   []Site         // all of the config's sites
	held    map[int32]bool // nil until the first lease
	failing bool           // the last renewal failed; logged once
}

// NewPlacer returns a placer updating chk; call Start, then Run.
func NewPlacer(leases LeaseStore, chk *Checker, opts PlacerOptions) *Placer {
	if opts.Every <= 0 {
		opts.Every = 3 * time.Second
	}
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Placer{leases: leases, checker: chk, opts: opts}
}

// Start takes the first lease and returns the sites to probe at start-up.
func (p *Placer) Start(ctx context.Context, sites []Site) ([]Site, error) {
	ids, err := p.leases.LeaseRenew(ctx, p.opts.Owner, p.opts.TTL)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sites = sites
	p.held = toSet(ids)
	return p.mine(), nil
}

// SetSites applies a reloaded config's sites, all of them, and hands the
// checker those this instance holds.
func (p *Placer) SetSites(ctx context.Context, sites []Site) {
	p.mu.Lock()
	p.sites = sites
	p.mu.Unlock()
	// New sites are claimed at once rather than at the next round.
	p.renew(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.checker.Update(p.mine())
}

// renew renews the leases and reports whether this instance's share
// changed.
func (p *Placer) renew(ctx context.Context) bool {
	ids, err := p.leases.LeaseRenew(ctx, p.opts.Owner, p.opts.TTL)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		// Keep probing what we hold: the writer buffers the probes, and
		// the others cannot claim our sites while the database is away.
		if !p.failing && ctx.Err() == nil {
			p.opts.Logger.Warn("cannot renew site leases; probing the sites held", "error", err)
		}
		p.failing = true
		return false
	}
	if p.failing {
		p.opts.Logger.Info("site leases renewed again")
	}
	p.failing = false
	next := toSet(ids)
	changed := len(next) != len(p.held)
	for id := range next {
		changed = changed || !p.held[id]
	}
	if changed {
		p.opts.Logger.Info("site share changed", "instance", p.opts.Owner, "sites", len(next))
	}
	p.held = next
	return changed
}

// Run renews the leases every opts.Every until ctx ends, updating the
// checker when the share changes, then releases every site so that the
// other instances take them over at once.
func (p *Placer) Run(ctx context.Context) {
	t := time.NewTicker(p.opts.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := p.leases.LeaseRelease(releaseCtx, p.opts.Owner); err != nil {
				p.opts.Logger.Warn("release site leases", "error", err)
			}
			return
		case <-t.C:
			if p.renew(ctx) {
				p.mu.Lock()
				p.checker.Update(p.mine())
				p.mu.Unlock()
			}
		}
	}
}

// mine is the sites this instance holds; p.mu is held.
func (p *Placer) mine() []Site {
	out := make([]Site, 0, len(p.held))
	for _, s := range p.sites {
		if p.held[s.ID] {
			out = append(out, s)
		}
	}
	return out
}

func toSet(ids []int32) map[int32]bool {
	m := make(map[int32]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
