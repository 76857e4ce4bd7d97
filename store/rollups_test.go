package store_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

type rollupBundle struct {
	st   *store.Store
	site store.Site
	t0   time.Time
}

// setupRollups makes one site with the interval given and no probes.
func setupRollups(t *testing.T, interval time.Duration) rollupBundle {
	t.Helper()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: interval}})
	if err != nil {
		t.Fatal(err)
	}
	site, err := st.SiteGetBySlug(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if site.ID != ids["api"] {
		t.Fatalf("site id %d, want %d", site.ID, ids["api"])
	}
	return rollupBundle{st: st, site: site, t0: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
}

// write writes probes of the site at t0+offset with the states given.
func (b rollupBundle) write(t *testing.T, probes ...store.Probe) {
	t.Helper()
	for i := range probes {
		probes[i].SiteID = b.site.ID
		if probes[i].State == store.StateOK || probes[i].State == store.StateNotOK {
			probes[i].HTTPStatus = 200
		}
	}
	if _, err := b.st.WriteProbes(context.Background(), probes); err != nil {
		t.Fatal(err)
	}
}

func (b rollupBundle) at(d time.Duration) time.Time { return b.t0.Add(d) }

func (b rollupBundle) uptime(t *testing.T, from, to time.Duration) store.Uptime {
	t.Helper()
	u, err := b.st.SiteUptime(context.Background(), b.site, b.at(from), b.at(to))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func probe(at time.Time, s store.State) store.Probe { return store.Probe{At: at, State: s} }

func ratioString(r *float64) string {
	if r == nil {
		return "null"
	}
	return fmt.Sprintf("%.4f", *r)
}

func TestSiteUptime(t *testing.T) {
	t.Parallel()
	const m = time.Minute
	cases := map[string]struct {
		interval time.Duration
		probes   func(b rollupBundle) []store.Probe
		from, to time.Duration
		want     store.Uptime
		ratio    string
	}{
		"nine minutes up and one down is 90 percent": {
			interval: m,
			probes: func(b rollupBundle) []store.Probe {
				var ps []store.Probe
				for i := range 9 {
					ps = append(ps, probe(b.at(time.Duration(i)*m), store.StateOK))
				}
				return append(ps, probe(b.at(9*m), store.StateNotOK), probe(b.at(10*m), store.StateOK))
			},
			from: 0, to: 10 * m,
			want:  store.Uptime{OK: 9 * m, NotOK: m},
			ratio: "0.9000",
		},
		"a pending hour does not change uptime": {
			interval: m,
			probes: func(b rollupBundle) []store.Probe {
				var ps []store.Probe
				for i := range 9 {
					ps = append(ps, probe(b.at(time.Duration(i)*m), store.StateOK))
				}
				ps = append(ps, probe(b.at(9*m), store.StateNotOK))
				for i := range 60 {
					ps = append(ps, probe(b.at(time.Duration(10+i)*m), store.StatePending))
				}
				return append(ps, probe(b.at(70*m), store.StateOK))
			},
			from: 0, to: 70 * m,
			want:  store.Uptime{OK: 9 * m, NotOK: m, Pending: 60 * m},
			ratio: "0.9000",
		},
		"a ten-minute gap is no data beyond two intervals": {
			interval: m,
			probes: func(b rollupBundle) []store.Probe {
				return []store.Probe{probe(b.at(0), store.StateNotOK), probe(b.at(10*m), store.StateOK), probe(b.at(11*m), store.StateOK)}
			},
			from: 0, to: 11 * m,
			want:  store.Uptime{OK: m, NotOK: 2 * m},
			ratio: "0.3333",
		},
		"a window inside a gap has no data": {
			interval: m,
			probes: func(b rollupBundle) []store.Probe {
				return []store.Probe{probe(b.at(0), store.StateOK), probe(b.at(10*m), store.StateOK)}
			},
			from: 3 * m, to: 9 * m,
			want:  store.Uptime{},
			ratio: "null",
		},
		"windows cut across the spans of probes": {
			interval: m,
			probes: func(b rollupBundle) []store.Probe {
				// Probes at half past each minute: the window's minutes each
				// hold the ends of two verdicts.
				return []store.Probe{
					probe(b.at(30*time.Second), store.StateOK),
					probe(b.at(90*time.Second), store.StateNotOK),
					probe(b.at(150*time.Second), store.StateOK),
					probe(b.at(210*time.Second), store.StateOK),
				}
			},
			from: m, to: 3 * m,
			want:  store.Uptime{OK: m, NotOK: m},
			ratio: "0.5000",
		},
		"the latest probe holds until the window ends, at most two intervals": {
			interval: m,
			probes: func(b rollupBundle) []store.Probe {
				return []store.Probe{probe(b.at(0), store.StateOK), probe(b.at(m), store.StateNotOK)}
			},
			from: 0, to: 10 * m,
			want:  store.Uptime{OK: m, NotOK: 2 * m},
			ratio: "0.3333",
		},
		"a window across days reads days, hours and minutes": {
			interval: 30 * m,
			probes: func(b rollupBundle) []store.Probe {
				// Every 30 minutes for three days from 10:00, down from the
				// second day's 00:00 to 01:00.
				var ps []store.Probe
				for i := range 3 * 48 {
					at := b.at(time.Duration(i) * 30 * m)
					s := store.StateOK
					if at.Day() == 21 && at.Hour() == 0 {
						s = store.StateNotOK
					}
					ps = append(ps, probe(at, s))
				}
				return ps
			},
			// 2026-11-20 10:07 to 2026-11-22 23:53: 2 days 13 h 46 min, an
			// hour of it down.
			from: 7 * m, to: 61*time.Hour + 53*m,
			want:  store.Uptime{OK: 61*time.Hour + 46*m - time.Hour, NotOK: time.Hour},
			ratio: fmt.Sprintf("%.4f", 1-60.0/(61*60+46)),
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupRollups(t, c.interval)
			b.write(t, c.probes(b)...)
			got := b.uptime(t, c.from, c.to)
			if got != c.want {
				t.Errorf("uptime = %+v, want %+v", got, c.want)
			}
			if r := ratioString(got.Ratio()); r != c.ratio {
				t.Errorf("ratio = %s, want %s", r, c.ratio)
			}
		})
	}
}

// TestSiteUptimeBatchesAgree writes the same probes one at a time and all at
// once: the rollups must not depend on how the writer batched them.
func TestSiteUptimeBatchesAgree(t *testing.T) {
	t.Parallel()
	one, all := setupRollups(t, time.Minute), setupRollups(t, time.Minute)
	var ps []store.Probe
	for i := range 30 {
		s := store.StateOK
		if i%7 == 3 {
			s = store.StateNotOK
		}
		ps = append(ps, probe(one.at(time.Duration(i)*45*time.Second), s))
	}
	for _, p := range ps {
		one.write(t, p)
	}
	all.write(t, ps...)
	if a, b := one.uptime(t, 0, time.Hour), all.uptime(t, 0, time.Hour); a != b {
		t.Errorf("one by one %+v, all at once %+v", a, b)
	}
}

// TestSiteUptimeIgnoresLateProbes: a probe older than the latest one taken
// in is kept raw but does not rewrite the rollups, as the state machine.
func TestSiteUptimeIgnoresLateProbes(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, time.Minute)
	b.write(t, probe(b.at(0), store.StateOK), probe(b.at(time.Minute), store.StateOK))
	b.write(t, probe(b.at(30*time.Second), store.StateNotOK))
	if got, want := b.uptime(t, 0, 2*time.Minute), (store.Uptime{OK: 2 * time.Minute}); got != want {
		t.Errorf("uptime = %+v, want %+v", got, want)
	}
}

// TestSiteUptimeMatchesRawProbes is the property test: on random probe
// histories, written in random batches, uptime from rollups equals the
// brute-force computation over raw probes (store.ProbeUptime) for random
// windows aligned to the minute.
func TestSiteUptimeMatchesRawProbes(t *testing.T) {
	t.Parallel()
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 42))
			interval := time.Duration(5+rng.IntN(120)) * time.Second
			b := setupRollups(t, interval)
			ctx := context.Background()
			var ps []store.Probe
			at := b.t0.Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
			end := b.t0.Add(50 * time.Hour)
			states := []store.State{store.StateOK, store.StateOK, store.StateOK, store.StateNotOK, store.StatePending}
			s := store.StateOK
			for at.Before(end) {
				if rng.IntN(8) == 0 {
					s = states[rng.IntN(len(states))]
				}
				ps = append(ps, store.Probe{At: at, State: s, HTTPStatus: 200, Latency: time.Duration(rng.IntN(500_000)) * time.Microsecond})
				gap := interval + time.Duration(rng.IntN(2000)-1000)*time.Millisecond
				switch rng.IntN(40) {
				case 0: // a long gap: no data
					gap = time.Duration(3+rng.IntN(100)) * interval
				case 1: // a gap just past two intervals
					gap = 2*interval + time.Duration(1+rng.IntN(5000))*time.Millisecond
				}
				at = at.Add(gap)
			}
			for len(ps) > 0 {
				n := min(len(ps), 1+rng.IntN(300))
				b.write(t, ps[:n]...)
				ps = ps[n:]
				// Fold now and then, so windows read hours and days up to
				// some point and minutes after it.
				if rng.IntN(4) == 0 {
					if _, err := b.st.RollupFold(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			windows := [][2]time.Time{{b.t0.Add(-time.Hour), end.Add(time.Hour)}}
			for range 25 {
				from := b.t0.Add(time.Duration(rng.IntN(50*60)) * time.Minute)
				to := from.Add(time.Duration(1+rng.IntN(50*60)) * time.Minute)
				windows = append(windows, [2]time.Time{from, to})
			}
			for pass := range 2 {
				if pass == 1 {
					// And again with every finished minute folded.
					if _, err := b.st.RollupFold(ctx); err != nil {
						t.Fatal(err)
					}
				}
				for _, w := range windows {
					got, err := b.st.SiteUptime(ctx, b.site, w[0], w[1])
					if err != nil {
						t.Fatal(err)
					}
					want, err := b.st.ProbeUptime(ctx, b.site.ID, interval, w[0], w[1])
					if err != nil {
						t.Fatal(err)
					}
					// Rollups keep milliseconds, rounded per minute piece.
					const tol = float64(5 * time.Millisecond)
					near := func(a, b time.Duration) bool {
						return math.Abs(float64(a-b)) <= tol+float64(b)*1e-9
					}
					if !near(got.OK, want.OK) || !near(got.NotOK, want.NotOK) || !near(got.Pending, want.Pending) {
						t.Errorf("pass %d, window %s to %s: rollups %+v, raw %+v", pass, w[0].Format(time.RFC3339), w[1].Format(time.RFC3339), got, want)
					}
				}
			}
		})
	}
}

func TestSiteSeries(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, time.Minute)
	var ps []store.Probe
	for i := range 120 {
		s := store.StateOK
		if i >= 60 && i < 66 {
			s = store.StateNotOK
		}
		ps = append(ps, store.Probe{
			At: b.at(time.Duration(i) * time.Minute), State: s, HTTPStatus: 200,
			Latency: 100 * time.Millisecond, TTFB: 40 * time.Millisecond,
			DNS: 2 * time.Millisecond, Connect: 3 * time.Millisecond, TLS: 5 * time.Millisecond,
		})
	}
	// A transport failure: counted as a probe, not in the timings.
	ps = append(ps, store.Probe{At: b.at(120 * time.Minute), State: store.StateNotOK, Latency: 10 * time.Second})
	b.write(t, ps...)
	// The same answers before the minutes are folded into hours and after.
	for pass := range 2 {
		if pass == 1 {
			if _, err := b.st.RollupFold(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for _, step := range []time.Duration{10 * time.Minute, time.Hour} {
			buckets, err := b.st.SiteSeries(context.Background(), b.site, b.t0, b.at(2*time.Hour), step)
			if err != nil {
				t.Fatal(err)
			}
			if len(buckets) != int(2*time.Hour/step) {
				t.Fatalf("step %s: %d buckets", step, len(buckets))
			}
			var up store.Uptime
			probes := 0
			for _, bk := range buckets {
				up.OK += bk.OK
				up.NotOK += bk.NotOK
				probes += bk.Probes
				if bk.LatencyMax != 100*time.Millisecond || bk.TTFBMax != 40*time.Millisecond {
					t.Errorf("step %s bucket %s: max latency %s ttfb %s", step, bk.At, bk.LatencyMax, bk.TTFBMax)
				}
				if p := bk.LatencyP50; p < 81*time.Millisecond || p > 100*time.Millisecond {
					t.Errorf("step %s bucket %s: p50 latency %s, want about 100ms", step, bk.At, p)
				}
				if bk.DNS != 2*time.Millisecond || bk.Transfer() != 60*time.Millisecond {
					t.Errorf("step %s bucket %s: dns %s transfer %s", step, bk.At, bk.DNS, bk.Transfer())
				}
			}
			if up.OK != 114*time.Minute || up.NotOK != 6*time.Minute || probes != 120 {
				t.Errorf("pass %d step %s: ok %s notok %s probes %d", pass, step, up.OK, up.NotOK, probes)
			}
		}
	}
}

func TestApplyRetention(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, time.Minute)
	ctx := context.Background()
	now := b.t0.Add(40 * 24 * time.Hour)
	if _, err := b.st.ProbePartitionsEnsure(ctx, b.t0, 3); err != nil {
		t.Fatal(err)
	}
	b.write(t, probe(b.at(0), store.StateOK), probe(b.at(time.Minute), store.StateOK), probe(now.Add(-time.Hour), store.StateOK))
	if _, err := b.st.RollupFold(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := b.st.ApplyRetention(ctx, now, store.Retention{Raw: 30 * 24 * time.Hour, Rollups: 400 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partitions < 3 {
		t.Errorf("dropped %d partitions, want at least 3", res.Partitions)
	}
	var left int
	if err := b.st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname IN ('probes_20261120', 'probes_20261121', 'probes_20261122')`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d old partitions remain", left)
	}
	// The minute rollups went with the raw probes; hours and days remain.
	// ok from 10:00 to 10:01, then two intervals to 10:03.
	if u := b.uptime(t, 0, 2*time.Hour); u.OK != 3*time.Minute {
		t.Errorf("old uptime after retention = %+v, want 3m ok (from the hour rollup)", u)
	}
	var raw int
	if err := b.st.Pool().QueryRow(ctx, `SELECT count(*) FROM probes`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != 1 {
		t.Errorf("%d raw probes remain, want 1", raw)
	}
}
