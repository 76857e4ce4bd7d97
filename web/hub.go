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
}

// Hub is the one live-update source of a process. It holds a single LISTEN
// connection, re-reads the board when PostgreSQL announces probes or
// transitions, renders what changed with the board's own components, and
// fans the fragments out to every /events stream.
type Hub struct {
	opts HubOptions
	poke chan struct{}

	mu      sync.Mutex
	clients map[*client]struct{}
	closed  bool
	up      bool // the LISTEN connection is established
	ready   bool // the board has been read once
	order   []string
	tiles   map[string]string // slug → rendered tile
	summary [3]string         // rendered counts, strip and support
	checked map[string]int64  // slug → last probe, Unix ms
	alerts  string            // rendered footer, once read (alerts.go)

	// Owned by the refresh loop.
	tileKeys    map[string]views.TileView
	summaryKey  string
	supportView views.SupportView
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
		clients:  map[*client]struct{}{},
		tiles:    map[string]string{},
		checked:  map[string]int64{},
		tileKeys: map[string]views.TileView{},
	}
}

// Run listens and refreshes until ctx ends, then closes every stream.
func (h *Hub) Run(ctx context.Context) {
	defer h.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		h.opts.Store.Listen(ctx, []string{store.ChannelProbes, store.ChannelTransition}, store.ListenOptions{
			Logger:   h.opts.Logger,
			OnNotify: func(string, string) { h.Poke() },
			OnState:  h.setUp,
		})
	})
	if h.opts.Notify != nil {
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
		}
	}
}

// Poke asks the hub to re-read the board. Pokes coalesce: a burst of
// notifications costs one read.
func (h *Hub) Poke() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
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
	h.broadcastLocked(statusEvent(up))
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

// refresh reads the board, renders what changed since the last read and
// broadcasts it. Tiles are compared without their "for 5m" text and probe
// time, which the page's script keeps current, so a steady board sends
// only the compact checked event.
func (h *Hub) refresh(ctx context.Context) error {
	sites, err := h.opts.Store.SiteListActive(ctx)
	if err != nil {
		return err
	}
	now := h.opts.Now()
	support, err := readSupport(ctx, h.opts.Store, now)
	if err != nil {
		return err
	}
	_, sum := boardTiles(sites, now)

	var evs []sseEvent
	order := make([]string, len(sites))
	changedTiles := map[string]string{}
	checked := make(map[string]int64, len(sites))
	seen := make(map[string]bool, len(sites))
	var freshChecks map[string]int64
	for i, s := range sites {
		order[i] = s.Slug
		seen[s.Slug] = true
		tv := tileView(s, now)
		key := tv
		key.For, key.Checked = "", ""
		if old, ok := h.tileKeys[s.Slug]; !ok || old != key {
			html, err := renderString(ctx, views.Tile(tv))
			if err != nil {
				return err
			}
			h.tileKeys[s.Slug] = key
			changedTiles[s.Slug] = html
			evs = append(evs, sseEvent{"tile", html})
		}
		if s.CheckedAt != nil {
			ms := s.CheckedAt.UnixMilli()
			checked[s.Slug] = ms
			if h.checked[s.Slug] != ms {
				if freshChecks == nil {
					freshChecks = map[string]int64{}
				}
				freshChecks[s.Slug] = ms
			}
		}
	}
	for slug := range h.tileKeys {
		if !seen[slug] {
			delete(h.tileKeys, slug)
		}
	}

	var summary [3]string
	newSummary := summaryKey(sum)
	h.mu.Lock()
	summary = h.summary
	h.mu.Unlock()
	if newSummary != h.summaryKey || !h.ready {
		counts, err := renderString(ctx, views.Counts(sum))
		if err != nil {
			return err
		}
		strip, err := renderString(ctx, views.Strip(sum))
		if err != nil {
			return err
		}
		summary[0], summary[1] = counts, strip
		h.summaryKey = newSummary
		evs = append(evs, sseEvent{"swap", counts}, sseEvent{"swap", strip})
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
	orderChanged := !h.ready || !slices.Equal(order, h.order)
	for slug, html := range changedTiles {
		h.tiles[slug] = html
	}
	for slug := range h.tiles {
		if !seen[slug] {
			delete(h.tiles, slug)
		}
	}
	h.order, h.summary, h.checked, h.ready = order, summary, checked, true
	if orderChanged {
		evs = append(evs, syncedEvent(order))
	}
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
