package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/walnut-board/walnut/store/storetest"
)

// TestServeUnstorableUpstreamText is issue 13's reproduction: Statuspage
// upstreams whose answers hold a NUL, in the description and in the page's
// name, beside healthy sites, all probed every second. Every probe of every
// site lands, and the bad sites show their verdict instead of freezing.
func TestServeUnstorableUpstreamText(t *testing.T) {
	t.Parallel()
	answer := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	vendor := answer(`{"page":{"name":"Vendor"},"status":{"indicator":"major","description":"Bad\u0000thing"}}`)
	named := answer(`{"page":{"name":"Ven\u0000dor"},"status":{"indicator":"minor","description":"Slow"}}`)
	healthy := newUpstream(t, 200)

	var cfg strings.Builder
	cfg.WriteString("defaults: {interval: 1s, timeout: 1s}\nsites:\n")
	fmt.Fprintf(&cfg, "  - {name: Vendor, url: %q, recipe: statuspage}\n", vendor+"/api/v2/status.json")
	fmt.Fprintf(&cfg, "  - {name: Named, url: %q, recipe: statuspage}\n", named+"/api/v2/status.json")
	const nHealthy = 8
	for i := range nHealthy {
		fmt.Fprintf(&cfg, "  - {name: App %d, url: %q}\n", i, healthy.URL+"/")
	}
	dbURL := storetest.NewDatabase(t)
	s := startServeOn(t, writeConfig(t, cfg.String()), dbURL)

	s.waitState(t, "vendor", "notok")
	s.waitState(t, "named", "notok")
	for slug, want := range map[string]string{"vendor": "Vendor: Bad\uFFFDthing", "named": "Ven\uFFFDdor: Slow"} {
		if got := siteReason(t, s, slug); got != want {
			t.Errorf("%s: reason %q, want %q", slug, got, want)
		}
	}
	// A few more rounds of every site, each batch holding the bad sites'
	// probes beside the healthy ones.
	pool := storetest.Connect(t, dbURL)
	s.waitFor(t, "every site probed three times", func() bool {
		var least int
		err := pool.QueryRow(context.Background(), `
			SELECT coalesce(min(n), 0) FROM (
			  SELECT count(p.at) AS n FROM sites si LEFT JOIN probes p ON p.site_id = si.id GROUP BY si.id) c`).Scan(&least)
		return err == nil && least >= 3
	})
	resp, err := http.Get(s.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"ok"`) || !strings.Contains(string(body), `"probes":{"status":"ok"`) {
		t.Errorf("/healthz: %d %s", resp.StatusCode, body)
	}

	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	log := s.log.String()
	var stop struct {
		Msg     string
		Written *int `json:"probes_written"`
		Dropped *int `json:"probes_dropped"`
	}
	for line := range strings.Lines(log) {
		if json.Unmarshal([]byte(line), &stop) == nil && stop.Msg == "stopped" {
			break
		}
	}
	if stop.Msg != "stopped" || stop.Written == nil || stop.Dropped == nil {
		t.Fatalf("no stop line in the log:\n%s", log)
	}
	var stored int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM probes`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if *stop.Dropped != 0 || stored != *stop.Written {
		t.Fatalf("%d probes dropped, %d stored of %d written; want none dropped, all stored", *stop.Dropped, stored, *stop.Written)
	}
	// A write that a loaded machine makes slow is retried and logged as an
	// outage ("cannot write probes", then "writes resumed"): that loses
	// nothing and is not what this test is about. A refusal of the data is.
	if strings.Contains(log, "rejected") {
		t.Fatalf("the log says the database rejected probes:\n%s", log)
	}
	if strings.Contains(log, "database writes resumed") && !strings.Contains(log, "cannot write probes") {
		t.Fatalf("the log says writes resumed with no outage before it:\n%s", log)
	}
}

// siteReason is a site's reason as the API gives it.
func siteReason(t *testing.T, s *served, slug string) string {
	t.Helper()
	resp, err := http.Get(s.base + "/api/v1/sites/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var site struct{ Reason string }
	if err := json.NewDecoder(resp.Body).Decode(&site); err != nil {
		t.Fatal(err)
	}
	return site.Reason
}
