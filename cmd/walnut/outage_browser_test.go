package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/walnut-board/walnut/store/pglocal"
)

// TestBoardSurvivesDatabaseOutage runs walnut serve on a PostgreSQL of the
// test's own and a TV's board in headless Chromium, signed in as a kiosk
// behind a password. PostgreSQL stops and the page is reloaded, as a TV's
// is when the server restarts: it shows the board's shell with a banner
// saying what is wrong, not a bare error. PostgreSQL starts again and the
// tiles come back, read from the database, with nobody touching the TV.
func TestBoardSurvivesDatabaseOutage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium := chromiumPath(t)
	ctx := context.Background()

	// A cluster of its own: the shared test server must not go down.
	parent, err := os.MkdirTemp("", "wb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	// PostgreSQL runs as its own user when the tests run as root.
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	pgOpts := pglocal.Options{Dir: filepath.Join(parent, "pg"), Logger: slog.New(slog.DiscardHandler)}
	cluster, err := pglocal.Start(ctx, pgOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	if err := cluster.CreateDatabase(ctx, "walnut"); err != nil {
		t.Fatal(err)
	}

	upstream, _ := boardUpstream(t)
	var cfg strings.Builder
	cfg.WriteString("defaults: {interval: 2s, timeout: 2s}\nsites:\n")
	for i := range 4 {
		fmt.Fprintf(&cfg, "  - {name: \"App %d\", slug: app-%d, url: %q}\n", i, i, upstream.URL+"/ok/"+fmt.Sprint(i))
	}
	s := serveOn(t, freePort(t), map[string]string{
		"DATABASE_URL": cluster.URL("walnut"), "WALNUT_LOG_LEVEL": "error",
		"WALNUT_PASSWORD": "secret", "WALNUT_KIOSK_TOKEN": "tv-token",
	}, "serve", "--config", writeConfig(t, cfg.String()))
	s.waitHealthy(t)
	base := s.base

	browser := newBrowser(t, chromium)
	step := browserSteps(t, browser, nil)
	allOK := `document.querySelectorAll('[data-testid=tile][data-state=ok]').length === 4`
	step("open the board as a kiosk",
		chromedp.Navigate(base+"/?kiosk=tv-token"),
		chromedp.WaitVisible(chromedp.CSS(`body.is-live.kiosk`)),
		void(chromedp.Poll[bool](allOK, chromedp.WithPollingTimeout(browserStepGuard))),
	)

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	step("reload during the outage: the shell, with the banner",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`body[data-unavailable].kiosk #stale`)),
		void(chromedp.Poll[bool](`document.getElementById('stale-text').textContent.indexOf('database unreachable since') >= 0`,
			chromedp.WithPollingTimeout(browserStepGuard))),
		void(chromedp.Evaluate[bool](`window.walnutShell = true`)),
	)
	var tiles int
	var banner string
	step("read the shell",
		into(&tiles, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=tile]').length`)),
		into(&banner, chromedp.Text(chromedp.CSS(`#stale`))),
	)
	if tiles != 0 {
		t.Errorf("the shell shows %d tiles while the database is down", tiles)
	}
	t.Logf("banner during the outage: %q", banner)
	var png []byte
	step("screenshot the shell", into(&png, chromedp.CaptureScreenshot()))
	if err := os.WriteFile(filepath.Join(artifactDir(t), "board-unavailable.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	// The cleanup above stops this one: it reads the variable.
	cluster, err = pglocal.Start(ctx, pgOpts)
	if err != nil {
		t.Fatal(err)
	}
	// The page reloads itself once the board can be read; a poll under way
	// then fails ("navigated", "cannot find context"), so poll again on the
	// new page until the guard.
	backCtx, cancel := context.WithTimeout(browser, browserStepGuard)
	defer cancel()
	for {
		err := chromedp.Do(backCtx, void(chromedp.Poll[bool](
			`window.walnutShell === undefined && !document.body.hasAttribute('data-unavailable') && `+allOK,
			chromedp.WithPollingTimeout(browserStepGuard))))
		if err == nil {
			break
		}
		if backCtx.Err() != nil {
			t.Fatalf("the tiles did not come back by themselves: %v", err)
		}
	}
	step("live again", chromedp.WaitVisible(chromedp.CSS(`body.is-live`)))
}
