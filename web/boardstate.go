package web

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/views"
)

// boardReader is what the live board reads: every site, the sites checked
// since an instant, and the roster. *store.Store has it; the hub's store
// adds LISTEN.
type boardReader interface {
	SiteListActive(ctx context.Context) ([]store.Site, error)
	SiteListCheckedSince(ctx context.Context, since time.Time) ([]store.Site, error)
	Roster
}

// boardState is the live board: what was last read of it, and what the
// streams have been sent of it (the rendered tiles, the summary, the probe
// times, the order). It knows nothing of LISTEN or of the streams: read
// turns a want into a boardChange, the events that bring a stream from the
// sent state to the one just read; commit makes that the sent state; and
// snapshot is the whole sent state, for a stream that has just connected.
//
// It is not safe for concurrent use. The hub calls read and commit from its
// one refresh loop, and commit and snapshot under its lock: read only
// reads what commit writes, so it needs no lock while it waits on the
// database.
type boardState struct {
	reader boardReader

	// What was read: the board in order, as of the last whole read plus the
	// sites read since, and where each site is in it.
	sites []store.Site
	pos   map[int32]int // site id → index in sites

	// What the streams have been sent; commit alone writes these.
	ready      bool // a whole read has been committed
	order      []string
	tiles      map[string]string  // slug → rendered tile
	tileKeys   map[string]tileKey // slug → what its tile shows
	checked    map[string]int64   // slug → last probe, Unix ms
	summary    [3]string          // rendered counts, strip and support
	summaryKey string
	support    views.SupportView
}

// refreshWant is what the next read must cover: everything, or the sites
// checked since an instant.
type refreshWant struct {
	full  bool
	since time.Time // zero: nothing announced
}

// boardChange is what one read found: the events for the streams, in the
// order they are sent, and the sent state that they make.
type boardChange struct {
	events []sseEvent
	tiles  map[string]string  // rendered tiles that changed
	keys   map[string]tileKey // their keys
	// checked holds the probe times that moved.
	checked    map[string]int64
	summary    [3]string
	summaryKey string
	support    views.SupportView
	// order is the board's order after a whole read, nil after an
	// incremental one; removed lists the slugs that left the board.
	order   []string
	removed []string
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

func newBoardState(r boardReader) *boardState {
	return &boardState{
		reader:   r,
		pos:      map[int32]int{},
		tiles:    map[string]string{},
		tileKeys: map[string]tileKey{},
		checked:  map[string]int64{},
	}
}

// needsRead reports whether w asks for anything: before the first whole
// read, it always does.
func (b *boardState) needsRead(w refreshWant) bool {
	return w.full || !w.since.IsZero() || !b.ready
}

// read reads what w asks for (the whole board, or the sites checked since
// w.since), as of now, and renders what differs from the sent state. An
// incremental read that meets a site the last whole read did not have
// reads everything. On an error nothing is to be sent, and the next read
// should be a whole one.
func (b *boardState) read(ctx context.Context, w refreshWant, now time.Time) (boardChange, error) {
	full := w.full || !b.ready
	var changed []int // indices into b.sites
	if !full {
		rows, err := b.reader.SiteListCheckedSince(ctx, w.since)
		if err != nil {
			return boardChange{}, err
		}
		for _, s := range rows {
			i, ok := b.pos[s.ID]
			if !ok || b.sites[i].Slug != s.Slug {
				full = true
				break
			}
			b.sites[i] = s
			changed = append(changed, i)
		}
	}
	support := b.support
	if full {
		sites, err := b.reader.SiteListActive(ctx)
		if err != nil {
			return boardChange{}, err
		}
		// The roster's day turns without a notification; a whole read
		// happens at least every Refresh.
		if support, err = readSupport(ctx, b.reader, now); err != nil {
			return boardChange{}, err
		}
		b.sites = sites
		clear(b.pos)
		changed = make([]int, len(sites))
		for i, s := range sites {
			b.pos[s.ID] = i
			changed[i] = i
		}
	}

	c := boardChange{summary: b.summary, summaryKey: b.summaryKey, support: b.support}
	for _, i := range changed {
		s := b.sites[i]
		key := keyOf(s, now)
		if old, ok := b.tileKeys[s.Slug]; !ok || old != key {
			html, err := renderString(ctx, views.Tile(tileView(s, now)))
			if err != nil {
				return boardChange{}, err
			}
			if c.tiles == nil {
				c.tiles, c.keys = map[string]string{}, map[string]tileKey{}
			}
			c.tiles[s.Slug], c.keys[s.Slug] = html, key
			c.events = append(c.events, sseEvent{"tile", html})
		}
		if s.CheckedAt != nil {
			if ms := s.CheckedAt.UnixMilli(); b.checked[s.Slug] != ms {
				if c.checked == nil {
					c.checked = map[string]int64{}
				}
				c.checked[s.Slug] = ms
			}
		}
	}

	if full || len(c.tiles) > 0 {
		sum := boardSummary(b.sites, now)
		if key := summaryKey(sum); key != b.summaryKey || !b.ready {
			counts, err := renderString(ctx, views.Counts(sum))
			if err != nil {
				return boardChange{}, err
			}
			strip, err := renderString(ctx, views.Strip(sum))
			if err != nil {
				return boardChange{}, err
			}
			c.summary[0], c.summary[1], c.summaryKey = counts, strip, key
			c.events = append(c.events, sseEvent{"swap", counts}, sseEvent{"swap", strip})
		}
	}
	if support != b.support || !b.ready {
		html, err := renderString(ctx, views.Support(support))
		if err != nil {
			return boardChange{}, err
		}
		c.summary[2], c.support = html, support
		c.events = append(c.events, sseEvent{"swap", html})
	}
	if c.checked != nil {
		c.events = append(c.events, checkedEvent(c.checked))
	}

	if full {
		c.order = make([]string, len(b.sites))
		on := make(map[string]bool, len(b.sites))
		for i, s := range b.sites {
			c.order[i] = s.Slug
			on[s.Slug] = true
		}
		for slug := range b.tiles {
			if !on[slug] {
				c.removed = append(c.removed, slug)
			}
		}
		if !b.ready || !slices.Equal(c.order, b.order) {
			c.events = append(c.events, syncedEvent(c.order))
		}
	}
	return c, nil
}

// commit makes c the sent state and returns its events.
func (b *boardState) commit(c boardChange) []sseEvent {
	maps.Copy(b.tiles, c.tiles)
	maps.Copy(b.tileKeys, c.keys)
	maps.Copy(b.checked, c.checked)
	for _, slug := range c.removed {
		delete(b.tiles, slug)
		delete(b.tileKeys, slug)
		delete(b.checked, slug)
	}
	if c.order != nil {
		b.order = c.order
	}
	b.summary, b.summaryKey, b.support = c.summary, c.summaryKey, c.support
	b.ready = true
	return c.events
}

// snapshot is the sent state as events, for a stream that has just
// connected: every tile in order, the summary, the probe times, and synced.
// Nil before the first whole read.
func (b *boardState) snapshot() []sseEvent {
	if !b.ready {
		return nil
	}
	evs := make([]sseEvent, 0, len(b.order)+len(b.summary)+2)
	for _, slug := range b.order {
		evs = append(evs, sseEvent{"tile", b.tiles[slug]})
	}
	for _, s := range b.summary {
		evs = append(evs, sseEvent{"swap", s})
	}
	return append(evs, checkedEvent(b.checked), syncedEvent(b.order))
}

func checkedEvent(m map[string]int64) sseEvent {
	b, _ := json.Marshal(m) //nolint:errcheck // a map of strings to numbers
	return sseEvent{"checked", string(b)}
}

func syncedEvent(order []string) sseEvent {
	b, _ := json.Marshal(order) //nolint:errcheck // a slice of strings
	return sseEvent{"synced", string(b)}
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
