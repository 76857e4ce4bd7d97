package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// routingKey is what a PagerDuty routing key looks like; it must never
// reach the board.
const routingKey = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12"

// alertBundle is a board over real PostgreSQL whose sites notify a sink, so
// that a test can record deliveries as the dispatcher does.
type alertBundle struct {
	store *store.Store
	ids   map[string]int32
	clock time.Time
}

func setupAlerts(t *testing.T, routes ...store.NotifyRoute) *alertBundle {
	t.Helper()
	ctx := t.Context()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", Group: "Apps", URL: "https://api.example.com/", Interval: time.Minute},
		{Slug: "web", Name: "Web", Group: "Apps", URL: "https://www.example.com/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.NotifyRoutesSync(ctx, routes); err != nil {
		t.Fatal(err)
	}
	return &alertBundle{store: st, ids: ids, clock: time.Now().Add(-time.Hour)}
}

// transition turns a site red (or green) with a probe a minute after the
// last, which writes a pending notification for each of its sinks.
func (b *alertBundle) transition(t *testing.T, slug string, state store.State) {
	t.Helper()
	b.clock = b.clock.Add(time.Minute)
	p := store.Probe{SiteID: b.ids[slug], At: b.clock, State: state, HTTPStatus: 200}
	if state == store.StateNotOK {
		p.HTTPStatus, p.Reason = 503, "HTTP 503"
	}
	if _, err := b.store.WriteProbes(t.Context(), []store.Probe{p}); err != nil {
		t.Fatal(err)
	}
}

// deliver records what became of a site's pending notices to a sink, as the
// dispatcher does: sent, or failed for good with the sink's answer.
func (b *alertBundle) deliver(t *testing.T, slug, sink, outcome, detail string) {
	t.Helper()
	ctx := t.Context()
	st, err := b.store.NotifyStreamOpen(ctx, b.ids[slug], sink)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		next, err := st.Next(ctx)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Done(ctx, next.ID, outcome, detail); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no notice of %s to %s was pending", slug, sink)
	}
}

// footer gets the board and returns its alert footer.
func footer(t *testing.T, client *http.Client, url string) (*goquery.Selection, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	f := doc.Find("footer#alerts")
	if f.Length() != 1 {
		t.Fatal("the board has no alerts footer to swap")
	}
	html, _ := doc.Html()
	return f, html
}

func TestBoardAlertFooter(t *testing.T) {
	t.Parallel()

	t.Run("NothingWhenAllIsWell", func(t *testing.T) {
		t.Parallel()
		b := setupAlerts(t, store.NotifyRoute{Slug: "api", Sinks: []string{"pagerduty", "slack"}, Severity: "critical"})
		srv := httptest.NewServer(web.New(web.Options{Store: b.store, Logger: slog.New(slog.DiscardHandler), Notify: b.store}))
		t.Cleanup(srv.Close)

		// No sink has had a notice yet.
		f, _ := footer(t, srv.Client(), srv.URL+"/")
		if _, hidden := f.Attr("hidden"); !hidden || f.Find("[data-testid=alert]").Length() != 0 {
			t.Errorf("footer shows with no deliveries: %s", f.Text())
		}
		// Every sink delivered.
		b.transition(t, "api", store.StateOK)
		b.transition(t, "api", store.StateNotOK)
		b.deliver(t, "api", "pagerduty", "sent", "")
		b.deliver(t, "api", "slack", "sent", "")
		f, _ = footer(t, srv.Client(), srv.URL+"/")
		if _, hidden := f.Attr("hidden"); !hidden || f.Find("[data-testid=alert]").Length() != 0 {
			t.Errorf("footer shows when every sink delivered: %s", f.Text())
		}
	})

	t.Run("NothingWithoutAlerting", func(t *testing.T) {
		t.Parallel()
		b := setupAlerts(t)
		srv := httptest.NewServer(web.New(web.Options{Store: b.store, Logger: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		f, _ := footer(t, srv.Client(), srv.URL+"/")
		if _, hidden := f.Attr("hidden"); !hidden {
			t.Errorf("footer shows without alerting: %s", f.Text())
		}
	})

	t.Run("FailingSinkShows", func(t *testing.T) {
		t.Parallel()
		b := setupAlerts(t, store.NotifyRoute{Slug: "api", Sinks: []string{"pagerduty", "slack"}, Severity: "critical"})
		b.transition(t, "api", store.StateOK)
		b.transition(t, "api", store.StateNotOK)
		b.deliver(t, "api", "slack", "sent", "")
		// What a refused trigger records, with a receiver that echoed its
		// URL and key for good measure.
		b.deliver(t, "api", "pagerduty", "failed",
			`pagerduty trigger: HTTP 400: Invalid routing key `+routingKey+` at https://events.example.com/v2/enqueue/`+routingKey+`?token=s3cret "routing_key":"abc123"`)

		// The kiosk's read-only view, through the real middleware.
		srv := httptest.NewServer(web.Protect("board-password", web.NewKiosk("tv-token"), web.New(web.Options{
			Store: b.store, Logger: slog.New(slog.DiscardHandler), Notify: b.store, KioskToken: "tv-token",
		})))
		t.Cleanup(srv.Close)
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		f, page := footer(t, client, srv.URL+"/?kiosk=tv-token")

		if _, hidden := f.Attr("hidden"); hidden {
			t.Fatal("footer hidden while PagerDuty fails")
		}
		alerts := f.Find("[data-testid=alert]")
		if alerts.Length() != 1 {
			t.Fatalf("%d alerts, want only PagerDuty's (Slack delivered): %s", alerts.Length(), f.Text())
		}
		if sink, status := alerts.AttrOr("data-sink", ""), alerts.AttrOr("data-status", ""); sink != "pagerduty" || status != "failing" {
			t.Errorf("alert %s %s, want pagerduty failing", sink, status)
		}
		text := strings.Join(strings.Fields(alerts.Text()), " ")
		for _, want := range []string{"PagerDuty alerts failing", "refused at", "HTTP 400: Invalid routing key", "on-call will not be paged"} {
			if !strings.Contains(text, want) {
				t.Errorf("alert %q does not say %q", text, want)
			}
		}
		if at, ok := alerts.Find("time").Attr("datetime"); !ok || at == "" {
			t.Error("the refusal's time has no datetime for the page's script")
		}
		for _, secret := range []string{routingKey, "s3cret", "abc123", "/v2/enqueue"} {
			if strings.Contains(page, secret) {
				t.Errorf("the board shows %q", secret)
			}
		}
	})

	t.Run("DelayedSinkShows", func(t *testing.T) {
		t.Parallel()
		b := setupAlerts(t, store.NotifyRoute{Slug: "web", Sinks: []string{"slack"}, Severity: "critical"})
		b.transition(t, "web", store.StateOK)
		b.transition(t, "web", store.StateNotOK)
		b.transition(t, "web", store.StateOK)
		// The notices wait; the board looks later than the delay allows.
		later := time.Now().Add(10 * time.Minute)
		srv := httptest.NewServer(web.New(web.Options{
			Store: b.store, Logger: slog.New(slog.DiscardHandler), Notify: b.store, Now: func() time.Time { return later },
		}))
		t.Cleanup(srv.Close)
		f, _ := footer(t, srv.Client(), srv.URL+"/")
		alert := f.Find("[data-testid=alert][data-sink=slack][data-status=delayed]")
		if alert.Length() != 1 {
			t.Fatalf("no delayed Slack alert: %q", f.Text())
		}
		if text := strings.Join(strings.Fields(alert.Text()), " "); !strings.Contains(text, "Slack alerts delayed") || !strings.Contains(text, "2 notices waiting since") {
			t.Errorf("delayed alert = %q", text)
		}

		// The same notices, looked at before the delay is up, are no news.
		srv2 := httptest.NewServer(web.New(web.Options{Store: b.store, Logger: slog.New(slog.DiscardHandler), Notify: b.store}))
		t.Cleanup(srv2.Close)
		if f, _ := footer(t, srv2.Client(), srv2.URL+"/"); f.Find("[data-testid=alert]").Length() != 0 {
			t.Errorf("notices pending for seconds already warn: %q", f.Text())
		}
	})
}

// TestEventsAlertFooter checks that the hub sends the footer when a sink
// starts failing, and clears it when the sink delivers again, without a
// reload of the board.
func TestEventsAlertFooter(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t, store.NotifyRoute{Slug: "api", Sinks: []string{"pagerduty"}, Severity: "critical"})
	logger := slog.New(slog.DiscardHandler)
	hub := web.NewHub(web.HubOptions{Store: b.store, Notify: b.store, Logger: logger, AlertsEvery: 20 * time.Millisecond})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	srv := httptest.NewServer(web.New(web.Options{Store: b.store, Logger: logger, Hub: hub, Notify: b.store}))
	t.Cleanup(func() { stop(); <-done; srv.Close() })

	events := openStream(t, srv.URL)
	waitFor(t, events, "the quiet footer", named("swap", `id="alerts"`, "hidden"))

	b.transition(t, "api", store.StateOK)
	b.transition(t, "api", store.StateNotOK)
	b.deliver(t, "api", "pagerduty", "failed", "pagerduty trigger: HTTP 400: Invalid routing key")
	ev := waitFor(t, events, "the failing footer", named("swap", `id="alerts"`, `data-sink="pagerduty"`, "failing"))
	if !strings.Contains(ev.data, "on-call will not be paged") {
		t.Errorf("footer without what it means: %s", ev.data)
	}

	// A stream that connects now gets the footer with the full state.
	second := openStream(t, srv.URL)
	waitFor(t, second, "the footer in the snapshot", named("swap", `id="alerts"`, `data-sink="pagerduty"`))

	// Fixed: the next notice goes through, and the footer goes quiet.
	b.transition(t, "api", store.StateOK)
	b.deliver(t, "api", "pagerduty", "sent", "")
	waitFor(t, events, "the footer going quiet", func(e sse) bool {
		return named("swap", `id="alerts"`, "hidden")(e) && !strings.Contains(e.data, "data-sink")
	})
}
