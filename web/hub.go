package web

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/walnut-board/walnut/store"
)

// HubStore is what the live hub needs of the database: what the board's
// state reads, and LISTEN. *store.Store has it.
type HubStore interface {
	boardReader
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
// connection, has the board's state (boardstate.go) re-read the sites
// PostgreSQL announces as checked and render what changed with the board's
// own components, and fans the fragments out to every /events stream.
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
	lostAt time.Time
	alerts string // rendered footer, once read (alerts.go)
	// board is read by the refresh loop, and committed and snapshotted
	// under mu, so that a stream's full state and the changes after it
	// neither overlap nor leave a gap.
	board *boardState
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
		opts:    opts,
		poke:    make(chan struct{}, 1),
		want:    refreshWant{full: true},
		clients: map[*client]struct{}{},
		board:   newBoardState(opts.Store),
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
	return append(evs, h.board.snapshot()...)
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
// the whole board), and broadcasts what changed. A steady board sends only
// the compact checked event. On an error the next refresh reads everything,
// since what this one was told is lost.
func (h *Hub) refresh(ctx context.Context) error {
	w := h.takeWant()
	// Only this loop commits, so it may ask without the lock.
	if !h.board.needsRead(w) {
		return nil
	}
	// A locked or saturated database must not hold the board's only reader
	// forever: the read gives up, the page's stale banner tells the room,
	// and the next notification or tick reads everything again.
	actx, cancel := context.WithTimeout(ctx, defaultQueryTimeout)
	defer cancel()
	change, err := h.board.read(actx, w, h.opts.Now())
	h.mu.Lock()
	switch {
	case err != nil && ctx.Err() == nil:
		h.lostLocked()
	case err == nil:
		if evs := h.board.commit(change); len(evs) > 0 {
			h.broadcastLocked(evs...)
		}
		if h.up {
			h.lostAt = time.Time{}
		}
	}
	h.mu.Unlock()
	if err != nil {
		h.wantAll()
	}
	return err
}
