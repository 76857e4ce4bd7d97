package web

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// boardNow is the instant the board-state tests read the board at.
var boardNow = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// fakeBoardReader is a board in memory: the sites in order, each with its
// latest probe, and the roster; it counts whole and incremental reads.
type fakeBoardReader struct {
	mu          sync.Mutex
	sites       []store.Site
	shifts      []store.Shift
	err         error
	full, since int
}

func (f *fakeBoardReader) SiteListActive(context.Context) ([]store.Site, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.full++
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.sites), nil
}

func (f *fakeBoardReader) SiteListCheckedSince(_ context.Context, since time.Time) ([]store.Site, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.since++
	if f.err != nil {
		return nil, f.err
	}
	var out []store.Site
	for _, s := range f.sites {
		if s.CheckedAt != nil && !s.CheckedAt.Before(since) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeBoardReader) RosterBetween(context.Context, time.Time, time.Time) ([]store.Shift, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.shifts), nil
}

// probe records a probe of the site with slug at at.
func (f *fakeBoardReader) probe(slug string, at time.Time, state store.State, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.sites {
		s := &f.sites[i]
		if s.Slug != slug {
			continue
		}
		if s.State != state || s.Since == nil {
			s.Since = &at
		}
		s.State, s.Reason, s.CheckedAt = state, reason, &at
		return
	}
	panic("no site " + slug)
}

func newFakeBoard(slugs ...string) *fakeBoardReader {
	f := &fakeBoardReader{}
	for i, slug := range slugs {
		f.sites = append(f.sites, store.Site{
			ID: int32(i + 1), Slug: slug, Name: strings.ToUpper(slug), State: store.StateUnknown, Interval: time.Minute,
		})
	}
	return f
}

// eventNames is the names of evs, in order, with a tile's slug after it
// ("tile api"), so that a test states what a change sends at a glance.
func eventNames(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.name
		if ev.name == "tile" {
			_, rest, _ := strings.Cut(ev.data, `data-slug="`)
			slug, _, _ := strings.Cut(rest, `"`)
			out[i] += " " + slug
		}
	}
	return out
}

// readCommit reads w at now and commits it, failing the test on an error.
func readCommit(t *testing.T, b *boardState, w refreshWant, now time.Time) []sseEvent {
	t.Helper()
	c, err := b.read(context.Background(), w, now)
	if err != nil {
		t.Fatalf("read %+v: %v", w, err)
	}
	return b.commit(c)
}

func wantEvents(t *testing.T, what string, evs []sseEvent, want ...string) {
	t.Helper()
	if got := eventNames(evs); !slices.Equal(got, want) {
		t.Errorf("%s sent %q, want %q", what, got, want)
	}
}

// event returns the data of the first event named name in evs.
func event(t *testing.T, evs []sseEvent, name string) string {
	t.Helper()
	for _, ev := range evs {
		if ev.name == name {
			return ev.data
		}
	}
	t.Fatalf("no %s event in %q", name, eventNames(evs))
	return ""
}

// TestBoardStateFromStore drives the board's state with reads from a real
// store, without LISTEN: the first read sends everything, a probe that
// changes nothing on a tile sends only its time, a site turning red sends
// its tile and the summary, and a site the last whole read did not have
// makes the incremental read a whole one.
func TestBoardStateFromStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	specs := []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute},
		{Slug: "web", Name: "Web", URL: "https://web.example.com/", Interval: time.Minute},
	}
	ids, err := st.SiteSync(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	write := func(slug string, at time.Time, state store.State, reason string) {
		t.Helper()
		if _, err := st.WriteProbes(ctx, []store.Probe{{SiteID: ids[slug], At: at, State: state, Reason: reason}}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := boardNow.Add(-time.Minute)
	write("api", t0, store.StateOK, "")
	write("web", t0, store.StateOK, "")

	b := newBoardState(st)
	if !b.needsRead(refreshWant{}) {
		t.Error("an unread board needs no read")
	}
	evs := readCommit(t, b, refreshWant{full: true}, boardNow)
	wantEvents(t, "the first read", evs, "tile api", "tile web", "swap", "swap", "swap", "checked", "synced")
	if got, want := event(t, evs, "synced"), `["api","web"]`; got != want {
		t.Errorf("synced %s, want %s", got, want)
	}
	if b.needsRead(refreshWant{}) {
		t.Error("a read board with nothing announced needs a read")
	}

	// Another green probe: only its time moves.
	t1 := t0.Add(30 * time.Second)
	write("api", t1, store.StateOK, "")
	evs = readCommit(t, b, refreshWant{since: t1}, boardNow)
	wantEvents(t, "a steady probe", evs, "checked")
	if got, want := event(t, evs, "checked"), `{"api":`+unixMs(t1)+`}`; got != want {
		t.Errorf("checked %s, want %s", got, want)
	}

	// Web turns red: its tile, the counts and the strip.
	t2 := t1.Add(time.Second)
	write("web", t2, store.StateNotOK, "HTTP 503")
	evs = readCommit(t, b, refreshWant{since: t2}, boardNow)
	wantEvents(t, "a site turning red", evs, "tile web", "swap", "swap", "checked")
	if tile := evs[0].data; !strings.Contains(tile, `data-state="notok"`) || !strings.Contains(tile, "HTTP 503") {
		t.Errorf("web's tile does not show it red with its reason:\n%s", tile)
	}
	if counts := evs[1].data; !strings.Contains(counts, `id="counts"`) {
		t.Errorf("the first swap is not the counts:\n%s", counts)
	}

	// A site added to the config and probed before the next whole read:
	// the incremental read finds a site it does not know, and reads all.
	ids, err = st.SiteSync(ctx, append(specs, store.SiteSpec{Slug: "new", Name: "New", URL: "https://new.example.com/", Interval: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	t3 := t2.Add(time.Second)
	write("new", t3, store.StateOK, "")
	evs = readCommit(t, b, refreshWant{since: t3}, boardNow)
	wantEvents(t, "an unknown site", evs, "tile new", "swap", "swap", "checked", "synced")
	if got, want := event(t, evs, "synced"), `["api","web","new"]`; got != want {
		t.Errorf("synced %s, want %s", got, want)
	}

	// A stream connecting now gets all of it, in the board's order.
	wantEvents(t, "the snapshot", b.snapshot(), "tile api", "tile web", "tile new", "swap", "swap", "swap", "checked", "synced")
	if got, want := event(t, b.snapshot(), "checked"), `{"api":`+unixMs(t1)+`,"new":`+unixMs(t3)+`,"web":`+unixMs(t2)+`}`; got != want {
		t.Errorf("snapshot checked %s, want %s", got, want)
	}
}

func unixMs(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestBoardState(t *testing.T) {
	t.Parallel()

	t.Run("UnannouncedSitesAreNotRead", func(t *testing.T) {
		t.Parallel()
		f := newFakeBoard("a", "b", "c")
		b := newBoardState(f)
		readCommit(t, b, refreshWant{full: true}, boardNow)
		at := boardNow.Add(-time.Second)
		f.probe("b", at, store.StateOK, "")
		evs := readCommit(t, b, refreshWant{since: at}, boardNow)
		// The counts change, and the strip is sent with them.
		wantEvents(t, "b's first probe", evs, "tile b", "swap", "swap", "checked")
		if f.full != 1 || f.since != 1 {
			t.Errorf("%d whole and %d incremental reads, want 1 and 1", f.full, f.since)
		}
	})

	t.Run("RemovedSiteLeaves", func(t *testing.T) {
		t.Parallel()
		f := newFakeBoard("a", "b", "c")
		b := newBoardState(f)
		f.probe("b", boardNow, store.StateNotOK, "down")
		readCommit(t, b, refreshWant{full: true}, boardNow)
		f.sites = slices.Delete(f.sites, 1, 2)
		evs := readCommit(t, b, refreshWant{full: true}, boardNow)
		// Its tile is gone from the order, and the counts and the strip
		// no longer hold it.
		wantEvents(t, "b's removal", evs, "swap", "swap", "synced")
		snap := b.snapshot()
		wantEvents(t, "the snapshot", snap, "tile a", "tile c", "swap", "swap", "swap", "checked", "synced")
		if got := event(t, snap, "checked"); got != `{}` {
			t.Errorf("snapshot checked %s, want b's probe gone", got)
		}
		// Back again: its tile is sent again, as to a new site.
		f.sites = slices.Insert(f.sites, 1, store.Site{ID: 2, Slug: "b", Name: "B", State: store.StateOK, Interval: time.Minute})
		evs = readCommit(t, b, refreshWant{full: true}, boardNow)
		wantEvents(t, "b's return", evs, "tile b", "swap", "swap", "synced")
	})

	t.Run("SameOrderIsNotSyncedAgain", func(t *testing.T) {
		t.Parallel()
		f := newFakeBoard("a", "b")
		b := newBoardState(f)
		readCommit(t, b, refreshWant{full: true}, boardNow)
		// A whole read of a board that has not changed (the Refresh
		// tick) sends nothing.
		wantEvents(t, "a whole read of the same board", readCommit(t, b, refreshWant{full: true}, boardNow))
	})

	t.Run("RosterChangeSwapsSupport", func(t *testing.T) {
		t.Parallel()
		f := newFakeBoard("a")
		b := newBoardState(f)
		readCommit(t, b, refreshWant{full: true}, boardNow)
		day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local)
		f.shifts = []store.Shift{{Start: day, End: day.AddDate(0, 0, 3), Person: "Ada Lovelace", Contact: "@ada"}}
		// An incremental read does not read the roster; the next whole
		// one does, and sends only the support line.
		wantEvents(t, "an incremental read", readCommit(t, b, refreshWant{since: boardNow}, boardNow))
		evs := readCommit(t, b, refreshWant{full: true}, boardNow)
		wantEvents(t, "a new person on support", evs, "swap")
		if !strings.Contains(evs[0].data, "Ada Lovelace") {
			t.Errorf("the support line does not name Ada:\n%s", evs[0].data)
		}
	})

	t.Run("FailedReadChangesNothing", func(t *testing.T) {
		t.Parallel()
		f := newFakeBoard("a", "b")
		b := newBoardState(f)
		readCommit(t, b, refreshWant{full: true}, boardNow)
		before := b.snapshot()
		f.probe("a", boardNow, store.StateNotOK, "down")
		f.err = errors.New("connection refused")
		if _, err := b.read(context.Background(), refreshWant{since: boardNow}, boardNow); err == nil {
			t.Fatal("a read of a failing database succeeded")
		}
		if _, err := b.read(context.Background(), refreshWant{full: true}, boardNow); err == nil {
			t.Fatal("a read of a failing database succeeded")
		}
		if got := b.snapshot(); !slices.Equal(got, before) {
			t.Errorf("a failed read changed the snapshot: %q, was %q", eventNames(got), eventNames(before))
		}
		f.err = nil
		evs := readCommit(t, b, refreshWant{full: true}, boardNow)
		wantEvents(t, "the read after the database came back", evs, "tile a", "swap", "swap", "checked")
	})

	t.Run("UncommittedChangeIsSentAgain", func(t *testing.T) {
		t.Parallel()
		// A read whose change was never committed (never sent) leaves the
		// sent state as it was, so the next read finds the same change.
		f := newFakeBoard("a")
		b := newBoardState(f)
		readCommit(t, b, refreshWant{full: true}, boardNow)
		f.probe("a", boardNow, store.StateNotOK, "down")
		first, err := b.read(context.Background(), refreshWant{since: boardNow}, boardNow)
		if err != nil {
			t.Fatal(err)
		}
		evs := readCommit(t, b, refreshWant{since: boardNow}, boardNow)
		if !slices.Equal(evs, first.events) {
			t.Errorf("the second read sent %q, the uncommitted first %q", eventNames(evs), eventNames(first.events))
		}
	})

	t.Run("CertificateWarningChangesTheTile", func(t *testing.T) {
		t.Parallel()
		// The tile's key holds the certificate line, which begins with
		// the clock, not with a probe: a whole read at a later now sends
		// the tile again.
		f := newFakeBoard("a")
		f.probe("a", boardNow, store.StateOK, "")
		warnFrom := boardNow.Add(6 * 24 * time.Hour)
		f.sites[0].Cert = &store.Cert{ExpiresAt: boardNow.Add(20 * 24 * time.Hour), WarnFrom: &warnFrom}
		b := newBoardState(f)
		evs := readCommit(t, b, refreshWant{full: true}, boardNow)
		if strings.Contains(event(t, evs, "tile"), "certificate expires") {
			t.Fatalf("the tile warns 20 days ahead:\n%s", event(t, evs, "tile"))
		}
		later := boardNow.Add(7 * 24 * time.Hour)
		evs = readCommit(t, b, refreshWant{full: true}, later)
		wantEvents(t, "a whole read a week later", evs, "tile a")
		if !strings.Contains(evs[0].data, "certificate expires in 13 days") {
			t.Errorf("the tile does not warn of the certificate:\n%s", evs[0].data)
		}
	})
}
