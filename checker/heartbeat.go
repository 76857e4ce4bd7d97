package checker

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// Heartbeat makes a Site one that calls in instead of being probed.
type Heartbeat struct {
	Every time.Duration // how often the job calls
	Grace time.Duration // how late a call may be before the site is notok
	Token string        // what a call must carry; a secret
}

// HeartbeatMinGap is the least time between two stored heartbeat probes of
// a site on one instance: calls closer together are merged, the latest
// word winning, so a job calling in a loop cannot flood the database.
const HeartbeatMinGap = time.Second

// Errors of Heartbeats.Receive, for the HTTP handler to answer with.
var (
	// ErrNotHeartbeat: no heartbeat site has this slug.
	ErrNotHeartbeat = errors.New("no heartbeat site with this slug")
	// ErrHeartbeatToken: the token is missing or wrong. Nothing is stored.
	ErrHeartbeatToken = errors.New("wrong or missing heartbeat token")
)

// HeartbeatStore keeps when each heartbeat site last called in, across
// instances and restarts; *store.Store has it.
type HeartbeatStore interface {
	HeartbeatTouch(ctx context.Context, siteID int32, at time.Time) error
	HeartbeatLast(ctx context.Context, siteID int32) (time.Time, error)
}

// Report is what a job may say with a heartbeat: its own verdict (a run
// that failed, one in progress), why, and how long it took.
type Report struct {
	State    store.State // default ok
	Reason   string
	Duration time.Duration
}

// Receipt says what became of a heartbeat.
type Receipt struct {
	State store.State
	// Merged is true when the call came within HeartbeatMinGap of a stored
	// one: its probe replaces any other waiting and is stored when the gap
	// has passed.
	Merged bool
}

// Heartbeats takes heartbeat calls for every heartbeat site of the config
// (the HTTP endpoint may be hit on any instance) and wakes the local runner
// of a site, if this instance holds it. Runners on other instances learn of
// calls through the HeartbeatStore.
type Heartbeats struct {
	sink   Sink
	store  HeartbeatStore
	logger *slog.Logger
	now    func() time.Time
	// maintenanceFunc: see HeartbeatOptions.
	maintenanceFunc func(slug string, at time.Time) (reason string, in bool)
	secrets         *secret.Scrubber // see HeartbeatOptions.Secrets

	mu     sync.Mutex
	sites  map[string]*hbSite // by slug: the config's heartbeat sites
	seen   map[string]time.Time
	wake   map[string]chan struct{}
	closed bool
}

type hbSite struct {
	site     Site
	tokenSum [sha256.Size]byte
	scrub    scrubber

	lastStored  time.Time    // when this instance last handed a probe to the sink
	lastTouched time.Time    // when this instance last recorded a call in the store
	waiting     *store.Probe // a merged call's probe, stored when the gap has passed
	timer       *time.Timer
}

// HeartbeatOptions are the settings of Heartbeats beyond its sink, store
// and logger.
type HeartbeatOptions struct {
	// Now stamps calls; nil means time.Now.
	Now func() time.Time
	// MaintenanceFunc turns the probes of calls in a maintenance window
	// pending, as Options.MaintenanceFunc does the runners'; pass the same.
	MaintenanceFunc func(slug string, at time.Time) (reason string, in bool)
	// Secrets are hidden from the reasons jobs report, besides each site's
	// own: pass Options.Secrets, the alert sinks' credentials, as the
	// runners get.
	Secrets *secret.Scrubber
}

// NewHeartbeats returns a receiver handing probes to sink (the same chain
// the runners use) and recording calls in st.
func NewHeartbeats(sink Sink, st HeartbeatStore, logger *slog.Logger, opts HeartbeatOptions) *Heartbeats {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Heartbeats{
		sink: sink, store: st, logger: logger, now: now, maintenanceFunc: opts.MaintenanceFunc, secrets: opts.Secrets,
		sites: map[string]*hbSite{}, seen: map[string]time.Time{}, wake: map[string]chan struct{}{},
	}
}

// SetSites takes the config's sites, all of them, not only those this
// instance holds; sites without a Heartbeat are ignored. A site whose
// definition did not change keeps its flood state.
func (h *Heartbeats) SetSites(sites []Site) {
	h.mu.Lock()
	defer h.mu.Unlock()
	next := make(map[string]*hbSite, len(sites))
	for _, s := range sites {
		if s.Heartbeat == nil {
			continue
		}
		if old, ok := h.sites[s.Slug]; ok && old.site.ID == s.ID && old.site.Heartbeat.Token == s.Heartbeat.Token {
			old.site = s
			old.scrub = newScrubber(s, h.secrets)
			next[s.Slug] = old
			continue
		}
		next[s.Slug] = &hbSite{site: s, tokenSum: sha256.Sum256([]byte(s.Heartbeat.Token)), scrub: newScrubber(s, h.secrets)}
	}
	for slug, old := range h.sites {
		if _, kept := next[slug]; !kept {
			if old.timer != nil {
				old.timer.Stop()
			}
			// Its runner is stopped with it; a site added back later
			// starts afresh, its last call read from the store.
			delete(h.seen, slug)
			delete(h.wake, slug)
		}
	}
	h.sites = next
}

// Authorize checks a call's token, in constant time, before anything else
// of the call is read: ErrNotHeartbeat, ErrHeartbeatToken or nil.
func (h *Heartbeats) Authorize(slug, token string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.authorizeLocked(slug, token)
	return err
}

func (h *Heartbeats) authorizeLocked(slug, token string) (*hbSite, error) {
	sum := sha256.Sum256([]byte(token))
	e, ok := h.sites[slug]
	if !ok {
		return nil, ErrNotHeartbeat
	}
	// Digests of equal length keep the comparison constant-time whatever
	// the token's length.
	if subtle.ConstantTimeCompare(sum[:], e.tokenSum[:]) != 1 || token == "" {
		return nil, ErrHeartbeatToken
	}
	return e, nil
}

// Receive takes one call. It checks the token in constant time, stores a
// probe (at most one per HeartbeatMinGap per site, see Receipt.Merged),
// records the call for the instance watching the site's deadline and wakes
// the local runner.
func (h *Heartbeats) Receive(ctx context.Context, slug, token string, rep Report) (Receipt, error) {
	st, err := store.ReportedState(string(rep.State))
	if err != nil {
		return Receipt{}, fmt.Errorf("heartbeat of %s: %w", slug, err)
	}
	rep.State = st
	h.mu.Lock()
	e, err := h.authorizeLocked(slug, token)
	if err != nil {
		h.mu.Unlock()
		return Receipt{}, err
	}
	now := h.now()
	p := store.Probe{SiteID: e.site.ID, Slug: slug, At: now, State: rep.State, Latency: rep.Duration}
	if rep.Reason != "" {
		p.Reason = e.scrub.clean(rep.Reason)
	}
	if p.State != store.StateOK && p.Reason == "" {
		p.Reason = "reported " + string(p.State) + " by heartbeat"
	}
	if now.After(h.seen[slug]) {
		h.seen[slug] = now
	}
	h.wakeLocked(slug)
	rcpt := Receipt{State: p.State}
	// Every call is recorded for the instance watching the deadline, at
	// most once a gap, whether its probe is stored now or merged: a job
	// calling twice a second has every call merged.
	touch := now.Sub(e.lastTouched) >= HeartbeatMinGap
	if touch {
		e.lastTouched = now
	}
	storeNow := e.waiting == nil && now.Sub(e.lastStored) >= HeartbeatMinGap && !h.closed
	if storeNow {
		e.lastStored = now
	} else {
		rcpt.Merged = true
		e.waiting = &p
		if e.timer == nil && !h.closed {
			e.timer = time.AfterFunc(e.lastStored.Add(HeartbeatMinGap).Sub(now), func() { h.flush(slug, e) })
		}
	}
	h.mu.Unlock()

	if storeNow {
		h.add(slug, p)
	}
	// A flood touches the database at most once per gap, and the watching
	// instance is a gap late at worst.
	if touch && h.store != nil {
		// Bounded well under a job's own timeout: a database that is away
		// must not hold the call, whose probe waits in the writer anyway.
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := h.store.HeartbeatTouch(tctx, p.SiteID, now); err != nil && ctx.Err() == nil {
			// The probe is on its way regardless; only a runner on another
			// instance misses the call, until the next one.
			h.logger.Warn("record heartbeat", "site", slug, "error", err)
		}
	}
	return rcpt, nil
}

// flush stores a merged call's probe once the gap since the last stored one
// has passed.
func (h *Heartbeats) flush(slug string, e *hbSite) {
	h.mu.Lock()
	p := e.waiting
	e.waiting, e.timer = nil, nil
	if p != nil {
		e.lastStored = h.now()
	}
	h.mu.Unlock()
	if p != nil {
		h.add(slug, *p)
	}
}

// Close stores the merged probes still waiting, at once: serve calls it
// after the HTTP server has stopped and before the writer does. Calls after
// Close are still counted but merged probes are dropped.
func (h *Heartbeats) Close() {
	h.mu.Lock()
	h.closed = true
	out := map[string]store.Probe{}
	for slug, e := range h.sites {
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
		if e.waiting != nil {
			out[slug] = *e.waiting
			e.waiting = nil
		}
	}
	h.mu.Unlock()
	for slug, p := range out {
		h.add(slug, p)
	}
}

// add hands a call's probe to the sink, pending if the site is in
// maintenance.
func (h *Heartbeats) add(slug string, p store.Probe) {
	h.sink.Add(inMaintenance(h.maintenanceFunc, slug, p))
}

// wakeLocked tells slug's runner, if any waits, that a call came in.
func (h *Heartbeats) wakeLocked(slug string) {
	select {
	case h.wakeChan(slug) <- struct{}{}:
	default: // already woken
	}
}

func (h *Heartbeats) wakeChan(slug string) chan struct{} {
	ch, ok := h.wake[slug]
	if !ok {
		ch = make(chan struct{}, 1)
		h.wake[slug] = ch
	}
	return ch
}

// watch returns the channel that wakes slug's runner.
func (h *Heartbeats) watch(slug string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wakeChan(slug)
}

func (h *Heartbeats) lastSeen(slug string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[slug]
}

// last is the latest call known: taken here, or recorded by any instance.
func (h *Heartbeats) last(ctx context.Context, s Site) (time.Time, error) {
	seen := h.lastSeen(s.Slug)
	if h.store == nil {
		return seen, nil
	}
	at, err := h.store.HeartbeatLast(ctx, s.ID)
	if err != nil {
		return seen, err
	}
	if at.After(seen) {
		return at, nil
	}
	return seen, nil
}
