package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type testBundle struct {
	server *httptest.Server
	store  *store.Store
	ids    map[string]int32
	now    time.Time
}

func setup(t *testing.T) testBundle {
	t.Helper()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", Group: "Apps", URL: "https://api.example.com/health", Interval: time.Minute},
		{Slug: "billing", Name: "Billing <b>", Group: "Apps", URL: "https://billing.example.com/", Interval: time.Minute},
		{Slug: "ci", Name: "CI", Group: "Builds", URL: "https://ci.example.com/", Interval: time.Minute},
		{Slug: "new", Name: "New", URL: "https://new.example.com/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return now.Add(time.Duration(m) * time.Minute) }
	_, err = st.WriteProbes(ctx, []store.Probe{
		{SiteID: ids["api"], At: at(-10), State: store.StateOK, HTTPStatus: 200, Latency: 12500 * time.Microsecond, TTFB: 9 * time.Millisecond},
		{SiteID: ids["api"], At: at(-9), State: store.StateOK, HTTPStatus: 200, Latency: 11 * time.Millisecond},
		{SiteID: ids["billing"], At: at(-10), State: store.StateOK, HTTPStatus: 200},
		{SiteID: ids["billing"], At: at(-5), State: store.StateNotOK, HTTPStatus: 503, Reason: "HTTP 503 <script>alert(1)</script>"},
		{SiteID: ids["ci"], At: at(-3), State: store.StatePending, HTTPStatus: 202, Reason: "build running"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := web.New(web.Options{
		Store:  st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return now },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return testBundle{server: srv, store: st, ids: ids, now: now}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	return getWith(t, http.DefaultClient, url)
}

// getWith GETs url with c and reads the whole body.
func getWith(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, string(body)
}

func TestBoard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := get(t, b.server.URL+"/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	doc.Find("[data-testid=tile]").Each(func(_ int, s *goquery.Selection) {
		got[s.AttrOr("data-slug", "")] = s.AttrOr("data-state", "")
	})
	want := map[string]string{"api": "ok", "billing": "notok", "ci": "pending", "new": "unknown"}
	for slug, state := range want {
		if got[slug] != state {
			t.Errorf("tile %s: state %q, want %q (all: %v)", slug, got[slug], state, got)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "Billing <b>") {
		t.Error("a site name or reason reached the page unescaped")
	}
	if reason := doc.Find("#tile-billing .tile-reason").Text(); !strings.Contains(reason, "HTTP 503") {
		t.Errorf("red tile reason = %q", reason)
	}
	if txt := doc.Find("#tile-billing .tile-for").Text(); txt != "for 5m" {
		t.Errorf("red tile duration = %q, want \"for 5m\"", txt)
	}
	if groups := doc.Find(".group h2").Length(); groups != 2 {
		t.Errorf("group headings = %d, want 2 (Apps, Builds; the ungrouped site has none)", groups)
	}
	css, ok := doc.Find(`link[rel=stylesheet]`).Attr("href")
	if !ok {
		t.Fatal("no stylesheet link")
	}
	if resp, _ := get(t, b.server.URL+css); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet %s: status %d cache %q", css, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

func TestSitePage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := get(t, b.server.URL+"/sites/billing")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if st := doc.Find("main.site").AttrOr("data-state", ""); st != "notok" {
		t.Errorf("site page state %q", st)
	}
	if n := doc.Find("table.probes tbody tr").Length(); n != 2 {
		t.Errorf("probe rows = %d, want 2", n)
	}
	if n := doc.Find("table.transitions tbody tr").Length(); n != 2 {
		t.Errorf("transition rows = %d, want 2", n)
	}
	if resp, _ := get(t, b.server.URL+"/sites/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown site: status %d, want 404", resp.StatusCode)
	}
}

func TestAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("Sites", func(t *testing.T) {
		t.Parallel()
		resp, body := get(t, b.server.URL+"/api/v1/sites")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("status %d, type %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var sites []map[string]any
		if err := json.Unmarshal([]byte(body), &sites); err != nil {
			t.Fatal(err)
		}
		if len(sites) != 4 {
			t.Fatalf("%d sites, want 4", len(sites))
		}
		api := sites[0]
		for _, k := range []string{"slug", "name", "group", "state", "reason", "since", "checked_at", "latency_ms", "ttfb_ms"} {
			if _, ok := api[k]; !ok {
				t.Errorf("site object lacks %q: %v", k, api)
			}
		}
		if api["slug"] != "api" || api["state"] != "ok" || api["latency_ms"] != 11.0 || api["checked_at"] != "2026-11-25T11:51:00Z" || api["since"] != "2026-11-25T11:50:00Z" {
			t.Errorf("api site = %v", api)
		}
		if sites[3]["state"] != "unknown" || sites[3]["since"] != nil || sites[3]["latency_ms"] != nil {
			t.Errorf("never probed site = %v", sites[3])
		}
	})

	t.Run("SiteWithUptime", func(t *testing.T) {
		t.Parallel()
		_, body := get(t, b.server.URL+"/api/v1/sites/billing")
		var site struct {
			State  string              `json:"state"`
			URL    string              `json:"url"`
			Uptime map[string]*float64 `json:"uptime"`
		}
		if err := json.Unmarshal([]byte(body), &site); err != nil {
			t.Fatal(err)
		}
		// ok from -10m to -8m (two intervals, then no data), notok from -5m
		// to -3m: 2 minutes up, 2 down.
		if u := site.Uptime["24h"]; u == nil || *u != 0.5 {
			t.Errorf("24h uptime = %v, want 0.5 (body %s)", u, body)
		}
		for _, w := range []string{"7d", "30d", "90d"} {
			if _, ok := site.Uptime[w]; !ok {
				t.Errorf("uptime lacks %s", w)
			}
		}
		_, body = get(t, b.server.URL+"/api/v1/sites/new")
		if !strings.Contains(body, `"24h":null`) {
			t.Errorf("site without probes: uptime should be null: %s", body)
		}
	})

	t.Run("Probes", func(t *testing.T) {
		t.Parallel()
		_, body := get(t, b.server.URL+"/api/v1/sites/api/probes?limit=1")
		var probes []map[string]any
		if err := json.Unmarshal([]byte(body), &probes); err != nil {
			t.Fatal(err)
		}
		if len(probes) != 1 || probes[0]["at"] != "2026-11-25T11:51:00Z" || probes[0]["http_status"] != 200.0 {
			t.Errorf("probes = %v", probes)
		}
		for _, k := range []string{"at", "state", "http_status", "latency_ms", "ttfb_ms", "dns_ms", "connect_ms", "tls_ms", "reason"} {
			if _, ok := probes[0][k]; !ok {
				t.Errorf("probe lacks %q", k)
			}
		}
	})

	t.Run("Transitions", func(t *testing.T) {
		t.Parallel()
		_, body := get(t, b.server.URL+"/api/v1/sites/billing/transitions")
		var trs []map[string]any
		if err := json.Unmarshal([]byte(body), &trs); err != nil {
			t.Fatal(err)
		}
		if len(trs) != 2 || trs[0]["from"] != "ok" || trs[0]["to"] != "notok" || trs[0]["at"] != "2026-11-25T11:55:00Z" {
			t.Errorf("transitions = %v", trs)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		for path, want := range map[string]int{
			"/api/v1/sites/nope":                     404,
			"/api/v1/sites/nope/probes":              404,
			"/api/v1/sites/api/probes?limit=abc":     400,
			"/api/v1/sites/api/probes?limit=0":       400,
			"/api/v1/sites/api/probes?limit=1001":    400,
			"/api/v1/sites/nope/transitions":         404,
			"/api/v1/sites/api/transitions?limit=-1": 400,
			"/api/v1/sites/nope/series":              404,
			// The query is read before the site is looked up.
			"/api/v1/sites/nope/probes?limit=abc":      400,
			"/api/v1/sites/nope/transitions?limit=abc": 400,
			"/api/v1/sites/nope/series?step=soon":      400,
		} {
			resp, body := get(t, b.server.URL+path)
			if resp.StatusCode != want || !strings.Contains(body, `"error"`) {
				t.Errorf("%s: %d %s, want %d with a JSON error", path, resp.StatusCode, body, want)
			}
		}
	})

	t.Run("Healthz", func(t *testing.T) {
		t.Parallel()
		resp, body := get(t, b.server.URL+"/healthz")
		if resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("healthz %d %s", resp.StatusCode, body)
		}
	})
}
