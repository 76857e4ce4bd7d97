package web_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

type sse struct{ name, data string }

// openStream connects to /events and returns its events as they arrive; the
// channel closes when the stream ends.
func openStream(t *testing.T, url string) <-chan sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	out := make(chan sse, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				out <- ev
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if ev.data != "" {
					ev.data += "\n"
				}
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

// waitFor reads events until one matches, failing after a generous bound.
func waitFor(t *testing.T, events <-chan sse, what string, match func(sse) bool) sse {
	t.Helper()
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout.C:
			t.Fatalf("no %s within 20s", what)
		}
	}
}

func named(name string, contains ...string) func(sse) bool {
	return func(ev sse) bool {
		if ev.name != name {
			return false
		}
		for _, c := range contains {
			if !strings.Contains(ev.data, c) {
				return false
			}
		}
		return true
	}
}

type liveBundle struct {
	server *httptest.Server
	store  *store.Store
	hub    *web.Hub
	ids    map[string]int32
}

func setupLive(t *testing.T) liveBundle {
	t.Helper()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", Group: "Apps", URL: "https://api.example.com/", Interval: time.Minute},
		{Slug: "ci", Name: "CI <script>", Group: "Builds", URL: "https://ci.example.com/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := web.NewHub(web.HubOptions{Store: st, Logger: logger, Heartbeat: 200 * time.Millisecond})
	hubCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { hub.Run(hubCtx); close(done) }()
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: logger, Version: "v-test", Hub: hub, Roster: st}))
	t.Cleanup(func() { stop(); <-done; srv.Close() })
	return liveBundle{server: srv, store: st, hub: hub, ids: ids}
}

func TestEventsStream(t *testing.T) {
	t.Parallel()
	b := setupLive(t)
	events := openStream(t, b.server.URL)

	waitFor(t, events, "hello with the version", named("hello", `"version":"v-test"`))
	waitFor(t, events, "the api tile", named("tile", `data-slug="api"`, `data-state="unknown"`))
	ci := waitFor(t, events, "the ci tile", named("tile", `data-slug="ci"`))
	if strings.Contains(ci.data, "<script>") {
		t.Errorf("tile data not escaped: %s", ci.data)
	}
	waitFor(t, events, "synced", named("synced", `["api","ci"]`))

	// A probe written elsewhere reaches the stream through LISTEN.
	now := time.Now()
	if _, err := b.store.WriteProbes(context.Background(), []store.Probe{
		{SiteID: b.ids["api"], At: now, State: store.StateNotOK, HTTPStatus: 503, Reason: "HTTP 503"},
	}); err != nil {
		t.Fatal(err)
	}
	tile := waitFor(t, events, "the api tile turning red", named("tile", `data-slug="api"`, `data-state="notok"`))
	if !strings.Contains(tile.data, "HTTP 503") {
		t.Errorf("red tile without its reason: %s", tile.data)
	}
	waitFor(t, events, "the counts", named("swap", `id="counts"`, "1 DOWN"))
	waitFor(t, events, "the strip naming api", named("swap", `id="strip"`, `data-slug="api"`))
	waitFor(t, events, "the probe time", named("checked", `"api":`+strconv.FormatInt(now.Truncate(time.Microsecond).UnixMilli(), 10)))
	waitFor(t, events, "a heartbeat", named("ping"))

	// Today's person, once the roster changes and the hub re-reads.
	today := time.Now()
	if err := b.store.RosterReplace(context.Background(), []store.Shift{{Start: dayOf(today.AddDate(0, 0, -1)), End: dayOf(today.AddDate(0, 0, 1)), Person: "Ada"}}); err != nil {
		t.Fatal(err)
	}
	b.hub.Poke()
	waitFor(t, events, "the support person", named("swap", `id="support"`, "Ada"))

	// A second stream gets the full, current state at once.
	second := openStream(t, b.server.URL)
	waitFor(t, second, "the current api tile", named("tile", `data-slug="api"`, `data-state="notok"`))
	waitFor(t, second, "synced", named("synced"))

	// Closing the hub ends every stream.
	b.hub.Close()
	for range events {
	}
	for range second {
	}
}

func TestEventsWithoutHub(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, _ := get(t, b.server.URL+"/events")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404 when live updates are off", resp.StatusCode)
	}
}

func TestKiosk(t *testing.T) {
	t.Parallel()
	k := web.NewKiosk("s3cret")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	st := store.New(storetest.Pool(t))
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: slog.New(slog.DiscardHandler), KioskToken: "s3cret"}))
	t.Cleanup(srv.Close)

	resp, err := client.Get(srv.URL + "/?kiosk=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("kiosk link: status %d location %q, want a redirect to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == web.KioskCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.Value == "s3cret" {
		t.Fatalf("kiosk cookie %+v: want HttpOnly, not the token itself", cookie)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cookie)
	if !k.Allowed(req) {
		t.Error("the kiosk cookie is not recognised")
	}
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: web.KioskCookie, Value: "forged"})
	if k.Allowed(req) {
		t.Error("a forged cookie is accepted")
	}
	if k.Allowed(httptest.NewRequest(http.MethodGet, "/?kiosk=wrong", nil)) {
		t.Error("a wrong token is accepted")
	}
	if web.NewKiosk("").Allowed(httptest.NewRequest(http.MethodGet, "/?kiosk=", nil)) {
		t.Error("an empty token opens the kiosk")
	}

	// With the cookie the board renders in kiosk mode.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.AddCookie(cookie)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "kiosk") {
		t.Error("the board is not in kiosk mode with the kiosk cookie")
	}
	for path, want := range map[string]bool{"/": true, "/events": true, "/assets/x/walnut.css": true, "/sites/api": false, "/api/v1/sites": false} {
		if got := web.KioskPath(path); got != want {
			t.Errorf("KioskPath(%q) = %v, want %v", path, got, want)
		}
	}
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// TestEventsEndWithRequest checks that a stream's handler returns, and
// leaves the hub, when its client goes away.
func TestEventsEndWithRequest(t *testing.T) {
	t.Parallel()
	b := setupLive(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.server.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n := b.hub.Clients(); n != 1 {
		t.Fatalf("%d streams open, want 1", n)
	}
	cancel()
	storetest.WaitFor(t, "the stream's handler to return after its client left", func() bool { return b.hub.Clients() == 0 })
}
