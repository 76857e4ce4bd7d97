package store_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// TestSeriesQuarterSums: a series in whole quarter hours reads a dense
// site's quarter-hour sums instead of its blocks, and answers exactly what
// the unpacked blocks answer, over ranges that start and end on and off
// the hour and past the compacted history.
func TestSeriesQuarterSums(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRollups(t, 2*time.Second)
	rng := rand.New(rand.NewPCG(7, 11))
	var ps []store.Probe
	state := store.StateOK
	for at := b.at(1500 * time.Millisecond); at.Before(b.at(5*time.Hour + 20*time.Minute)); {
		if rng.IntN(300) == 0 {
			state = []store.State{store.StateOK, store.StateNotOK, store.StatePending}[rng.IntN(3)]
		}
		p := store.Probe{SiteID: b.site.ID, At: at, State: state, HTTPStatus: 200,
			Latency: time.Duration(1+rng.IntN(900_000)) * time.Microsecond, DNS: time.Millisecond, TLS: time.Duration(rng.IntN(9000)) * time.Microsecond}
		p.TTFB = p.Latency / 2
		if rng.IntN(50) == 0 { // a transport failure: no answer, no timings
			p.State, p.HTTPStatus, p.TTFB = store.StateNotOK, 0, 0
		}
		ps = append(ps, p)
		gap := 2*time.Second + time.Duration(rng.IntN(400)-200)*time.Millisecond
		if rng.IntN(1500) == 0 { // a gap past two intervals: no data
			gap = time.Duration(10+rng.IntN(600)) * time.Second
		}
		at = at.Add(gap)
	}
	if _, err := b.st.WriteProbes(ctx, ps); err != nil {
		t.Fatal(err)
	}
	b.compact(t, b.at(5*time.Hour+20*time.Minute))

	pool := b.st.Pool()
	var dense int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM probe_blocks WHERE quarters IS NOT NULL`).Scan(&dense); err != nil {
		t.Fatal(err)
	}
	if dense != 5 {
		t.Fatalf("%d blocks with quarter sums, want the 5 compacted hours", dense)
	}
	type query struct {
		from, to time.Time
		step     time.Duration
	}
	queries := []query{
		{b.t0, b.at(5 * time.Hour), 15 * time.Minute},
		{b.at(45 * time.Minute), b.at(4*time.Hour + 30*time.Minute), 15 * time.Minute},
		{b.at(30 * time.Minute), b.at(5*time.Hour + 20*time.Minute), 30 * time.Minute},
		{b.at(15 * time.Minute), b.at(3*time.Hour + 7*time.Minute), 45 * time.Minute},
		{b.at(-time.Hour), b.at(6 * time.Hour), 15 * time.Minute},
		{b.at(7 * time.Minute), b.at(5 * time.Hour), 15 * time.Minute}, // off the quarter: unpacked
	}
	answer := func() [][]store.Bucket {
		var out [][]store.Bucket
		for _, q := range queries {
			bs, err := b.st.SiteSeries(ctx, b.site, q.from, q.to, q.step)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, bs)
		}
		return out
	}
	fromSums := answer()
	if _, err := pool.Exec(ctx, `UPDATE probe_blocks SET quarters = NULL`); err != nil {
		t.Fatal(err)
	}
	unpacked := answer()
	for i, q := range queries {
		if !reflect.DeepEqual(fromSums[i], unpacked[i]) {
			for j := range fromSums[i] {
				if fromSums[i][j] != unpacked[i][j] {
					t.Errorf("%s to %s by %s, bucket %s:\nsums     %+v\nunpacked %+v", q.from.Format(time.TimeOnly), q.to.Format(time.TimeOnly), q.step,
						fromSums[i][j].At.Format(time.TimeOnly), fromSums[i][j], unpacked[i][j])
					break
				}
			}
		}
	}
	var probes int
	for _, bk := range fromSums[4] {
		probes += bk.Probes
	}
	if probes != len(ps) {
		t.Errorf("the whole range counts %d probes, want %d", probes, len(ps))
	}
}
