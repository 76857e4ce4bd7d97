package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// flakyStore is a real store whose reads fail, while down is set, the way a
// stopped PostgreSQL fails them; and whose LISTEN the test drops at will.
type flakyStore struct {
	*store.Store
	down atomic.Bool
	lose chan struct{} // closed: the LISTEN connection is lost
}

func (f *flakyStore) err(what string) error {
	return fmt.Errorf("%s: %w", what, &net.OpError{Op: "dial", Net: "unix", Err: syscall.ECONNREFUSED})
}

func (f *flakyStore) SiteListActive(ctx context.Context) ([]store.Site, error) {
	if f.down.Load() {
		return nil, f.err("list sites")
	}
	return f.Store.SiteListActive(ctx)
}

func (f *flakyStore) SiteGetBySlug(ctx context.Context, slug string) (store.Site, error) {
	if f.down.Load() {
		return store.Site{}, f.err("get site")
	}
	return f.Store.SiteGetBySlug(ctx, slug)
}

func (f *flakyStore) Listen(ctx context.Context, _ []string, opts store.ListenOptions) {
	opts.OnState(true)
	opts.OnNotify("", "")
	select {
	case <-f.lose:
		opts.OnState(false)
	case <-ctx.Done():
	}
	<-ctx.Done()
}

func getDoc(t *testing.T, c *http.Client, url string) (*http.Response, *goquery.Document, string) {
	t.Helper()
	resp, body := getWith(t, c, url)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc, body
}

// TestBoardWhenDatabaseUnreachable loads the board, a kiosk's board and a
// site's page while the database refuses connections. The board is its own
// shell (the script, the live stream, the banner saying what is wrong and
// since when) rather than a bare error a TV would sit on; the site page says
// the same and reloads itself; the board is whole again once the database
// answers.
func TestBoardWhenDatabaseUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	if _, err := st.WriteProbes(ctx, []store.Probe{{SiteID: ids["api"], At: day.Add(13 * time.Hour), State: store.StateOK}}); err != nil {
		t.Fatal(err)
	}
	fs := &flakyStore{Store: st, lose: make(chan struct{})}
	clk := storetest.NewClock(day.Add(13*time.Hour + 50*time.Minute))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := web.NewHub(web.HubOptions{Store: fs, Logger: logger, Now: clk.Now, Refresh: time.Hour})
	hubCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { hub.Run(hubCtx); close(done) }()
	srv := httptest.NewServer(web.New(web.Options{
		Store: fs, Roster: fs, Hub: hub, Logger: logger, Now: clk.Now, KioskToken: "tv-token",
	}))
	t.Cleanup(func() { stop(); <-done; srv.Close() })
	client := srv.Client()

	shell := func(t *testing.T, c *http.Client, path, since string) *goquery.Document {
		t.Helper()
		resp, doc, body := getDoc(t, c, srv.URL+path)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d, Retry-After %q; want 503 and a Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if doc.Find(`script[src*="board"]`).Length() != 1 {
			t.Errorf("%s: no board script, so nothing would retry:\n%s", path, body)
		}
		b := doc.Find("body")
		if b.AttrOr("data-unavailable", "") != "database unreachable" || b.AttrOr("data-events", "") != "/events" {
			t.Errorf("%s: body data-unavailable %q data-events %q", path, b.AttrOr("data-unavailable", ""), b.AttrOr("data-events", ""))
		}
		banner := doc.Find("#stale")
		_, hidden := banner.Attr("hidden")
		want := "The board cannot be read: database unreachable since " + since + " — retrying."
		if hidden || strings.Join(strings.Fields(banner.Text()), " ") != "⚠ "+want {
			t.Errorf("%s: banner hidden=%v %q, want %q", path, hidden, banner.Text(), want)
		}
		// Nothing that claims to know the sites' state.
		for _, sel := range []string{"[data-testid=tile]", "#strip", "#support"} {
			if doc.Find(sel).Length() != 0 {
				t.Errorf("%s: the shell shows %s", path, sel)
			}
		}
		return doc
	}

	// The hub loses its LISTEN connection at 13:55, and the pages fail
	// from 14:02: the outage began when the hub noticed.
	clk.Set(day.Add(13*time.Hour + 55*time.Minute))
	fs.down.Store(true)
	close(fs.lose)
	storetest.WaitFor(t, "the hub to notice it lost LISTEN", func() bool { return !hub.LostSince().IsZero() })
	clk.Set(day.Add(14*time.Hour + 2*time.Minute))
	shell(t, client, "/", "13:55 UTC")

	// A kiosk's first visit: the token becomes a cookie and the shell is a
	// kiosk's.
	jar, _ := cookiejar.New(nil)
	kiosk := &http.Client{Jar: jar, Transport: client.Transport}
	if doc := shell(t, kiosk, "/?kiosk=tv-token", "13:55 UTC"); !doc.Find("body").HasClass("kiosk") {
		t.Error("the kiosk's shell is not a kiosk's")
	}

	// A site's page says so too, and reloads itself.
	resp, doc, body := getDoc(t, client, srv.URL+"/sites/api")
	if resp.StatusCode != http.StatusServiceUnavailable || doc.Find(`meta[http-equiv=refresh]`).Length() != 1 ||
		!strings.Contains(doc.Find(".unavailable-reason").Text(), "database unreachable since 13:55 UTC") {
		t.Errorf("/sites/api: %d\n%s", resp.StatusCode, body)
	}
	// The API stays JSON.
	if resp, body := get(t, srv.URL+"/api/v1/sites/api"); resp.StatusCode != 503 || !strings.Contains(body, `"error":"database unreachable"`) {
		t.Errorf("/api/v1/sites/api: %d %s", resp.StatusCode, body)
	}

	// The database answers again: the whole board.
	fs.down.Store(false)
	resp, doc, body = getDoc(t, client, srv.URL+"/")
	if resp.StatusCode != 200 || doc.Find(`[data-testid=tile][data-slug=api][data-state=ok]`).Length() != 1 {
		t.Fatalf("/ once the database is back: %d\n%s", resp.StatusCode, body)
	}
	if _, ok := doc.Find("body").Attr("data-unavailable"); ok {
		t.Error("the board is marked unavailable once the database is back")
	}
}

// TestBoardOutageSince checks the time the shell gives without a hub: the
// first failed read, kept while reads keep failing, and a new outage after
// the board was read again.
func TestBoardOutageSince(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))
	fs := &flakyStore{Store: st}
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	clk := &storetest.Clock{}
	srv := httptest.NewServer(web.New(web.Options{Store: fs, Roster: fs, Logger: slog.New(slog.DiscardHandler), Now: clk.Now}))
	t.Cleanup(srv.Close)
	banner := func(at string) string {
		t.Helper()
		hm, _ := time.Parse("15:04", at)
		clk.Set(day.Add(time.Duration(hm.Hour())*time.Hour + time.Duration(hm.Minute())*time.Minute))
		_, doc, _ := getDoc(t, srv.Client(), srv.URL+"/")
		return doc.Find("#stale time").Text()
	}
	fs.down.Store(true)
	if got := banner("14:02"); got != "14:02 UTC" {
		t.Errorf("first failure: since %q", got)
	}
	if got := banner("14:03"); got != "14:02 UTC" {
		t.Errorf("still down a minute later: since %q, want 14:02 UTC", got)
	}
	fs.down.Store(false)
	if got := banner("14:04"); got != "" {
		t.Errorf("back: banner time %q", got)
	}
	fs.down.Store(true)
	if got := banner("14:05"); got != "14:05 UTC" {
		t.Errorf("down again after a good read: since %q, want 14:05 UTC", got)
	}
}
