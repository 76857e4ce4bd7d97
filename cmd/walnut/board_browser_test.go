package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// browserStepGuard bounds each step of the browser tests so that a hang
// fails rather than stalls; it is no measure of speed.
const browserStepGuard = 2 * time.Minute

// chromiumPath finds Chromium for the browser test. Outside CI a missing
// browser skips the test with what to install; in CI it fails it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("WALNUT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed: install it (sudo apt-get install chromium) to run the browser test")
	return ""
}

// artifactDir is where the browser test leaves its screenshots:
// $WALNUT_ARTIFACTS, else testdata/out (ignored by git).
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WALNUT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// boardUpstream answers /ok/*, /down/*, /building/* with 200, 503 and 202,
// and /flip with whatever flip holds.
func boardUpstream(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var flip atomic.Int32
	flip.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/flip":
			w.WriteHeader(int(flip.Load()))
		case strings.HasPrefix(r.URL.Path, "/down/"):
			w.WriteHeader(503)
		case strings.HasPrefix(r.URL.Path, "/building/"):
			w.WriteHeader(202)
		default:
			w.WriteHeader(200)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &flip
}

// boardConfig is 60 sites in all three states, in three groups, one of them the
// site the test turns red.
func boardConfig(t *testing.T, upstream string) string {
	var b strings.Builder
	// Long timeouts, so that a loaded machine does not turn a site red by
	// itself; the site the test flips is probed more often, so that its
	// change shows soon.
	b.WriteString("defaults: {interval: 5s, timeout: 5s, recipe: {name: status, pending: [202]}}\nsites:\n")
	fmt.Fprintf(&b, "  - {name: Checkout API, slug: flip, group: Our apps, interval: 2s, timeout: 2s, url: %q}\n", upstream+"/flip")
	vendors := []string{"GitHub", "Stripe", "Heroku", "AWS S3", "Cloudflare", "Sentry", "PagerDuty", "Slack", "Twilio", "SendGrid", "Auth0", "Datadog"}
	for i, v := range vendors {
		path := "/ok/"
		if i == 3 || i == 9 {
			path = "/down/"
		}
		fmt.Fprintf(&b, "  - {name: %q, group: Vendors, url: %q}\n", v, upstream+path+fmt.Sprint(i))
	}
	for i := range 20 {
		path := "/ok/"
		switch {
		case i%6 == 1:
			path = "/building/"
		case i == 8:
			path = "/down/"
		}
		fmt.Fprintf(&b, "  - {name: \"main · service-%02d\", group: CI builds, url: %q}\n", i+1, upstream+path+fmt.Sprint(i))
	}
	for i := range 27 {
		path := "/ok/"
		switch {
		case i == 4 || i == 17:
			path = "/down/"
		case i%9 == 2:
			path = "/building/"
		}
		fmt.Fprintf(&b, "  - {name: \"App %02d\", slug: app-%02d, group: Our apps, url: %q}\n", i+1, i+1, upstream+path+fmt.Sprint(i))
	}
	return writeConfig(t, b.String())
}

// TestBoardInBrowser runs walnut serve and drives its board in headless
// Chromium: tiles change live, a stopped stream shows the stale warning.
func TestBoardInBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium := chromiumPath(t)
	upstream, flip := boardUpstream(t)
	cfg := boardConfig(t, upstream.URL)
	port := freePort(t)
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "WALNUT_LOG_LEVEL": "warn"}

	// Someone on support today, imported as a user would.
	today := time.Now()
	roster := writeFile(t, "roster.csv", fmt.Sprintf("start,end,person,contact\n%s,%s,Ada Lovelace,@ada\n",
		today.AddDate(0, 0, -2).Format(time.DateOnly), today.AddDate(0, 0, 4).Format(time.DateOnly)))
	var rosterErr storetest.Buffer
	if code := run(context.Background(), []string{"roster", "import", roster}, io.Discard, &rosterErr, fakeEnv(vars)); code != exitOK {
		t.Fatalf("roster import: exit %d: %s", code, rosterErr.String())
	}

	first := serveOn(t, port, vars, "serve", "--config", cfg)
	first.waitHealthy(t)
	base := first.base

	browser := newBrowser(t, chromium)
	step := browserSteps(t, browser, nil)

	step("load the board",
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body.is-live`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=flip][data-state=ok]`)),
		void(chromedp.Poll[bool](`document.querySelectorAll('[data-testid=tile][data-state=unknown]').length === 0`, chromedp.WithPollingTimeout(browserStepGuard))),
		void(chromedp.Evaluate[bool](`window.walnutNotReloaded = true`)),
	)
	var counts, support string
	step("read the counts",
		into(&counts, chromedp.Text(chromedp.CSS(`#counts`))),
		into(&support, chromedp.Text(chromedp.CSS(`#support`))),
	)
	if !strings.Contains(support, "Ada Lovelace") {
		t.Errorf("support = %q, want today's person from the roster", support)
	}
	if !strings.Contains(counts, "5 DOWN") || !strings.Contains(counts, "7 PENDING") || !strings.Contains(counts, "48 OK") {
		t.Errorf("counts = %q, want 5 DOWN, 7 PENDING, 48 OK", counts)
	}

	var png []byte
	step("screenshot", into(&png, chromedp.CaptureScreenshot()))
	shot := filepath.Join(artifactDir(t), "board.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of 60 sites at 1920×1080: %s", shot)

	// Turn the upstream red: the tile changes in place, with no reload,
	// and joins the failing strip.
	flip.Store(503)
	step("tile turns red live",
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=flip][data-state=notok]`)),
		chromedp.WaitVisible(chromedp.CSS(`#strip [data-slug=flip]`)),
	)
	var notReloaded bool
	step("no reload", into(&notReloaded, chromedp.Evaluate[bool](`window.walnutNotReloaded === true`)))
	if !notReloaded {
		t.Error("the page reloaded to show the change")
	}
	var reason string
	step("reason", into(&reason, chromedp.Text(chromedp.CSS(`#tile-flip .tile-reason`))))
	if !strings.Contains(reason, "503") {
		t.Errorf("red tile reason = %q, want the HTTP status", reason)
	}

	// Stop the server: the stream ends and the page says so loudly.
	if code := first.stop(); code != exitOK {
		t.Errorf("serve exited %d", code)
	}
	step("stale warning", chromedp.WaitVisible(chromedp.CSS(`#stale`)))
	var text string
	step("stale text", into(&text, chromedp.Text(chromedp.CSS(`#stale`))))
	if !strings.Contains(text, "out of date") {
		t.Errorf("stale banner = %q", text)
	}
	step("screenshot stale", into(&png, chromedp.CaptureScreenshot()))
	if err := os.WriteFile(filepath.Join(artifactDir(t), "board-stale.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	// A new process (a deploy) on the same port: the page reconnects with
	// its backoff, sees another instance, and reloads itself.
	serveOn(t, port, vars, "serve", "--config", cfg).waitHealthy(t)
	reloadCtx, cancelReload := context.WithTimeout(browser, browserStepGuard)
	defer cancelReload()
	for {
		// The reload may land in the middle of a poll, which then fails
		// ("navigated", "cannot find context"); poll again on the new page.
		err := chromedp.Do(reloadCtx, void(chromedp.Poll[bool](
			`window.walnutNotReloaded === undefined && document.body.classList.contains('is-live')`,
			chromedp.WithPollingTimeout(browserStepGuard))))
		if err == nil {
			break
		}
		if reloadCtx.Err() != nil {
			t.Fatalf("reload after the restart: %v", err)
		}
	}
	// Probe times from before the restart are stale for a moment, until
	// the new process's first probes arrive.
	step("fresh after the restart",
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=flip][data-state=notok]`)),
		void(chromedp.Poll[bool](`document.getElementById('stale').hidden`, chromedp.WithPollingTimeout(browserStepGuard))),
	)
}

// void drops an action's value, to run it among others.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// into runs an action and stores its value in dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// newBrowser starts a headless Chromium with a fresh profile for the test.
// browserSteps returns step, which runs a named step's actions in browser
// and logs how long it took. Each step is bounded by a hang guard, not a
// deadline: on a busy machine Chromium may be slow, and the figures that
// matter are the times logged, not a pass or fail. more, when set, adds to
// a failure what the test knows besides.
func browserSteps(t *testing.T, browser context.Context, more func() string) func(name string, actions ...chromedp.Action[chromedp.Void]) {
	return func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, browserStepGuard)
		defer cancel()
		start := time.Now()
		if err := chromedp.Do(ctx, actions...); err != nil {
			if more != nil {
				t.Fatalf("%s: %v\n%s", name, err, more())
			}
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, time.Since(start).Round(time.Millisecond))
	}
}

func newBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("force-dark-mode", true), // the TV theme
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1920, 1080),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// The first run starts Chromium and ties it to its context, so it runs
	// on the browser's own context; later steps carry their own timeouts.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	return browser
}

// TestBoardFits200 shows 200 sites, a bad day's worth of them red, on a
// 1920×1080 screen and checks that nothing needs scrolling.
func TestBoardFits200(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium := chromiumPath(t)
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	groups := []string{"Vendors", "CI builds", "Checkout", "Search", "Payments", "Internal tools", "Data", "Mobile"}
	specs := make([]store.SiteSpec, 200)
	for i := range specs {
		specs[i] = store.SiteSpec{
			Slug: fmt.Sprintf("site-%03d", i), Name: fmt.Sprintf("%s service %03d", groups[i%len(groups)], i),
			Group: groups[i%len(groups)], URL: "https://example.com/", Interval: 30 * time.Second,
		}
	}
	ids, err := st.SiteSync(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var probes []store.Probe
	for i, sp := range specs {
		p := store.Probe{SiteID: ids[sp.Slug], At: now.Add(-time.Duration(i%20) * time.Second), State: store.StateOK, HTTPStatus: 200}
		switch {
		case i%20 == 3:
			p.State, p.HTTPStatus, p.Reason = store.StateNotOK, 503, "HTTP 503 Service Unavailable"
		case i%13 == 5:
			p.State, p.HTTPStatus, p.Reason = store.StatePending, 202, "build running"
		}
		probes = append(probes, p)
	}
	if _, err := st.WriteProbes(ctx, probes); err != nil {
		t.Fatal(err)
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if err := st.RosterReplace(ctx, []store.Shift{{Start: day.AddDate(0, 0, -1), End: day.AddDate(0, 0, 1), Person: "Grace Hopper", Contact: "@grace"}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{Store: st, Roster: st, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)

	browser := newBrowser(t, chromium)
	run := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(browser, browserStepGuard)
		defer cancel()
		if err := chromedp.Do(stepCtx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var overflow, tiles int
	var staleHidden bool
	var png []byte
	run("load 200 sites",
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body.density-xl [data-slug=site-199]`)),
		into(&tiles, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=tile]').length`)),
		into(&overflow, chromedp.Evaluate[int](`document.documentElement.scrollHeight - window.innerHeight`)),
		into(&staleHidden, chromedp.Evaluate[bool](`document.getElementById('stale').hidden`)),
		into(&png, chromedp.CaptureScreenshot()),
	)
	if err := os.WriteFile(filepath.Join(artifactDir(t), "board-200.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if tiles != 200 {
		t.Errorf("%d tiles, want 200", tiles)
	}
	if !staleHidden {
		t.Error("the stale warning shows on a board whose probes are all fresh")
	}
	if overflow > 0 {
		t.Errorf("200 sites need %dpx of scrolling at 1920×1080", overflow)
	}

	// A site whose last probe is older than three intervals (30s each)
	// raises the warning and marks its tile.
	var text string
	run("a late probe",
		void(chromedp.Evaluate[bool](`document.getElementById('tile-site-042').setAttribute('data-checked', new Date(Date.now() - 100000).toISOString()) === undefined`)),
		chromedp.WaitVisible(chromedp.CSS(`#stale`)),
		chromedp.WaitVisible(chromedp.CSS(`#tile-site-042.tile-stale`)),
		into(&text, chromedp.Text(chromedp.CSS(`#stale`))),
	)
	if !strings.Contains(text, "No recent probe for "+specs[42].Name) {
		t.Errorf("stale warning = %q, want it to name the late site", text)
	}
}
