package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/views"
)

// HubStore is what the live hub needs of the database; *store.Store has it.
type HubStore interface {
	SiteListActive(ctx context.Context) ([]store.Site, error)
	SiteListCheckedSince(ctx context.Context, since time.Time) ([]store.Site, error)
	RosterBetween(ctx context.Context, from, to time.Time) ([]store.Shift, error)
	Listen(ctx context.Context, channels []string, opts store.ListenOptions)
}

// HubOptions configures a Hub; zero values take the defaults.
type HubOptions struct {
	Store  HubStore
	Logger *slog.Logger
	Now    func() time.Time
	// Heartbeat is how often each stream sends a ping; default 15s, under
	// the 55s after which Heroku's router closes an idle connection.
	Heartbeat time.Duration
	// Refresh is how often the hub re-reads the board without being told
	// to: the roster's day turns, and it bounds the harm of a lost
	// notification. Default 30s.
	Refresh time.Duration
	// ClientBuffer is how many events a slow browser may fall behind
	// before it is dropped (it reconnects and gets the full state); default
	// 1024.
	ClientBuffer int
	// Notify, when set, puts the alert sinks that are failing or delayed
	// in the board's footer, read every AlertsEvery (default 5s).
	Notify      NotifyHealth
	AlertsEvery time.Duration
	// ListenPing is how long the LISTEN connection may stay quiet before
	// it is pinged, and ListenTimeout how long a ping (or connecting) may
	// take before the connection counts as lost and is replaced; defaults
	// 5s and 5s (store.ListenOptions). Without them a connection whose
	// network path died would keep the board "listening" for minutes.
	ListenPing    time.Duration
	ListenTimeout time.Duration
	// Storage, when set, puts the database in the footer when it nears
	// its budget, read as often as the sinks.
	Storage *StorageWatch
}

// Hub is the one live-update source of a process. It holds a single LISTEN
// connection, re-reads the sites PostgreSQL announces as checked, renders
// what changed with the board's own components, and fans the fragments out
// to every /events stream.
//
// Reads are incremental: each walnut_checked notice names the earliest probe
// time a write touched, and the hub reads only the sites checked since then,
// so a steady 10,000-site board costs a few hundred rows a batch rather than
// every site four times a second. A whole read (every site, the roster, the
// order) happens at start, when the sites change (walnut_sites), on every
// Refresh tick, after the LISTEN connection comes back (notices sent
// meanwhile are lost), on Poke, and when an unknown site turns up.
type Hub struct {
	opts HubOptions
	poke chan struct{}

	wantMu sync.Mutex
	want   refreshWant

	mu      sync.Mutex
	clients map[*client]struct{}
	closed  bool
	up      bool // the LISTEN connection is established
	// lostAt is when the hub last lost the database (its LISTEN
	// connection or a read failed), zero while all is well; the board's
	// shell says "database unreachable since" it.
	lostAt  time.Time
	ready   bool // the board has been read once
	order   []string
	tiles   map[string]string // slug → rendered tile
	summary [3]string         // rendered counts, strip and support
	checked map[string]int64  // slug → last probe, Unix ms
	alerts  string            // rendered footer, once read (alerts.go)

	// Owned by the refresh loop.
	sites       []store.Site  // the board in order, as of the last whole read plus changes
	pos         map[int32]int // site id → index in sites
	tileKeys    map[string]tileKey
	summaryKey  string
	supportView views.SupportView
}

// refreshWant is what the next refresh must read: everything, or the sites
// checked since an instant.
type refreshWant struct {
	full  bool
	since time.Time // zero: nothing announced
}

// tileKey is what a tile shows apart from its "for 5m" text and probe time,
// which the page's script keeps current: a tile is sent again only when its
// key changes.
type tileKey struct {
	name, state, reason, cert string
	since                     int64
	interval                  time.Duration
}

func keyOf(s store.Site, now time.Time) tileKey {
	k := tileKey{name: s.Name, state: string(s.State), reason: s.Reason, cert: certLine(s, now), interval: s.Interval}
	if s.Since != nil {
		k.since = s.Since.UnixMicro()
	}
	return k
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

type client struct {
	ch   chan sseEvent
	gone chan struct{} // closed when the hub drops the client
	once sync.Once
}

func (c *client) drop() { c.once.Do(func() { close(c.gone) }) }

// NewHub returns a Hub; call Run to start it.
func NewHub(opts HubOptions) *Hub {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 30 * time.Second
	}
	if opts.ClientBuffer <= 0 {
		opts.ClientBuffer = 1024
	}
	return &Hub{
		opts:     opts,
		poke:     make(chan struct{}, 1),
		want:     refreshWant{full: true},
		clients:  map[*client]struct{}{},
		tiles:    map[string]string{},
		checked:  map[string]int64{},
		pos:      map[int32]int{},
		tileKeys: map[string]tileKey{},
	}
}

// Run listens and refreshes until ctx ends, then closes every stream.
func (h *Hub) Run(ctx context.Context) {
	defer h.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		h.opts.Store.Listen(ctx, []string{store.ChannelChecked, store.ChannelSites}, store.ListenOptions{
			Logger:       h.opts.Logger,
			OnNotify:     h.onNotify,
			OnState:      h.setUp,
			PingInterval: h.opts.ListenPing,
			Timeout:      h.opts.ListenTimeout,
		})
	})
	if h.opts.Notify != nil || h.opts.Storage != nil {
		wg.Go(func() { h.watchAlerts(ctx) })
	}
	t := time.NewTicker(h.opts.Refresh)
	defer t.Stop()
	for {
		if err := h.refresh(ctx); err != nil && ctx.Err() == nil {
			h.opts.Logger.ErrorContext(ctx, "live board: refresh", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.poke:
		case <-t.C:
			h.wantAll()
		}
	}
}

func (h *Hub) onNotify(channel, payload string) {
	if channel != store.ChannelChecked {
		// The sites changed, or a (re)connection: what was announced
		// meanwhile is lost.
		h.Poke()
		return
	}
	since, err := store.ParseChecked(payload)
	if err != nil {
		h.opts.Logger.Warn("live board: bad notification", "error", err)
		h.Poke()
		return
	}
	h.wantMu.Lock()
	if h.want.since.IsZero() || since.Before(h.want.since) {
		h.want.since = since
	}
	h.wantMu.Unlock()
	h.wake()
}

// Poke asks the hub to re-read the whole board. Pokes and notifications
// coalesce: a burst costs one read.
func (h *Hub) Poke() {
	h.wantAll()
	h.wake()
}

func (h *Hub) wantAll() {
	h.wantMu.Lock()
	h.want.full = true
	h.wantMu.Unlock()
}

func (h *Hub) wake() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

func (h *Hub) takeWant() refreshWant {
	h.wantMu.Lock()
	defer h.wantMu.Unlock()
	w := h.want
	h.want = refreshWant{}
	return w
}

// Close ends every stream and refuses new ones; the server calls it on
// shutdown, since a stream never goes idle by itself.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.clients {
		c.drop()
		delete(h.clients, c)
	}
}

// Clients returns how many streams are open.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *Hub) setUp(up bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.up = up
	if !up {
		h.lostLocked()
	}
	h.broadcastLocked(statusEvent(up))
}

func (h *Hub) lostLocked() {
	if h.lostAt.IsZero() {
		h.lostAt = h.opts.Now()
	}
}

// LostSince returns when the hub lost the database: its LISTEN connection
// went, or a read of the board failed, and no read has succeeded while
// listening since. Zero while all is well, and before the first connection.
func (h *Hub) LostSince() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lostAt
}

func statusEvent(up bool) sseEvent {
	if up {
		return sseEvent{"status", `{"listening":true}`}
	}
	return sseEvent{"status", `{"listening":false}`}
}

// subscribe registers a stream and returns the events that give it the full
// state, taken under the same lock so no change falls between the two.
func (h *Hub) subscribe() (*client, []sseEvent) {
	c := &client{ch: make(chan sseEvent, h.opts.ClientBuffer), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		c.drop()
		return c, nil
	}
	h.clients[c] = struct{}{}
	return c, h.snapshotLocked()
}

func (h *Hub) unsubscribe(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
	c.drop()
}

func (h *Hub) snapshotLocked() []sseEvent {
	evs := []sseEvent{statusEvent(h.up)}
	if h.alerts != "" {
		evs = append(evs, sseEvent{"swap", h.alerts})
	}
	if !h.ready {
		return evs
	}
	for _, slug := range h.order {
		evs = append(evs, sseEvent{"tile", h.tiles[slug]})
	}
	for _, s := range h.summary {
		evs = append(evs, sseEvent{"swap", s})
	}
	evs = append(evs, checkedEvent(h.checked), syncedEvent(h.order))
	return evs
}

func checkedEvent(m map[string]int64) sseEvent {
	b, _ := json.Marshal(m) //nolint:errcheck // a map of strings to numbers
	return sseEvent{"checked", string(b)}
}

func syncedEvent(order []string) sseEvent {
	b, _ := json.Marshal(order) //nolint:errcheck // a slice of strings
	return sseEvent{"synced", string(b)}
}

// broadcastLocked queues events for every stream. A stream that has fallen
// a whole buffer behind is dropped rather than waited for: one stuck TV
// must not hold up the others, and on reconnecting it gets the full state.
func (h *Hub) broadcastLocked(evs ...sseEvent) {
	for c := range h.clients {
		for _, ev := range evs {
			select {
			case c.ch <- ev:
				continue
			default:
			}
			h.opts.Logger.Warn("live board: dropping a slow stream")
			c.drop()
			delete(h.clients, c)
			break
		}
	}
}

// refresh reads what the notifications since the last one announced (or
// the whole board), renders the tiles that changed and broadcasts them. A
// steady board sends only the compact checked event. On an error the next
// refresh reads everything, since what this one was told is lost.
func (h *Hub) refresh(ctx context.Context) error {
	w := h.takeWant()
	if !w.full && w.since.IsZero() && h.ready {
		return nil
	}
	// A locked or saturated database must not hold the board's only reader
	// forever: the read gives up, the page's stale banner tells the room,
	// and the next notification or tick reads everything again.
	actx, cancel := context.WithTimeout(ctx, defaultQueryTimeout)
	defer cancel()
	err := h.apply(actx, w)
	h.mu.Lock()
	switch {
	case err != nil && ctx.Err() == nil:
		h.lostLocked()
	case err == nil && h.up:
		h.lostAt = time.Time{}
	}
	h.mu.Unlock()
	if err != nil {
		h.wantAll()
	}
	return err
}

func (h *Hub) apply(ctx context.Context, w refreshWant) error {
	now := h.opts.Now()
	full := w.full || !h.ready
	var changed []int // indices into h.sites
	if !full {
		rows, err := h.opts.Store.SiteListCheckedSince(ctx, w.since)
		if err != nil {
			return err
		}
		for _, s := range rows {
			i, ok := h.pos[s.ID]
			if !ok || h.sites[i].Slug != s.Slug {
				// A site the last whole read did not have.
				full = true
				break
			}
			h.sites[i] = s
			changed = append(changed, i)
		}
	}
	support := h.supportView
	if full {
		sites, err := h.opts.Store.SiteListActive(ctx)
		if err != nil {
			return err
		}
		// The roster's day turns without a notification; a whole read
		// happens at least every Refresh.
		if support, err = readSupport(ctx, h.opts.Store, now); err != nil {
			return err
		}
		h.sites = sites
		clear(h.pos)
		changed = make([]int, len(sites))
		for i, s := range sites {
			h.pos[s.ID] = i
			changed[i] = i
		}
	}

	var evs []sseEvent
	changedTiles := map[string]string{}
	var freshChecks map[string]int64
	for _, i := range changed {
		s := h.sites[i]
		key := keyOf(s, now)
		if old, ok := h.tileKeys[s.Slug]; !ok || old != key {
			html, err := renderString(ctx, views.Tile(tileView(s, now)))
			if err != nil {
				return err
			}
			h.tileKeys[s.Slug] = key
			changedTiles[s.Slug] = html
			evs = append(evs, sseEvent{"tile", html})
		}
		if s.CheckedAt != nil {
			if ms := s.CheckedAt.UnixMilli(); h.checked[s.Slug] != ms {
				if freshChecks == nil {
					freshChecks = map[string]int64{}
				}
				freshChecks[s.Slug] = ms
			}
		}
	}

	summary := h.summary
	if full || len(changedTiles) > 0 {
		sum := boardSummary(h.sites, now)
		if newKey := summaryKey(sum); newKey != h.summaryKey || !h.ready {
			counts, err := renderString(ctx, views.Counts(sum))
			if err != nil {
				return err
			}
			strip, err := renderString(ctx, views.Strip(sum))
			if err != nil {
				return err
			}
			summary[0], summary[1] = counts, strip
			h.summaryKey = newKey
			evs = append(evs, sseEvent{"swap", counts}, sseEvent{"swap", strip})
		}
	}
	if support != h.supportView || !h.ready {
		html, err := renderString(ctx, views.Support(support))
		if err != nil {
			return err
		}
		summary[2] = html
		h.supportView = support
		evs = append(evs, sseEvent{"swap", html})
	}
	if freshChecks != nil {
		evs = append(evs, checkedEvent(freshChecks))
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	for slug, html := range changedTiles {
		h.tiles[slug] = html
	}
	for slug, ms := range freshChecks {
		h.checked[slug] = ms
	}
	if full {
		order := make([]string, len(h.sites))
		seen := make(map[string]bool, len(h.sites))
		for i, s := range h.sites {
			order[i] = s.Slug
			seen[s.Slug] = true
		}
		for slug := range h.tiles {
			if !seen[slug] {
				delete(h.tiles, slug)
				delete(h.tileKeys, slug)
				delete(h.checked, slug)
			}
		}
		if !h.ready || !slices.Equal(order, h.order) {
			evs = append(evs, syncedEvent(order))
		}
		h.order = order
	}
	h.summary, h.ready = summary, true
	if len(evs) > 0 {
		h.broadcastLocked(evs...)
	}
	return nil
}

func summaryKey(s views.SummaryView) string {
	var b strings.Builder
	for _, st := range []string{"notok", "pending", "ok", "unknown"} {
		b.WriteString(strconv.Itoa(s.Counts[st]) + ",")
	}
	for _, t := range s.Failing {
		fmt.Fprintf(&b, "|%q %q %q %q", t.Slug, t.Name, t.Since, t.Reason)
	}
	return b.String()
}

func renderString(ctx context.Context, c templ.Component) (string, error) {
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	return buf.String(), nil
}
