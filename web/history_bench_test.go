package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// BenchmarkHistory seeds one site with 90 days of probes (every 10 s:
// 777,600 rows; every 1 s for rows=7776000) through the writer's path, a day
// per batch, runs a maintenance pass as serve would (compaction into hours
// and blocks, raw days before yesterday dropped), then measures the site
// page and /api/v1/sites/{slug} served by the handler in process. It reports
// the 95th percentile of each, and the bytes each stored probe takes in raw
// probes, in blocks and in hours, with their indexes.
func BenchmarkHistory(b *testing.B) {
	for _, every := range []time.Duration{10 * time.Second, time.Second} {
		rows := int(90 * 24 * time.Hour / every)
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			benchHistory(b, every)
		})
	}
}

func benchHistory(b *testing.B, every time.Duration) {
	ctx := context.Background()
	pool := storetest.Pool(b)
	st := store.New(pool)
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: every}})
	if err != nil {
		b.Fatal(err)
	}
	// Mid-hour, as a page is usually opened: the last 7.5 minutes are raw
	// after the hour the maintenance pass compacted, and every uptime
	// window's start cuts an hour out of its block.
	now := time.Date(2026, 11, 25, 12, 7, 30, 0, time.UTC)
	start := now.Add(-90 * 24 * time.Hour)
	if _, err := st.ProbePartitionsEnsure(ctx, start, 92); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seedStart := time.Now()
	total := 0
	for day := start; day.Before(now); day = day.Add(24 * time.Hour) {
		batch := make([]store.Probe, 0, int(24*time.Hour/every))
		state := store.StateOK
		for at := day; at.Before(day.Add(24*time.Hour)) && at.Before(now); at = at.Add(every) {
			if rng.IntN(5000) == 0 {
				state = store.StateNotOK
			} else if state == store.StateNotOK && rng.IntN(30) == 0 {
				state = store.StateOK
			}
			lat := time.Duration(20_000+rng.IntN(80_000)) * time.Microsecond
			batch = append(batch, store.Probe{
				SiteID: ids["api"], At: at, State: state, HTTPStatus: 200,
				Latency: lat, TTFB: lat * 7 / 10, DNS: time.Millisecond, Connect: 2 * time.Millisecond, TLS: 6 * time.Millisecond,
			})
		}
		if _, err := st.WriteProbes(ctx, batch); err != nil {
			b.Fatal(err)
		}
		total += len(batch)
	}
	// serve compacts finished hours every minute; the seed is written at
	// once, so compact it as serve would have.
	m := store.NewMaintainer(st, slog.New(slog.DiscardHandler), store.MaintainerOptions{Now: func() time.Time { return now }})
	if _, err := m.RunOnce(ctx); err != nil {
		b.Fatal(err)
	}
	seeded := time.Since(seedStart)

	size := func(table string) int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree($1)`, table).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	probeBytes, blockBytes, hourBytes := size("probes"), size("probe_blocks"), size("history_hours")
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}

	h := web.New(web.Options{
		Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return now },
	})
	for _, path := range []string{"/sites/api", "/sites/api?range=90d", "/api/v1/sites/api"} {
		b.Run("GET "+path, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				took = append(took, time.Since(t0))
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		})
	}
	// A benchmark with sub-benchmarks reports no metrics of its own.
	b.Logf("%d probes seeded in %s; bytes a probe: %.1f in raw probes (today and yesterday), %.1f in blocks, %.1f in hours",
		total, seeded.Round(time.Second), float64(probeBytes)/float64(total), float64(blockBytes)/float64(total), float64(hourBytes)/float64(total))
}
