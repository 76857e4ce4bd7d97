package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/store"
)

const (
	// leaseEvery is how often an instance renews its heartbeat and
	// rebalances its share of the sites.
	leaseEvery = 3 * time.Second
	// leaseTTL is how long an instance may stay silent before the others
	// take its sites over: a crashed instance's sites are probed again
	// within about leaseTTL plus one interval.
	leaseTTL = 10 * time.Second
)

// placer decides which of the config's sites this process probes. Several
// walnut serve processes on one database split the sites through leases in
// PostgreSQL; a lone process holds them all. It hands the checker the sites
// it holds whenever the config or its share changes.
type placer struct {
	store   *store.Store
	checker *checker.Checker
	owner   string
	logger  *slog.Logger

	mu      sync.Mutex
	sites   []checker.Site // all of the config's sites
	held    map[int32]bool // nil until the first lease
	failing bool           // the last renewal failed; logged once
}

func newPlacer(st *store.Store, chk *checker.Checker, logger *slog.Logger) *placer {
	return &placer{store: st, checker: chk, owner: instanceID(), logger: logger}
}

// instanceID names this process in the instances table: readable (host,
// Heroku's dyno, pid) and unique across restarts.
func instanceID() string {
	host, _ := os.Hostname()
	if dyno := os.Getenv("DYNO"); dyno != "" {
		host = dyno
	}
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // never fails
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// start takes the first lease and returns the sites to probe at start-up.
func (p *placer) start(ctx context.Context, sites []checker.Site) ([]checker.Site, error) {
	ids, err := p.store.LeaseRenew(ctx, p.owner, leaseTTL)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sites = sites
	p.held = toSet(ids)
	return p.mine(), nil
}

// setSites applies a reloaded config.
func (p *placer) setSites(ctx context.Context, sites []checker.Site) {
	p.mu.Lock()
	p.sites = sites
	p.mu.Unlock()
	// New sites are claimed at once rather than at the next round.
	p.renew(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.checker.Update(p.mine())
}

func (p *placer) renew(ctx context.Context) bool {
	ids, err := p.store.LeaseRenew(ctx, p.owner, leaseTTL)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		// Keep probing what we hold: the writer buffers the probes, and
		// the others cannot claim our sites while the database is away.
		if !p.failing && ctx.Err() == nil {
			p.logger.Warn("cannot renew site leases; probing the sites held", "error", err)
		}
		p.failing = true
		return false
	}
	if p.failing {
		p.logger.Info("site leases renewed again")
	}
	p.failing = false
	next := toSet(ids)
	changed := len(next) != len(p.held)
	for id := range next {
		changed = changed || !p.held[id]
	}
	if changed {
		p.logger.Info("site share changed", "instance", p.owner, "sites", len(next))
	}
	p.held = next
	return changed
}

// run renews the lease until ctx ends, then releases every site so that
// the other instances take them over at once.
func (p *placer) run(ctx context.Context) {
	t := time.NewTicker(leaseEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := p.store.LeaseRelease(releaseCtx, p.owner); err != nil {
				p.logger.Warn("release site leases", "error", err)
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

// mine is the config's sites this instance holds; p.mu is held.
func (p *placer) mine() []checker.Site {
	out := make([]checker.Site, 0, len(p.held))
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
