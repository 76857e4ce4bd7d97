package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/walnut-board/walnut/store/storetest"
)

// TestHeartbeatTileInBrowser shows a heartbeat site on the board turning
// red when its job stops calling: green while the job calls, then, every
// (2s) plus grace (1s) after the last call, red with "no heartbeat for 3s",
// live, without a reload.
func TestHeartbeatTileInBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium := chromiumPath(t)
	upstream, _ := boardUpstream(t)
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - {name: Checkout API, group: Our apps, url: %q, interval: 5s, timeout: 5s}
  - name: Billing worker
    group: Our apps
    heartbeat: {every: 2s, grace: 1s, token: "${BILLING_HEARTBEAT_TOKEN}"}
`, upstream.URL+"/ok/1"))
	s := serveOn(t, freePort(t), map[string]string{
		"DATABASE_URL": storetest.NewDatabase(t), "WALNUT_LOG_LEVEL": "warn",
		"BILLING_HEARTBEAT_TOKEN": workerToken,
	}, "serve", "--config", cfg)
	s.waitHealthy(t)
	base := s.base

	// The job: it calls in twice a second, as a busy worker's loop might,
	// until the test stops it.
	jobCtx, stopJob := context.WithCancel(context.Background())
	var job sync.WaitGroup
	job.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			req, _ := http.NewRequestWithContext(jobCtx, http.MethodPost, base+"/api/v1/heartbeat/billing-worker", strings.NewReader(`{"state": "ok", "duration_ms": 40}`))
			req.Header.Set("Authorization", "Bearer "+workerToken)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					t.Errorf("heartbeat answered %d", resp.StatusCode)
				}
			}
			select {
			case <-jobCtx.Done():
				return
			case <-tick.C:
			}
		}
	})
	defer func() { stopJob(); job.Wait() }()

	browser := newBrowser(t, chromium)
	step := browserSteps(t, browser, nil)
	step("the worker is green while it calls",
		chromedp.EmulateViewport(1280, 720),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body.is-live`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=billing-worker][data-state=ok]`)),
		void(chromedp.Evaluate[bool](`window.walnutNotReloaded = true`)),
	)

	stopJob()
	job.Wait()
	step("the worker turns red when the job stops calling",
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=billing-worker][data-state=notok]`)),
		chromedp.WaitVisible(chromedp.CSS(`#strip [data-slug=billing-worker]`)),
	)
	var reason string
	var notReloaded bool
	step("reason",
		into(&reason, chromedp.Text(chromedp.CSS(`#tile-billing-worker .tile-reason`))),
		into(&notReloaded, chromedp.Evaluate[bool](`window.walnutNotReloaded === true`)),
	)
	if !strings.HasPrefix(strings.TrimSpace(reason), "no heartbeat for ") {
		t.Errorf("red tile reason = %q, want \"no heartbeat for …\"", reason)
	}
	if !notReloaded {
		t.Error("the page reloaded to show the change")
	}
	var png []byte
	step("screenshot", into(&png, chromedp.CaptureScreenshot()))
	if err := os.WriteFile(filepath.Join(artifactDir(t), "board-heartbeat.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
