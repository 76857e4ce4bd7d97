package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/walnut-board/walnut/store/storetest"
)

// TestBoardAlertFooterInBrowser runs walnut serve with a PagerDuty that
// refuses its routing key, opens the board as a kiosk would, turns a site
// red, and sees the footer say that nobody will be paged, live, without a
// reload.
func TestBoardAlertFooterInBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium := chromiumPath(t)
	const routingKey = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12"

	// PagerDuty's Events API, refusing every event as it does a bad
	// routing key: a 400, which is not retried.
	var events atomic.Int32
	pagerduty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v2/enqueue" {
			events.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}`) //nolint:errcheck // a test fake
	}))
	t.Cleanup(pagerduty.Close)

	upstream, flip := boardUpstream(t)
	cfg := alertConfig(t, boardConfig(t, upstream.URL))
	s := serveOn(t, freePort(t), map[string]string{
		"DATABASE_URL": storetest.NewDatabase(t), "WALNUT_LOG_LEVEL": "error",
		"PAGERDUTY_ROUTING_KEY": routingKey, "PAGERDUTY_EVENTS_URL": pagerduty.URL,
		"WALNUT_PASSWORD": "board-password", "WALNUT_KIOSK_TOKEN": "tv-token",
	}, "serve", "--config", cfg)
	s.waitHealthy(t)
	base := s.base

	browser := newBrowser(t, chromium)
	step := browserSteps(t, browser, func() string { return fmt.Sprintf("PagerDuty events: %d", events.Load()) })

	// The TV: the kiosk link, no password.
	var footerHidden bool
	step("load the board as a kiosk",
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(base+"/?kiosk=tv-token"),
		chromedp.WaitVisible(chromedp.CSS(`body.kiosk.is-live`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=flip][data-state=ok]`)),
		into(&footerHidden, chromedp.Evaluate[bool](`document.getElementById('alerts').hidden`)),
		void(chromedp.Evaluate[bool](`window.walnutNotReloaded = true`)),
	)
	if !footerHidden {
		t.Errorf("the alert footer shows before the test turned a site red (PagerDuty got %d events)", events.Load())
	}

	// The site goes red; PagerDuty refuses the trigger; the footer says so.
	flip.Store(503)
	step("the footer warns live",
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=flip][data-state=notok]`)),
		chromedp.WaitVisible(chromedp.CSS(`#alerts [data-sink=pagerduty][data-status=failing]`)),
	)
	var text string
	var notReloaded bool
	var png []byte
	step("read the footer",
		// In one evaluation: the stream may swap the footer at any time.
		into(&text, chromedp.Evaluate[string](`document.getElementById('alerts').innerText`)),
		into(&notReloaded, chromedp.Evaluate[bool](`window.walnutNotReloaded === true`)),
		into(&png, chromedp.CaptureScreenshot()),
	)
	shot := filepath.Join(artifactDir(t), "board-alerts.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the alert footer: %s", shot)
	if !notReloaded {
		t.Error("the page reloaded to show the footer")
	}
	text = strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"PagerDuty alerts failing", "refused at", "400", "on-call will not be paged"} {
		if !strings.Contains(text, want) {
			t.Errorf("footer %q does not say %q", text, want)
		}
	}
	if strings.Contains(text, routingKey) {
		t.Errorf("footer shows the routing key: %q", text)
	}
	if n := events.Load(); n < 1 {
		t.Errorf("PagerDuty got %d events, want the trigger", n)
	}

	// /healthz tells the same story: one computation serves both.
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var health struct {
		Notify []struct{ Sink, Status string } `json:"notify"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range health.Notify {
		if s.Sink == "pagerduty" {
			found = true
			if s.Status != "failing" {
				t.Errorf("/healthz says pagerduty is %s while the board says failing", s.Status)
			}
		}
	}
	if !found {
		t.Errorf("/healthz does not list pagerduty: %+v", health.Notify)
	}
}

// alertConfig is the board's config with only the Checkout API paging: on a
// loaded machine another site's probe may time out and turn it red, which
// must not be what the footer reports. Checkout API gets more time for the
// same reason, so that it is red only when the test turns it red.
func alertConfig(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(b)
	for old, new := range map[string]string{
		"defaults: {": "defaults: {notify: [], ",
		"slug: flip, group: Our apps, interval: 2s, timeout: 2s,": "slug: flip, group: Our apps, notify: [pagerduty], interval: 5s, timeout: 5s,",
	} {
		if strings.Count(yaml, old) != 1 {
			t.Fatalf("the board's config changed: no single %q in\n%s", old, yaml)
		}
		yaml = strings.Replace(yaml, old, new, 1)
	}
	return writeConfig(t, yaml)
}
