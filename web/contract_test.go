package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// update rewrites the golden files: go test ./web -run TestContract -update
var update = flag.Bool("update", false, "rewrite the golden files under testdata/contract with what the handlers answer")

// contractNow is the instant the contract's answers are read at.
var contractNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// contractBoard writes a board of four sites through the store, at fixed
// times before contractNow: Checkout API, green for two hours but for a
// five-minute outage, with a certificate in its warning; GitHub, red for
// ten minutes; a CI build in progress; Stripe, never probed. Someone is on
// support.
func contractBoard(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "checkout-api", Name: "Checkout API", Group: "Our apps", URL: "https://checkout.example.com/health", Interval: time.Minute},
		{Slug: "github", Name: "GitHub", Group: "Vendors", URL: "https://www.githubstatus.com/api/v2/components.json", Interval: time.Minute},
		{Slug: "stripe", Name: "Stripe", Group: "Vendors", URL: "https://status.stripe.com/", Interval: time.Minute},
		{Slug: "main-build", Name: "main · build", Group: "CI builds", URL: "https://circleci.com/api/v2/project/gh/acme/shop/pipeline", Interval: 30 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := contractNow.Add(-2 * time.Hour)
	var batch []store.Probe
	for i := range 120 {
		at := start.Add(time.Duration(i) * time.Minute).Add(7 * time.Second)
		p := store.Probe{
			SiteID: ids["checkout-api"], At: at, State: store.StateOK, HTTPStatus: 200,
			Latency: time.Duration(80+i%7*5) * time.Millisecond, TTFB: time.Duration(60+i%7*4) * time.Millisecond,
			DNS: 2 * time.Millisecond, Connect: 9 * time.Millisecond, TLS: 21 * time.Millisecond,
		}
		if i >= 60 && i < 65 {
			p.State, p.HTTPStatus, p.Reason = store.StateNotOK, 503, "HTTP 503 Service Unavailable"
			p.Latency, p.TTFB = 31*time.Millisecond, 30*time.Millisecond
		}
		batch = append(batch, p)

		g := store.Probe{
			SiteID: ids["github"], At: at.Add(20 * time.Second), State: store.StateOK, HTTPStatus: 200,
			Latency: 140 * time.Millisecond, TTFB: 120 * time.Millisecond,
			DNS: 3 * time.Millisecond, Connect: 11 * time.Millisecond, TLS: 25 * time.Millisecond,
		}
		if i >= 110 {
			g.State, g.HTTPStatus, g.Reason = store.StateNotOK, 502, "HTTP 502 Bad Gateway"
		}
		batch = append(batch, g)
	}
	for i := range 10 {
		batch = append(batch, store.Probe{
			SiteID: ids["main-build"], At: contractNow.Add(-5*time.Minute + time.Duration(i)*30*time.Second), State: store.StatePending,
			HTTPStatus: 200, Latency: 300 * time.Millisecond, TTFB: 280 * time.Millisecond, Reason: "build running",
		})
	}
	// In time order, as the writer sends them.
	for lo := 0; lo < len(batch); lo += 50 {
		if _, err := st.WriteProbes(ctx, batch[lo:min(lo+50, len(batch))]); err != nil {
			t.Fatal(err)
		}
	}
	warnFrom := contractNow.Add(-4 * 24 * time.Hour)
	if err := st.SiteCertSave(ctx, ids["checkout-api"], store.Cert{
		ExpiresAt: contractNow.Add(10 * 24 * time.Hour), Issuer: "R11", Subject: "checkout.example.com",
		Fingerprint: "5f0c9d4e", Verified: true, WarnFrom: &warnFrom,
	}, start); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	if err := st.RosterReplace(ctx, []store.Shift{
		{Start: day, End: day.AddDate(0, 0, 6), Person: "Ada Lovelace", Contact: "@ada"},
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// contractBeats takes the heartbeat of "nightly-backup" with the token
// "backup-token"; a call whose reason is "again" is merged.
type contractBeats struct{}

func (contractBeats) Authorize(slug, token string) error {
	switch {
	case slug != "nightly-backup":
		return web.ErrHeartbeatUnknown
	case token != "backup-token":
		return web.ErrHeartbeatToken
	}
	return nil
}

func (b contractBeats) Receive(_ context.Context, slug, token string, hb web.Heartbeat) (bool, error) {
	if err := b.Authorize(slug, token); err != nil {
		return false, err
	}
	return hb.Reason == "again", nil
}

// TestContract pins what users and scripts see: the /api/v1 answers, the
// badge, the board and a site's page, for a board written at fixed times
// and read at a fixed now. A change to any of them is a diff of a file
// under testdata/contract; when it is meant, rewrite them with
//
//	go test ./web -run TestContract -update
//
// and review the diff as the change users see. On a mismatch the test
// writes what it got beside the golden file (NAME.actual.EXT, ignored by
// git).
func TestContract(t *testing.T) {
	t.Parallel()
	st := contractBoard(t)
	logger := slog.New(slog.DiscardHandler)
	h := web.Protect("", web.NewKiosk(""), web.New(web.Options{
		Store: st, Roster: st, Logger: logger, Title: "Walnut", Version: "v1.2.3",
		Now:        func() time.Time { return contractNow },
		Heartbeats: contractBeats{},
		// Not run: the board only needs to know that live updates are on.
		Hub: web.NewHub(web.HubOptions{Store: st, Logger: logger}),
	}))

	cases := []struct {
		golden, method, path, body, auth string
		status                           int
		contentType                      string
	}{
		{"api_sites.json", "GET", "/api/v1/sites", "", "", 200, "application/json; charset=utf-8"},
		{"api_site.json", "GET", "/api/v1/sites/checkout-api", "", "", 200, "application/json; charset=utf-8"},
		{"api_site_unknown_state.json", "GET", "/api/v1/sites/stripe", "", "", 200, "application/json; charset=utf-8"},
		{"api_site_not_found.json", "GET", "/api/v1/sites/nope", "", "", 404, "application/json; charset=utf-8"},
		{"api_probes.json", "GET", "/api/v1/sites/checkout-api/probes?limit=3", "", "", 200, "application/json; charset=utf-8"},
		{"api_probes_bad_limit.json", "GET", "/api/v1/sites/checkout-api/probes?limit=0", "", "", 400, "application/json; charset=utf-8"},
		{"api_transitions.json", "GET", "/api/v1/sites/checkout-api/transitions", "", "", 200, "application/json; charset=utf-8"},
		{"api_series.json", "GET", "/api/v1/sites/checkout-api/series?from=2026-11-25T10:00:00Z&to=2026-11-25T12:00:00Z&step=30m", "", "", 200, "application/json; charset=utf-8"},
		{"api_series.csv", "GET", "/api/v1/sites/checkout-api/series?from=2026-11-25T10:00:00Z&to=2026-11-25T12:00:00Z&step=30m&format=csv", "", "", 200, "text/csv; charset=utf-8"},
		{"api_series_bad_step.json", "GET", "/api/v1/sites/checkout-api/series?step=30s", "", "", 400, "application/json; charset=utf-8"},
		{"heartbeat_accepted.json", "POST", "/api/v1/heartbeat/nightly-backup", `{"state": "notok", "reason": "disk full", "duration_ms": 1200}`, "Bearer backup-token", 202, "application/json; charset=utf-8"},
		{"heartbeat_merged.json", "POST", "/api/v1/heartbeat/nightly-backup?token=backup-token", `{"reason": "again"}`, "", 202, "application/json; charset=utf-8"},
		{"heartbeat_bad_token.json", "POST", "/api/v1/heartbeat/nightly-backup", "", "Bearer wrong", 401, "application/json; charset=utf-8"},
		{"heartbeat_unknown.json", "POST", "/api/v1/heartbeat/nope", "", "Bearer backup-token", 404, "application/json; charset=utf-8"},
		{"heartbeat_bad_body.json", "POST", "/api/v1/heartbeat/nightly-backup", `{"state": "red"}`, "Bearer backup-token", 400, "application/json; charset=utf-8"},
		{"badge.svg", "GET", "/badge/checkout-api.svg", "", "", 200, "image/svg+xml"},
		{"board.html", "GET", "/", "", "", 200, "text/html; charset=utf-8"},
		{"site.html", "GET", "/sites/checkout-api", "", "", 200, "text/html; charset=utf-8"},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Errorf("%s %s: status %d, want %d\n%s", c.method, c.path, rec.Code, c.status, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != c.contentType {
				t.Errorf("%s %s: Content-Type %q, want %q", c.method, c.path, got, c.contentType)
			}
			checkGolden(t, c.golden, normalize(t, c.golden, rec.Body.Bytes()))
		})
	}
}

var (
	// The process's instance changes with every start, and the nonce with
	// every request; neither is the page's content.
	instanceAttr = regexp.MustCompile(`data-instance="[^"]*"`)
	nonceAttr    = regexp.MustCompile(`nonce="[^"]*"`)
)

// normalize makes an answer repeatable and its diff readable: JSON
// indented; a page's instance and script nonces replaced by placeholders,
// and its lines broken between adjacent tags, so that a diff shows the
// element that changed rather than one long line.
func normalize(t *testing.T, name string, body []byte) []byte {
	t.Helper()
	switch filepath.Ext(name) {
	case ".json":
		var out bytes.Buffer
		if err := json.Indent(&out, body, "", "  "); err != nil {
			t.Fatalf("the answer is not JSON: %v\n%s", err, body)
		}
		return append(out.Bytes(), '\n')
	case ".html":
		body = instanceAttr.ReplaceAll(body, []byte(`data-instance="INSTANCE"`))
		body = nonceAttr.ReplaceAll(body, []byte(`nonce="NONCE"`))
		return bytes.ReplaceAll(body, []byte("><"), []byte(">\n<"))
	}
	return body
}

// checkGolden compares got with testdata/contract/name, or writes it there
// under -update. On a mismatch it writes got beside the golden file.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "contract", name)
	ext := filepath.Ext(name)
	actual := strings.TrimSuffix(path, ext) + ".actual" + ext
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(actual)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run go test ./web -run TestContract -update to write it", err)
	}
	if bytes.Equal(got, want) {
		os.Remove(actual)
		return
	}
	if err := os.WriteFile(actual, got, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Errorf("the answer differs from %s at line %d; what it answered is in %s (diff the two). "+
		"If the change is meant, run go test ./web -run TestContract -update and review the diff.",
		path, firstDiffLine(got, want), actual)
}

// firstDiffLine is the number of the first line where a and b differ.
func firstDiffLine(a, b []byte) int {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}
