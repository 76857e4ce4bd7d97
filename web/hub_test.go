package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// countingStore counts the hub's whole reads and incremental reads.
type countingStore struct {
	*store.Store
	full, since atomic.Int32
}

func (c *countingStore) SiteListActive(ctx context.Context) ([]store.Site, error) {
	c.full.Add(1)
	return c.Store.SiteListActive(ctx)
}

func (c *countingStore) SiteListCheckedSince(ctx context.Context, since time.Time) ([]store.Site, error) {
	c.since.Add(1)
	return c.Store.SiteListCheckedSince(ctx, since)
}

// TestHubReadsIncrementally checks that a steady board is kept current from
// the walnut_checked notices alone: probes, a late probe and a site that
// appears after the hub started all reach the stream, and only the change of
// sites costs a whole read.
func TestHubReadsIncrementally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute},
		{Slug: "web", Name: "Web", URL: "https://web.example.com/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := web.NewHub(web.HubOptions{Store: cs, Logger: logger, Refresh: time.Hour})
	hubCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { hub.Run(hubCtx); close(done) }()
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: logger, Hub: hub}))
	t.Cleanup(func() { stop(); <-done; srv.Close() })

	events := openStream(t, srv.URL)
	// Listening and the first whole read come in either order.
	var listening, synced bool
	waitFor(t, events, "listening and synced", func(ev sse) bool {
		listening = listening || named("status", `"listening":true`)(ev)
		synced = synced || named("synced", `["api","web"]`)(ev)
		return listening && synced
	})

	write := func(p store.Probe) {
		t.Helper()
		if _, err := st.WriteProbes(ctx, []store.Probe{p}); err != nil {
			t.Fatal(err)
		}
	}
	checked := func(slug string, at time.Time) string {
		return `"` + slug + `":` + strconv.FormatInt(at.Truncate(time.Microsecond).UnixMilli(), 10)
	}

	// The first write may still meet the whole read that follows LISTEN's
	// connection; from then on the board is read incrementally.
	now := time.Now()
	write(store.Probe{SiteID: ids["api"], At: now, State: store.StateOK})
	waitFor(t, events, "api's first probe", named("checked", checked("api", now)))
	fullBefore := cs.full.Load()
	sinceBefore := cs.since.Load()

	for i := range 3 {
		at := now.Add(time.Duration(i+1) * time.Second)
		state := store.StateOK
		if i == 1 {
			state = store.StateNotOK
		}
		write(store.Probe{SiteID: ids["api"], At: at, State: state, Reason: "probe " + strconv.Itoa(i)})
		// The hub sends a changed tile before the probe times.
		if state == store.StateNotOK {
			waitFor(t, events, "api turning red", named("tile", `data-slug="api"`, `data-state="notok"`))
		}
		waitFor(t, events, "api's probe "+strconv.Itoa(i), named("checked", checked("api", at)))
	}

	// A probe an hour late (a backlog written after an outage) is announced
	// with its own time, so the incremental read still finds it.
	late := now.Add(-time.Hour)
	write(store.Probe{SiteID: ids["web"], At: late, State: store.StateNotOK, Reason: "HTTP 502"})
	waitFor(t, events, "web's late probe", named("tile", `data-slug="web"`, `data-state="notok"`, "HTTP 502"))
	waitFor(t, events, "web's late probe time", named("checked", checked("web", late)))

	if got := cs.full.Load(); got != fullBefore {
		t.Errorf("whole reads went from %d to %d while only probes arrived", fullBefore, got)
	}
	if got := cs.since.Load() - sinceBefore; got < 4 {
		t.Errorf("%d incremental reads for 4 announced writes", got)
	}

	// Syncing the config announces the new site, and the hub reads
	// everything again.
	ids2, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute},
		{Slug: "web", Name: "Web", URL: "https://web.example.com/", Interval: time.Minute},
		{Slug: "new", Name: "New", URL: "https://new.example.com/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, events, "synced with the new site", named("synced", `["api","web","new"]`))
	write(store.Probe{SiteID: ids2["new"], At: time.Now(), State: store.StateOK})
	waitFor(t, events, "the new site's tile", named("tile", `data-slug="new"`, `data-state="ok"`))
	if cs.full.Load() == fullBefore {
		t.Error("a new site was shown without a whole read")
	}

	// A site removed from the config leaves the board when the config is
	// synced, with no probe to announce it.
	if _, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute},
		{Slug: "new", Name: "New", URL: "https://new.example.com/", Interval: time.Minute},
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, events, "synced without the removed site", named("synced", `["api","new"]`))
}

// TestHubNoticesHalfOpenListen freezes the network path under the hub's
// LISTEN connection, as a dead route or a NAT that forgot the flow does:
// nothing is closed and nothing arrives. The hub's ping goes unanswered, the
// stream says the server is no longer listening, and it says so again
// when the path carries bytes.
func TestHubNoticesHalfOpenListen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.NewDatabase(t)
	proxy := storetest.NewProxy(t, dbURL)
	st, err := store.Open(ctx, proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := web.NewHub(web.HubOptions{
		Store: st, Logger: logger, Refresh: time.Hour,
		ListenPing: 20 * time.Millisecond, ListenTimeout: 2 * time.Second,
	})
	hubCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { hub.Run(hubCtx); close(done) }()
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: logger, Hub: hub}))
	t.Cleanup(func() { stop(); <-done; srv.Close() })

	events := openStream(t, srv.URL)
	waitFor(t, events, "listening", named("status", `"listening":true`))
	proxy.Freeze()
	waitFor(t, events, "not listening once the path froze", named("status", `"listening":false`))
	proxy.Resume()
	waitFor(t, events, "listening again", named("status", `"listening":true`))
}
