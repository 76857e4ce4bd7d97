package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// BenchmarkWriteProbes measures the writer's path into PostgreSQL: one
// statement writes a batch and runs the state machine. It reports probes a
// second and the WAL each probe costs (pg_current_wal_lsn before and after). Each batch holds
// one probe for each of 1,000 sites, as the writer sees when 1,000 sites are
// due together; every tenth probe flips state so transitions are written too.
func BenchmarkWriteProbes(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			ctx := context.Background()
			st := store.New(storetest.Pool(b))
			specs := make([]store.SiteSpec, size)
			for i := range specs {
				specs[i] = store.SiteSpec{Slug: fmt.Sprintf("site-%d", i), Name: fmt.Sprintf("Site %d", i), URL: "https://example.com/", Interval: 10 * time.Second}
			}
			ids, err := st.SiteSync(ctx, specs)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.ProbePartitionsEnsure(ctx, time.Now().Add(-24*time.Hour), 3); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			batch := make([]store.Probe, size)
			var lsn0 string
			if err := st.Pool().QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn0); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for n := range b.N {
				for i := range batch {
					state := store.StateOK
					if (n+i)%10 == 0 {
						state = store.StateNotOK
					}
					batch[i] = store.Probe{
						SiteID: ids[specs[i].Slug], At: start.Add(time.Duration(n) * time.Second), State: state,
						HTTPStatus: 200, Latency: 42 * time.Millisecond, TTFB: 30 * time.Millisecond,
						DNS: time.Millisecond, Connect: 2 * time.Millisecond, TLS: 5 * time.Millisecond,
					}
				}
				if _, err := st.WriteProbes(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var wal float64
			if err := st.Pool().QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8`, lsn0).Scan(&wal); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "probes/s")
			b.ReportMetric(wal/float64(b.N*size), "wal-B/probe")
			b.ReportMetric(0, "ns/op")
		})
	}
}
