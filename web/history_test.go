package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestAPISiteUptimeFromRollups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := map[string]string{
		// ok at -10m held a minute, ok at -9m held two intervals: all up.
		"api": "1.0000",
		// ok at -10m held two intervals (the next probe is 5m later: a
		// gap), notok at -5m held two intervals: half.
		"billing": "0.5000",
		"ci":      "null", // pending only
		"new":     "null", // no probes
	}
	for slug, want := range cases {
		_, body := get(t, b.server.URL+"/api/v1/sites/"+slug)
		var got struct {
			Uptime map[string]*float64 `json:"uptime"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		for _, win := range []string{"24h", "7d", "30d", "90d"} {
			v, ok := got.Uptime[win]
			if !ok {
				t.Errorf("%s: no %s window in %s", slug, win, body)
				continue
			}
			s := "null"
			if v != nil {
				s = jsonFloat(*v)
			}
			if s != want {
				t.Errorf("%s uptime %s = %s, want %s", slug, win, s, want)
			}
		}
	}
}

func jsonFloat(v float64) string { return fmt.Sprintf("%.4f", v) }

func TestAPISeries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from, to := b.now.Add(-10*60e9).Format("2006-01-02T15:04:05Z"), b.now.Format("2006-01-02T15:04:05Z")
	resp, body := get(t, b.server.URL+"/api/v1/sites/billing/series?from="+from+"&to="+to+"&step=5m")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got struct {
		StepMS  int64 `json:"step_ms"`
		Buckets []struct {
			At           string   `json:"at"`
			OKSeconds    float64  `json:"ok_seconds"`
			NotOKSeconds float64  `json:"notok_seconds"`
			Uptime       *float64 `json:"uptime"`
			Probes       int      `json:"probes"`
		} `json:"buckets"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.StepMS != 300000 || len(got.Buckets) != 2 {
		t.Fatalf("step %d, %d buckets: %s", got.StepMS, len(got.Buckets), body)
	}
	first, second := got.Buckets[0], got.Buckets[1]
	if first.At != "2026-11-25T11:50:00Z" || first.OKSeconds != 120 || first.NotOKSeconds != 0 || first.Probes != 1 || *first.Uptime != 1 {
		t.Errorf("first bucket %+v", first)
	}
	if second.OKSeconds != 0 || second.NotOKSeconds != 120 || second.Probes != 1 || *second.Uptime != 0 {
		t.Errorf("second bucket %+v", second)
	}

	for name, req := range map[string]func() *http.Request{
		"format=csv": func() *http.Request {
			r, _ := http.NewRequest("GET", b.server.URL+"/api/v1/sites/billing/series?format=csv&from="+from+"&to="+to+"&step=5m", nil)
			return r
		},
		"Accept: text/csv": func() *http.Request {
			r, _ := http.NewRequest("GET", b.server.URL+"/api/v1/sites/billing/series?from="+from+"&to="+to+"&step=5m", nil)
			r.Header.Set("Accept", "text/csv")
			return r
		},
	} {
		resp, err := http.DefaultClient.Do(req())
		if err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(resp.Body).ReadAll()
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("%s: content type %q", name, ct)
		}
		if len(records) != 3 || records[0][0] != "at" || records[2][2] != "120" || records[2][4] != "0" {
			t.Errorf("%s: records %q", name, records)
		}
	}
}

func TestAPISeriesBadParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := map[string]struct {
		query  string
		status int
		error  string
	}{
		"from not a time":       {"from=yesterday", 400, "from must be an RFC 3339 time"},
		"to not a time":         {"to=now", 400, "to must be an RFC 3339 time"},
		"from after to":         {"from=2026-11-25T12:00:00Z&to=2026-11-25T11:00:00Z", 400, "from must be before to"},
		"step under a minute":   {"step=30s", 400, "step must be a whole number of minutes"},
		"step not a duration":   {"step=often", 400, "step must be a whole number of minutes"},
		"too many buckets":      {"from=2020-01-01T00:00:00Z&step=1m", 400, "at most 10000 buckets"},
		"unknown format":        {"format=xml", 400, "format must be json or csv"},
		"step in days is fine":  {"from=2026-11-01T00:00:00Z&step=1d", 200, ""},
		"no parameters is fine": {"", 200, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, b.server.URL+"/api/v1/sites/api/series?"+c.query)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.error == "" {
				return
			}
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Error, c.error) {
				t.Errorf("body %s, want an error containing %q", body, c.error)
			}
		})
	}
	if resp, _ := get(t, b.server.URL+"/api/v1/sites/nope/series"); resp.StatusCode != 404 {
		t.Errorf("unknown site: status %d", resp.StatusCode)
	}
}

func TestBadge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := get(t, b.server.URL+"/badge/billing.svg")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Billing &lt;b&gt;", "down · 50.0% 30d", "#c62828"} {
		if !strings.Contains(body, want) {
			t.Errorf("badge lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<b>") {
		t.Error("the site name reached the SVG unescaped")
	}
	if _, body := get(t, b.server.URL+"/badge/new.svg"); !strings.Contains(body, ">unknown<") {
		t.Errorf("badge of a site without probes:\n%s", body)
	}
	for _, path := range []string{"/badge/nope.svg", "/badge/billing.png"} {
		if resp, _ := get(t, b.server.URL+path); resp.StatusCode != 404 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
}

func TestSitePageHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var firstStrip string
	for _, rng := range []string{"", "7d", "30d", "90d"} {
		resp, body := get(t, b.server.URL+"/sites/billing?range="+rng)
		if resp.StatusCode != 200 {
			t.Fatalf("range %q: status %d", rng, resp.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		want := rng
		if want == "" {
			want = "24h"
		}
		if got := doc.Find("[data-testid=history]").AttrOr("data-range", ""); got != want {
			t.Errorf("range %q: data-range %q", rng, got)
		}
		if n := doc.Find("[data-testid=chart-latency] #latency_chart, [data-testid=chart-phases] #phases_chart").Length(); n != 2 {
			t.Errorf("range %q: %d chart elements, want 2", rng, n)
		}
		if n := doc.Find("[data-testid=strip] li").Length(); n != 90 {
			t.Errorf("range %q: strip of %d days, want 90", rng, n)
		}
		// The 90d range lends its chart's days to the strip: the same strip.
		strip, err := doc.Find("[data-testid=strip]").Html()
		if err != nil {
			t.Fatal(err)
		}
		if firstStrip == "" {
			firstStrip = strip
		} else if strip != firstStrip {
			t.Errorf("range %q: strip\n%s\nwant as for 24h\n%s", rng, strip, firstStrip)
		}
		if got := doc.Find("[data-testid=uptime] dd").First().Text(); got != "50.0%" {
			t.Errorf("range %q: 24h uptime %q, want 50.0%%", rng, got)
		}
		// Outage: billing went down at -5m and is still down.
		row := doc.Find("[data-testid=outages] tbody tr")
		if row.Length() != 1 || !strings.Contains(row.Text(), "ongoing") || !strings.Contains(row.Text(), "HTTP 503") {
			t.Errorf("range %q: outages %q", rng, row.Text())
		}
		// Recent probes and transitions are still on the page.
		if doc.Find("table.probes tbody tr").Length() != 2 || doc.Find("table.transitions tbody tr").Length() == 0 {
			t.Errorf("range %q: recent probes or transitions missing", rng)
		}
		var scripts []string
		doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, s.AttrOr("src", "")) })
		found := false
		for _, src := range scripts {
			if !strings.HasPrefix(src, "/") || strings.HasPrefix(src, "//") {
				t.Errorf("range %q: script from elsewhere: %s", rng, src)
			}
			if strings.HasSuffix(src, "/echarts.min.js") {
				found = true
				if resp, js := get(t, b.server.URL+src); resp.StatusCode != 200 || !strings.Contains(js, "echarts") {
					t.Errorf("echarts script %s: status %d", src, resp.StatusCode)
				}
			}
		}
		if !found {
			t.Errorf("range %q: no echarts script among %q", rng, scripts)
		}
		if strings.Contains(body, "<script>alert") {
			t.Errorf("range %q: a reason reached the page unescaped", rng)
		}
	}
}
