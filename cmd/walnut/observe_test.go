package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/metrics"
	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestDatabaseSizeMetric(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))

	t.Run("WithBudget", func(t *testing.T) {
		t.Parallel()
		m := metrics.New()
		watch := web.NewStorageWatch(web.StorageWatchOptions{Sizer: st, Budget: 1_000_000_000})
		observeStorage(m, watch, 1_000_000_000)
		if out := scrape(t, m); !regexp.MustCompile(`(?m)^walnut_database_bytes NaN$`).MatchString(out) {
			t.Errorf("before the first reading, want NaN:\n%s", grepLines(out, "walnut_database"))
		}
		if err := watch.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		out := scrape(t, m)
		got := regexp.MustCompile(`(?m)^walnut_database_bytes (\S+)$`).FindStringSubmatch(out)
		if got == nil {
			t.Fatalf("no walnut_database_bytes:\n%s", grepLines(out, "walnut_database"))
		}
		if v, err := strconv.ParseFloat(got[1], 64); err != nil || int64(v) != watch.Usage().Bytes || v < 1e6 {
			t.Errorf("walnut_database_bytes %s, want the reading %d", got[1], watch.Usage().Bytes)
		}
		if !regexp.MustCompile(`(?m)^walnut_database_budget_bytes 1e\+09$`).MatchString(out) {
			t.Errorf("no budget gauge:\n%s", grepLines(out, "walnut_database"))
		}
	})

	t.Run("NoBudgetNoBudgetGauge", func(t *testing.T) {
		t.Parallel()
		m := metrics.New()
		observeStorage(m, web.NewStorageWatch(web.StorageWatchOptions{Sizer: st}), 0)
		if out := scrape(t, m); regexp.MustCompile(`walnut_database_budget_bytes`).MatchString(out) {
			t.Errorf("a budget gauge without a budget:\n%s", grepLines(out, "walnut_database"))
		}
	})
}

// TestMaintenanceMetrics: a real maintenance pass shows in the passes
// counter and in how far history trails, and a failing one as an error.
func TestMaintenanceMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	if _, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	m := metrics.New()
	watch := web.NewMaintenanceWatch(func() time.Time { return now })
	observeMaintenance(m, watch)
	if out := scrape(t, m); !regexp.MustCompile(`(?m)^walnut_history_behind_seconds NaN$`).MatchString(out) {
		t.Errorf("before a pass, want NaN:\n%s", grepLines(out, "walnut_history"))
	}
	mt := store.NewMaintainer(st, slog.New(slog.DiscardHandler), store.MaintainerOptions{Now: func() time.Time { return now }})
	watch.Passed(mt.RunOnce(ctx))
	watch.Passed(store.MaintainResult{}, fmt.Errorf("apply retention: %w", context.DeadlineExceeded))
	out := scrape(t, m)
	for _, want := range []string{
		`(?m)^walnut_maintenance_passes_total\{result="ok"\} 1$`,
		`(?m)^walnut_maintenance_passes_total\{result="error"\} 1$`,
		`(?m)^walnut_maintenance_passes_total\{result="skipped"\} 0$`,
		// A site without probes is compacted up to the hour before the
		// last whole one: 11:00, 90 minutes before now.
		`(?m)^walnut_history_behind_seconds 5400$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no %s in:\n%s", want, grepLines(out, "walnut_"))
		}
	}
}

// grepLines keeps the lines of s that contain sub, for a readable failure.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestReloadForgetsRemovedSites runs the checker on real runners and
// reloads the config file: the site the reload removes has its series taken
// off /metrics once its runner has stopped; the site it keeps keeps them.
func TestReloadForgetsRemovedSites(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(up.Close)
	logger := slog.New(slog.DiscardHandler)
	st := store.New(storetest.Pool(t))
	m := metrics.New()
	// The writer is not run: Add only queues the probe.
	sink := observedSink{next: store.NewWriter(st, logger, store.WriterOptions{}), metrics: m}
	chk := checker.New(sink, logger, checker.Options{StaggerDisabled: true})
	place := checker.NewPlacer(st, chk, checker.PlacerOptions{Owner: "test", Logger: logger})
	site := func(name string) string {
		return fmt.Sprintf("  - {name: %s, url: %q, interval: 1s}\n", name, up.URL+"/"+name)
	}
	path := writeConfig(t, "sites:\n"+site("api")+site("old"))
	r := &reloader{path: path, lookup: fakeEnv(nil), store: st, placer: place, metrics: m, logger: logger}
	cfg, err := loadConfig(path, r.lookup, recipes.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	all, err := r.apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := place.Start(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { chk.Run(ctx, mine); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	storetest.WaitFor(t, "a probe of each site", func() bool {
		out := scrape(t, m)
		return strings.Contains(out, `site="api"`) && strings.Contains(out, `site="old"`)
	})

	if err := os.WriteFile(path, []byte("sites:\n"+site("api")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.reload(ctx); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m)
	if strings.Contains(out, `site="old"`) {
		t.Errorf("the removed site's series are still scraped:\n%s", grepLines(out, "walnut_probes_total"))
	}
	if !strings.Contains(out, `walnut_probes_total{site="api",state="ok"}`) {
		t.Errorf("the kept site lost its series:\n%s", grepLines(out, "walnut_probes_total"))
	}
}

// TestObservedSinkLabelsBySlug: a probe is counted under the slug it
// carries, with no map from site ids to slugs to keep in step with
// reloads.
func TestObservedSinkLabelsBySlug(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	// The writer is not run: Add only queues the probe.
	w := store.NewWriter(store.New(storetest.Pool(t)), slog.New(slog.DiscardHandler), store.WriterOptions{})
	observedSink{next: w, metrics: m}.Add(store.Probe{SiteID: 41, Slug: "billing-eu", State: store.StateNotOK, Latency: time.Millisecond})
	if out := scrape(t, m); !strings.Contains(out, `walnut_probes_total{site="billing-eu",state="notok"} 1`) {
		t.Errorf("the probe is not counted under its slug:\n%s", grepLines(out, "walnut_probes_total"))
	}
}
