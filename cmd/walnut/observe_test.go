package main

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/walnut-board/walnut/metrics"
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
