package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// TestSitePageInBrowser opens a site's history page in headless Chromium and
// checks that both charts are drawn on a canvas by Walnut's own echarts and
// that the page wrote no error to the console.
func TestSitePageInBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium := chromiumPath(t)
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	var probes []store.Probe
	for i := range 6 * 60 {
		p := store.Probe{
			SiteID: ids["api"], At: now.Add(-time.Duration(6*60-i) * time.Minute), State: store.StateOK, HTTPStatus: 200,
			Latency: time.Duration(40+i%30) * time.Millisecond, TTFB: 30 * time.Millisecond,
			DNS: time.Millisecond, Connect: 2 * time.Millisecond, TLS: 5 * time.Millisecond,
		}
		if i >= 100 && i < 110 {
			p.State, p.HTTPStatus, p.Reason = store.StateNotOK, 503, "HTTP 503 Service Unavailable"
		}
		probes = append(probes, p)
	}
	if _, err := st.WriteProbes(ctx, probes); err != nil {
		t.Fatal(err)
	}
	// Behind Protect as in serve: the charts must draw under the content
	// security policy, not only without one.
	srv := httptest.NewServer(web.Protect("", web.NewKiosk(""), web.New(web.Options{Store: st, Logger: slog.New(slog.DiscardHandler)})))
	t.Cleanup(srv.Close)

	browser := newBrowser(t, chromium)
	stepCtx, cancel := context.WithTimeout(browser, browserStepGuard)
	defer cancel()
	consoleCtx, stopConsole := context.WithCancel(stepCtx)
	var (
		mu       sync.Mutex
		problems []string
		done     sync.WaitGroup
	)
	messages := chromedp.Console(consoleCtx)
	done.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// The browser asks for /favicon.ico on its own; Walnut has none.
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !strings.HasSuffix(m.URL, "/favicon.ico") {
				mu.Lock()
				problems = append(problems, m.String()+" at "+m.URL)
				mu.Unlock()
			}
		}
	})
	var latencySeries, phaseSeries int
	var png []byte
	err = chromedp.Do(stepCtx,
		chromedp.EmulateViewport(1280, 1600),
		chromedp.Navigate(srv.URL+"/sites/api"),
		chromedp.WaitVisible(chromedp.CSS(`#latency_chart canvas`)),
		chromedp.WaitVisible(chromedp.CSS(`#phases_chart canvas`)),
		into(&latencySeries, chromedp.Evaluate[int](`echarts.getInstanceByDom(document.getElementById('latency_chart')).getOption().series.length`)),
		into(&phaseSeries, chromedp.Evaluate[int](`echarts.getInstanceByDom(document.getElementById('phases_chart')).getOption().series.length`)),
		into(&png, chromedp.CaptureScreenshot()),
	)
	stopConsole()
	done.Wait()
	if err != nil {
		t.Fatalf("open the site page: %v", err)
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), "site.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if latencySeries != 4 || phaseSeries != 5 {
		t.Errorf("charts have %d and %d series, want 4 (latency, TTFB p50/p95) and 5 (phases)", latencySeries, phaseSeries)
	}
	for _, p := range problems {
		t.Errorf("console: %s", p)
	}
}
