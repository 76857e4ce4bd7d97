package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestReloadForgetsRemovedSites: a reload that removes a site takes its
// series off /metrics; the sites it keeps keep theirs.
func TestReloadForgetsRemovedSites(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	r := &reloader{store: store.New(storetest.Pool(t)), metrics: m, logger: slog.New(slog.DiscardHandler)}
	apply := func(yaml string) {
		t.Helper()
		cfg, err := loadConfig("", fakeEnv(map[string]string{"WALNUT_CONFIG_YAML": yaml}), recipes.Builtin())
		if err != nil {
			t.Fatal(err)
		}
		sites, err := r.apply(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		// A probe of every site, labelled as observedSink labels it.
		for _, s := range sites {
			m.ObserveProbe(s.Slug, "ok", time.Millisecond)
		}
	}

	apply("sites:\n  - {name: API, url: \"https://api.example.com/\"}\n  - {name: Old, url: \"https://old.example.com/\"}\n")
	if out := scrape(t, m); !strings.Contains(out, `site="old"`) {
		t.Fatalf("no series for old before the reload:\n%s", grepLines(out, "walnut_probes_total"))
	}
	apply("sites:\n  - {name: API, url: \"https://api.example.com/\"}\n")
	out := scrape(t, m)
	if strings.Contains(out, `site="old"`) {
		t.Errorf("the removed site's series are still scraped:\n%s", grepLines(out, "walnut_probes_total"))
	}
	if !strings.Contains(out, `walnut_probes_total{site="api",state="ok"} 2`) {
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
