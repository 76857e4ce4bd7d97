package store_test

import (
	"context"
	"fmt"
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

// compact packs every hour finished by now.
func (b rollupBundle) compact(t *testing.T, now time.Time) {
	t.Helper()
	if _, err := b.st.Compact(context.Background(), now); err != nil {
		t.Fatal(err)
	}
}

// maintain runs a maintenance pass at now: compaction, then raw days older
// than yesterday dropped.
func (b rollupBundle) maintain(t *testing.T, now time.Time) store.MaintainResult {
	t.Helper()
	m := store.NewMaintainer(b.st, discardLogger(), store.MaintainerOptions{Now: func() time.Time { return now }})
	res, err := m.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rawCount is how many raw probes the site has.
func (b rollupBundle) rawCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := b.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM probes WHERE site_id = $1`, b.site.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pass brings the site's history, whose last probe is at last, to the
// state the property tests read it in: "compacted" (every hour packed),
// "raw dropped" (raw partitions gone, blocks kept) or "blocks dropped"
// (blocks gone, hours kept); any other name leaves it as it is.
func (b rollupBundle) pass(t *testing.T, name string, last time.Time) {
	t.Helper()
	switch name {
	case "compacted":
		b.compact(t, last.Add(2*time.Hour))
	case "raw dropped":
		b.maintain(t, last.Add(72*time.Hour))
		if n := b.rawCount(t); n != 0 {
			t.Fatalf("%d raw probes left", n)
		}
	case "blocks dropped":
		m := store.NewMaintainer(b.st, discardLogger(), store.MaintainerOptions{
			Now: func() time.Time { return last.Add(72 * time.Hour) }, RawRetention: 24 * time.Hour,
		})
		if res, err := m.RunOnce(context.Background()); err != nil || res.DetailDaysDropped == 0 {
			t.Fatalf("drop blocks: %+v, %v", res, err)
		}
	}
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
			ps := c.probes(b)
			b.write(t, ps...)
			// The same answer from raw probes, then from compacted hours
			// and their blocks, then with the raw partitions dropped.
			for _, pass := range []string{"raw", "compacted", "raw dropped"} {
				switch pass {
				case "compacted":
					b.compact(t, ps[len(ps)-1].At.Add(3*time.Hour))
				case "raw dropped":
					b.maintain(t, ps[len(ps)-1].At.Add(72*time.Hour))
				}
				got := b.uptime(t, c.from, c.to)
				if got != c.want {
					t.Errorf("%s: uptime = %+v, want %+v", pass, got, c.want)
				}
				if r := ratioString(got.Ratio()); r != c.ratio {
					t.Errorf("%s: ratio = %s, want %s", pass, r, c.ratio)
				}
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
	b.compact(t, b.at(3*time.Hour))
	if got, want := b.uptime(t, 0, 2*time.Minute), (store.Uptime{OK: 2 * time.Minute}); got != want {
		t.Errorf("compacted: uptime = %+v, want %+v", got, want)
	}
	// A probe older than the compacted history is late too.
	b.write(t, probe(b.at(90*time.Minute), store.StateNotOK))
	if got, want := b.uptime(t, 0, 2*time.Hour), (store.Uptime{OK: 3 * time.Minute}); got != want {
		t.Errorf("after a probe behind the cursor: uptime = %+v, want %+v", got, want)
	}
	// A late probe is kept and listed all the same, as long as it came
	// before its hour was compacted; one behind the cursor stays raw only
	// until its day is dropped.
	site, err := b.st.SiteGetBySlug(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	list, err := b.st.ProbeListBySite(context.Background(), site, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[1].State != store.StateNotOK {
		t.Errorf("listed %+v, want 3 probes, the late one second", list)
	}
}

// TestCompactionWaitsForTheBacklog: after an outage longer than an hour,
// compaction leaves alone the hours of probes the writer still holds
// (MaintainerOptions.Holding), so that the backlog counts in history instead
// of arriving late behind hours compacted as idle.
func TestCompactionWaitsForTheBacklog(t *testing.T) {
	t.Parallel()
	for _, holding := range []bool{true, false} {
		t.Run(fmt.Sprintf("holding=%v", holding), func(t *testing.T) {
			t.Parallel()
			b := setupRollups(t, time.Minute)
			// The day's partition, as serve's maintenance makes it ahead.
			if _, err := b.st.ProbePartitionsEnsure(context.Background(), b.t0.Add(-24*time.Hour), 3); err != nil {
				t.Fatal(err)
			}
			var before, backlog []store.Probe
			for m := range 60 {
				p := probe(b.at(time.Duration(m)*time.Minute), store.StateOK)
				if m < 30 {
					before = append(before, p)
				} else {
					backlog = append(backlog, p)
				}
			}
			b.write(t, before...)
			// Three hours later the database is back; the writer still holds
			// the probes from 10:30 when maintenance runs first.
			now := b.at(3 * time.Hour)
			opts := store.MaintainerOptions{Now: func() time.Time { return now }}
			if holding {
				opts.Holding = func() time.Time { return backlog[0].At.Truncate(time.Hour) }
			}
			m := store.NewMaintainer(b.st, discardLogger(), opts)
			if _, err := m.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			b.write(t, backlog...)
			opts.Holding = nil
			if _, err := store.NewMaintainer(b.st, discardLogger(), opts).RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := b.uptime(t, 0, time.Hour)
			if want := (store.Uptime{OK: time.Hour}); holding && got != want {
				t.Errorf("uptime = %+v, want %+v: the backlog came late", got, want)
			}
			// Without Holding the backlog is late: this is what it prevents.
			if want := (store.Uptime{OK: 31 * time.Minute}); !holding && got != want {
				t.Errorf("without holding: uptime = %+v, want %+v", got, want)
			}
		})
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
			windows := [][2]time.Time{{b.t0.Add(-time.Hour), end.Add(time.Hour)}}
			for range 25 {
				from := b.t0.Add(time.Duration(rng.IntN(50*60)) * time.Minute)
				to := from.Add(time.Duration(1+rng.IntN(50*60)) * time.Minute)
				windows = append(windows, [2]time.Time{from, to})
			}
			// Hour-aligned windows stay exact once the blocks are gone.
			for range 10 {
				from := b.t0.Add(time.Duration(rng.IntN(50)) * time.Hour)
				windows = append(windows, [2]time.Time{from, from.Add(time.Duration(1+rng.IntN(50)) * time.Hour)})
			}
			last := ps[len(ps)-1].At
			for len(ps) > 0 {
				n := min(len(ps), 1+rng.IntN(300))
				b.write(t, ps[:n]...)
				ps = ps[n:]
				// Compact now and then, so windows read compacted hours up
				// to some point and raw probes after it.
				if rng.IntN(4) == 0 {
					b.compact(t, b.t0)
				}
			}
			want := make([]store.Uptime, len(windows))
			for i, w := range windows {
				var err error
				if want[i], err = b.st.ProbeUptime(ctx, b.site.ID, interval, w[0], w[1]); err != nil {
					t.Fatal(err)
				}
			}
			for _, pass := range []string{"raw and compacted", "compacted", "raw dropped", "blocks dropped"} {
				b.pass(t, pass, last)
				for i, w := range windows {
					if pass == "blocks dropped" && (w[0].Minute() != 0 || w[1].Minute() != 0) {
						continue
					}
					got, err := b.st.SiteUptime(ctx, b.site, w[0], w[1])
					if err != nil {
						t.Fatal(err)
					}
					// Hours keep milliseconds and probes here fall on whole
					// ones: exact, but for the float seconds of ProbeUptime.
					near := func(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }
					if !near(got.OK, want[i].OK) || !near(got.NotOK, want[i].NotOK) || !near(got.Pending, want[i].Pending) {
						t.Errorf("%s, window %s to %s: history %+v, raw %+v", pass, w[0].Format(time.RFC3339), w[1].Format(time.RFC3339), got, want[i])
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
	// The same answers from raw probes, from compacted hours and blocks,
	// and with the raw partitions dropped.
	for _, pass := range []string{"raw", "compacted", "raw dropped"} {
		b.pass(t, pass, b.at(3*time.Hour))
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
				t.Errorf("%s, step %s: ok %s notok %s probes %d", pass, step, up.OK, up.NotOK, probes)
			}
		}
	}
}

// TestMaintainerRetention: past the raw retention a day's probes are
// gone, raw and packed, and its hours remain: uptime over whole hours is
// unchanged, an hour cut by the window counts in proportion.
func TestMaintainerRetention(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, time.Minute)
	ctx := context.Background()
	now := b.t0.Add(40 * 24 * time.Hour)
	for _, day := range []time.Time{b.t0, now.Add(-24 * time.Hour)} {
		if _, err := b.st.ProbePartitionsEnsure(ctx, day, 3); err != nil {
			t.Fatal(err)
		}
	}
	b.write(t, probe(b.at(0), store.StateOK), probe(b.at(time.Minute), store.StateOK), probe(now.Add(-time.Hour), store.StateOK))
	m := store.NewMaintainer(b.st, discardLogger(), store.MaintainerOptions{
		Now: func() time.Time { return now }, RawRetention: 30 * 24 * time.Hour, HistoryRetention: 400 * 24 * time.Hour,
	})
	res, err := m.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.RawDaysDropped < 3 || res.DetailDaysDropped < 1 || res.HoursCompacted != 1 {
		t.Errorf("result %+v: want at least 3 raw days and a day of blocks dropped, 1 hour compacted", res)
	}
	var left int
	if err := b.st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname IN ('probes_20261120', 'probes_20261121', 'probes_20261122', 'probe_blocks_20261120')`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d old partitions remain", left)
	}
	// ok from 10:00 to 10:01, then two intervals to 10:03.
	if u := b.uptime(t, 0, 2*time.Hour); u.OK != 3*time.Minute {
		t.Errorf("old uptime after retention = %+v, want 3m ok (from the hour)", u)
	}
	if u := b.uptime(t, 0, 20*time.Minute); u.OK != 3*time.Minute/3 {
		t.Errorf("a third of the hour after retention = %+v, want a third of 3m", u)
	}
	if n := b.rawCount(t); n != 1 {
		t.Errorf("%d raw probes remain, want 1", n)
	}
	site, err := b.st.SiteGetBySlug(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if list, err := b.st.ProbeListBySite(ctx, site, 10); err != nil || len(list) != 1 {
		t.Errorf("probe list after retention: %d probes, %v; want the one left", len(list), err)
	}
	if size, err := b.st.DatabaseSize(ctx); err != nil || size != res.DatabaseSize && res.DatabaseSize <= 0 {
		t.Errorf("database size %d (%v), pass said %d", size, err, res.DatabaseSize)
	}
}

// TestProbeListAcrossCompaction: the probe list reads the same from raw
// probes and from blocks, late probes included.
func TestProbeListAcrossCompaction(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, 30*time.Second)
	ctx := context.Background()
	var ps []store.Probe
	for i := range 400 {
		s, reason := store.StateOK, ""
		if i%17 == 0 {
			s, reason = store.StateNotOK, fmt.Sprintf("HTTP 50%d", i%4)
		}
		ps = append(ps, store.Probe{At: b.at(time.Duration(i)*30*time.Second + time.Duration(i)*time.Microsecond), State: s, Reason: reason,
			Latency: time.Duration(i) * time.Millisecond, TTFB: time.Duration(i) * 500 * time.Microsecond, DNS: 3 * time.Millisecond})
	}
	b.write(t, ps...)
	b.write(t, store.Probe{At: b.at(time.Hour + time.Second), State: store.StatePending, Reason: "late"})
	site, err := b.st.SiteGetBySlug(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	before, err := b.st.ProbeListBySite(ctx, site, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 401 {
		t.Fatalf("%d probes listed", len(before))
	}
	b.maintain(t, b.at(72*time.Hour))
	if n := b.rawCount(t); n != 0 {
		t.Fatalf("%d raw probes left", n)
	}
	for _, limit := range []int{1, 50, 130, 1000} {
		after, err := b.st.ProbeListBySite(ctx, site, limit)
		if err != nil {
			t.Fatal(err)
		}
		want := before[:min(limit, len(before))]
		if len(after) != len(want) {
			t.Fatalf("limit %d: %d probes, want %d", limit, len(after), len(want))
		}
		for i := range want {
			if !after[i].At.Equal(want[i].At) || after[i].State != want[i].State || after[i].Reason != want[i].Reason ||
				after[i].Latency != want[i].Latency || after[i].TTFB != want[i].TTFB || after[i].DNS != want[i].DNS ||
				after[i].HTTPStatus != want[i].HTTPStatus {
				t.Fatalf("limit %d, probe %d: %+v, want %+v", limit, i, after[i], want[i])
			}
		}
	}
}
