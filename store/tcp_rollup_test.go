package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// A tcp:// site's probes have no HTTP status; those that connected still
// chart their latency, those refused do not.
func TestSiteSeriesTimesTCPProbes(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, time.Minute)
	var ps []store.Probe
	for i := range 10 {
		ps = append(ps, store.Probe{
			SiteID: b.site.ID, At: b.at(time.Duration(i) * time.Minute), State: store.StateOK,
			Latency: 5 * time.Millisecond, TTFB: 5 * time.Millisecond, Connect: 5 * time.Millisecond,
		})
	}
	ps = append(ps, store.Probe{SiteID: b.site.ID, At: b.at(10 * time.Minute), State: store.StateNotOK, Latency: time.Millisecond, Reason: "connection refused"})
	if _, err := b.st.WriteProbes(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	buckets, err := b.st.SiteSeries(context.Background(), b.site, b.t0, b.at(time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 1 {
		t.Fatalf("%d buckets", len(buckets))
	}
	bk := buckets[0]
	if bk.Probes != 11 || bk.Timed != 10 || bk.LatencyMax != 5*time.Millisecond || bk.Connect != 5*time.Millisecond {
		t.Errorf("bucket: probes %d, timed %d, max latency %s, connect %s; want 11 probes, 10 timed at 5ms", bk.Probes, bk.Timed, bk.LatencyMax, bk.Connect)
	}
}
