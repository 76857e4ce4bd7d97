package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// bruteHistory is a site's probes as written, in time order, late ones
// left out: what the brute force below reads instead of the store.
type bruteHistory struct {
	probes   []store.Probe
	interval time.Duration
}

// spans calls fn with each verdict's span: from its probe until the next
// probe, at most two intervals. last marks the site's latest probe, whose
// verdict no probe has ended.
func (h bruteHistory) spans(fn func(s store.State, from, to time.Time, last bool)) {
	gap := 2 * h.interval
	for i, p := range h.probes {
		e := p.At.Add(gap)
		if i+1 < len(h.probes) {
			e = minT(e, h.probes[i+1].At)
		}
		fn(p.State, p.At, e, i == len(h.probes)-1)
	}
}

func minT(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxT(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func addHeld(u *store.Uptime, s store.State, d time.Duration) {
	switch s {
	case store.StateOK:
		u.OK += d
	case store.StateNotOK:
		u.NotOK += d
	case store.StatePending:
		u.Pending += d
	}
}

// uptime is the time in each verdict within [from, to).
func (h bruteHistory) uptime(from, to time.Time) store.Uptime {
	var u store.Uptime
	h.spans(func(s store.State, a, b time.Time, _ bool) {
		if a, b = maxT(a, from), minT(b, to); b.After(a) {
			addHeld(&u, s, b.Sub(a))
		}
	})
	return u
}

// series is what History.Series promises, computed from the probes: from
// rounded down and to rounded up to the step's resolution, buckets of step
// from there, the last one ending at end. Every verdict counts within
// [from, to) but the site's latest, which no probe has ended: holding at
// to, it fills the last bucket as far as it holds. Probes count in the
// bucket they started
// in, within [from, to); those that got an answer (an HTTP status, or a
// TTFB) add their timings, means in whole microseconds. timed holds each
// bucket's timed latencies and TTFBs, sorted, for the percentiles.
func (h bruteHistory) series(from, to time.Time, step time.Duration) (out []store.Bucket, timed [][2][]time.Duration) {
	res := store.SeriesResolution(step)
	f, t := from.UTC().Truncate(res), to.UTC().Truncate(res)
	if t.Before(to) {
		t = t.Add(res)
	}
	if !t.After(f) {
		return nil, nil
	}
	n := int((t.Sub(f) + step - 1) / step)
	end := f.Add(time.Duration(n) * step)
	out = make([]store.Bucket, n)
	timed = make([][2][]time.Duration, n)
	for i := range out {
		out[i].At = f.Add(time.Duration(i) * step)
	}
	h.spans(func(s store.State, a, b time.Time, last bool) {
		hi := t
		if last && a.Before(t) {
			hi = end
		}
		a, b = maxT(a, f), minT(b, hi)
		for a.Before(b) {
			i := int(a.Sub(f) / step)
			e := minT(b, out[i].At.Add(step))
			addHeld(&out[i].Uptime, s, e.Sub(a))
			a = e
		}
	})
	type sums struct{ dns, connect, tls, ttfb, latency time.Duration }
	sum := make([]sums, n)
	for _, p := range h.probes {
		if p.At.Before(f) || !p.At.Before(t) {
			continue
		}
		i := int(p.At.Sub(f) / step)
		b := &out[i]
		b.Probes++
		if p.HTTPStatus == 0 && p.TTFB <= 0 {
			continue
		}
		b.Timed++
		b.LatencyMax, b.TTFBMax = max(b.LatencyMax, p.Latency), max(b.TTFBMax, p.TTFB)
		s := &sum[i]
		s.dns += p.DNS
		s.connect += p.Connect
		s.tls += p.TLS
		s.ttfb += p.TTFB
		s.latency += p.Latency
		timed[i][0] = append(timed[i][0], p.Latency)
		timed[i][1] = append(timed[i][1], p.TTFB)
	}
	for i := range out {
		slices.Sort(timed[i][0])
		slices.Sort(timed[i][1])
		if k := time.Duration(out[i].Timed); k > 0 {
			mean := func(d time.Duration) time.Duration { return d / time.Microsecond / k * time.Microsecond }
			s := sum[i]
			out[i].DNS, out[i].Connect, out[i].TLS = mean(s.dns), mean(s.connect), mean(s.tls)
			out[i].TTFB, out[i].Latency = mean(s.ttfb), mean(s.latency)
		}
	}
	return out, timed
}

// withoutPercentiles is b with its percentiles zeroed: they come from log
// histograms and are checked apart.
func withoutPercentiles(b store.Bucket) store.Bucket {
	b.LatencyP50, b.LatencyP95, b.TTFBP50, b.TTFBP95 = 0, 0, 0, 0
	return b
}

// percentileProblem says what is wrong with a percentile estimated from a
// log histogram (two buckets an octave): it must not exceed the bucket's
// max, and must lie in the histogram bucket of the true order statistic,
// within a factor √2 of it (the bucket of a value under 142 µs starts at 0).
// The order statistic's rank is taken one either way, for the float rank
// the estimate computes. v is sorted.
func percentileProblem(name string, got time.Duration, q float64, v []time.Duration) string {
	if len(v) == 0 {
		if got != 0 {
			return fmt.Sprintf("%s = %s without timed probes", name, got)
		}
		return ""
	}
	k := int(math.Ceil(q * float64(len(v)))) // 1-based nearest rank
	loV, hiV := v[max(0, k-2)], v[min(len(v)-1, k)]
	lo := time.Duration(float64(loV)/math.Sqrt2) - time.Microsecond
	if loV < 142*time.Microsecond {
		lo = 0
	}
	hi := min(time.Duration(float64(hiV)*math.Sqrt2)+time.Microsecond, v[len(v)-1])
	if got < lo || got > hi {
		return fmt.Sprintf("%s = %s, want within [%s, %s] (true %s of %d)", name, got, lo, hi, v[k-1], len(v))
	}
	return ""
}

// bucketsProblem compares a series with the brute force's, percentiles
// within their tolerance, everything else exactly. It says what differs
// first, or "".
func bucketsProblem(got, want []store.Bucket, timed [][2][]time.Duration) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d buckets, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) {
			return fmt.Sprintf("bucket %d at %s, want %s", i, g.At.Format(time.RFC3339), w.At.Format(time.RFC3339))
		}
		g.At = w.At
		if withoutPercentiles(g) != w {
			return fmt.Sprintf("bucket %d (%s):\n got  %+v\n want %+v", i, w.At.Format(time.RFC3339), withoutPercentiles(g), w)
		}
		for _, c := range []struct {
			name string
			got  time.Duration
			q    float64
			vals []time.Duration
		}{
			{"latency p50", g.LatencyP50, 0.50, timed[i][0]},
			{"latency p95", g.LatencyP95, 0.95, timed[i][0]},
			{"ttfb p50", g.TTFBP50, 0.50, timed[i][1]},
			{"ttfb p95", g.TTFBP95, 0.95, timed[i][1]},
		} {
			if p := percentileProblem(c.name, c.got, c.q, c.vals); p != "" {
				return fmt.Sprintf("bucket %d (%s): %s", i, w.At.Format(time.RFC3339), p)
			}
		}
	}
	return ""
}

// randomProbes is span of probes from t0 at interval, with jitter, and in
// one gap out of rare each a long gap (no data), one just past two
// intervals and one just short of it; most hours start with a probe.
// Runs of each verdict, transport failures (no status, no TTFB),
// connections without HTTP (no status, a TTFB) and timings spread over the
// histogram. Times fall on whole milliseconds, as history_hours keeps them.
func randomProbes(rng *rand.Rand, siteID int32, t0 time.Time, interval, span time.Duration, rare int) []store.Probe {
	logUniform := func(lo, hi time.Duration) time.Duration {
		x := math.Log(float64(lo)) + rng.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))
		return time.Duration(math.Exp(x)).Truncate(time.Microsecond)
	}
	states := []store.State{store.StateOK, store.StateOK, store.StateOK, store.StateNotOK, store.StatePending}
	var ps []store.Probe
	at := t0.Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
	end := t0.Add(span)
	jitter := min(time.Second, interval/4).Milliseconds()
	s := store.StateOK
	for at.Before(end) {
		if rng.IntN(8) == 0 {
			s = states[rng.IntN(len(states))]
		}
		p := store.Probe{SiteID: siteID, At: at, State: s}
		switch rng.IntN(12) {
		case 0: // a transport failure: no answer, no timings that count
			p.Latency = logUniform(time.Millisecond, 10*time.Second)
			p.DNS = time.Duration(rng.IntN(3)) * logUniform(100*time.Microsecond, 50*time.Millisecond)
			p.Reason = "dial tcp: connection refused"
		case 1: // a tcp:// site: connected, no HTTP status
			p.TTFB = logUniform(50*time.Microsecond, 300*time.Millisecond)
			p.Latency = p.TTFB
			p.Connect = p.TTFB
		default:
			p.HTTPStatus = []int{200, 200, 200, 204, 301, 500, 503}[rng.IntN(7)]
			if rng.IntN(3) > 0 { // else a reused connection
				p.DNS = logUniform(100*time.Microsecond, 80*time.Millisecond)
				p.Connect = logUniform(100*time.Microsecond, 100*time.Millisecond)
				p.TLS = logUniform(time.Millisecond, 300*time.Millisecond)
			}
			p.TTFB = logUniform(80*time.Microsecond, 3*time.Second)
			p.Latency = p.TTFB + logUniform(10*time.Microsecond, time.Second)
		}
		if s != store.StateOK && p.Reason == "" {
			p.Reason = fmt.Sprintf("HTTP %d", p.HTTPStatus)
		}
		ps = append(ps, p)
		gap := interval + time.Duration(rng.Int64N(2*jitter)-jitter)*time.Millisecond
		switch rng.IntN(rare) {
		case 0: // a long gap: no data
			gap = time.Duration(3+rng.IntN(100)) * interval
		case 1: // a gap just past two intervals
			gap = 2*interval + time.Duration(1+rng.IntN(5000))*time.Millisecond
		case 2: // a gap just short of two intervals
			gap = 2*interval - time.Duration(1+rng.IntN(500))*time.Millisecond
		}
		next := at.Add(gap)
		if h := next.Truncate(time.Hour); h.After(at) && rng.IntN(4) > 0 {
			// Most hours start with a probe, where blocks and the history
			// cursor start.
			next = h
		} else if m := next.Truncate(time.Minute); m.After(at) && rng.IntN(10) == 0 {
			next = m // on a minute, where buckets and windows start
		}
		at = next
	}
	return ps
}

type seriesQuery struct {
	from, to time.Time
	step     time.Duration
}

func (q seriesQuery) String() string {
	return fmt.Sprintf("%s to %s step %s", q.from.Format(time.RFC3339), q.to.Format(time.RFC3339), q.step)
}

// TestSiteSeriesMatchesBruteForce is the series' property test: on random
// histories written in random batches, every bucket of SiteSeries equals
// the brute force over the probes (bruteHistory.series): held time, counts,
// maxima and means exactly, percentiles within their histogram bucket. So
// does SiteUptime (bruteHistory.uptime). It holds on raw probes, on
// compacted hours and blocks, once the raw partitions are dropped, and, for
// steps of whole hours, once the blocks are dropped too (then a shorter
// step's series is empty, as documented). And one History read for [A, B)
// answers every window, inside it or reaching out of it, exactly as
// SiteUptime and SiteSeries do alone.
func TestSiteSeriesMatchesBruteForce(t *testing.T) {
	t.Parallel()
	steps := []time.Duration{time.Minute, 5 * time.Minute, 7 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		45 * time.Minute, 90 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour}
	// Seeds 0 to 3 probe every 5 to 120 seconds for 50 hours; seed 4 every
	// 2.5 seconds for 3, so its blocks carry quarter-hour sums.
	for seed := range uint64(5) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			ctx := context.Background()
			interval, span, rare := time.Duration(5+rng.IntN(116))*time.Second, 50*time.Hour, 40
			if seed == 4 {
				interval, span, rare = 2500*time.Millisecond, 3*time.Hour, 5000
			}
			b := setupRollups(t, interval)
			ps := randomProbes(rng, b.site.ID, b.t0, interval, span, rare)
			// The latest probe comes just before an hour: a window to that
			// hour ends in its verdict, on every resolution.
			for h := ps[len(ps)-1].At.Truncate(time.Hour); !ps[len(ps)-1].At.Before(h); {
				ps = ps[:len(ps)-1]
			}
			first, last := ps[0].At, ps[len(ps)-1].At
			hist := bruteHistory{probes: slices.Clone(ps), interval: interval}

			// A minute and some seconds, odd, so windows start off the
			// resolution of their step.
			oddMinute := func(lo time.Time, span time.Duration) time.Time {
				m := rng.IntN(int(span/time.Minute)) | 1
				return lo.Add(time.Duration(m)*time.Minute + time.Duration(rng.IntN(3)*rng.IntN(60))*time.Second)
			}
			var queries []seriesQuery
			for _, step := range []time.Duration{time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
				// The whole history, the latest verdict in the last bucket.
				queries = append(queries, seriesQuery{first.Add(-97 * time.Minute), last.Add(time.Duration(rng.IntN(int(interval))) + time.Second), step})
			}
			for range 24 {
				step := steps[rng.IntN(len(steps))]
				from := oddMinute(b.t0.Add(-2*time.Hour), span+4*time.Hour)
				if rng.IntN(3) == 0 {
					// On a quarter hour, where quarter-hour sums serve
					// steps of whole quarters.
					from = from.Truncate(15 * time.Minute)
				}
				to := from.Add(time.Duration(1+rng.IntN(int(min(span+4*time.Hour, 400*step)/time.Second))) * time.Second)
				queries = append(queries, seriesQuery{from, to, step})
			}
			// Ending in the latest verdict, at the hour after the latest
			// probe, with a last bucket that goes on past it: read from
			// raw probes, blocks, quarter-hour sums and hours.
			hour := last.Truncate(time.Hour).Add(time.Hour)
			for _, q := range []struct{ back, step time.Duration }{
				{10 * time.Minute, 7 * time.Minute}, {45 * time.Minute, 30 * time.Minute}, {time.Hour, 45 * time.Minute},
				{3 * time.Hour, 2 * time.Hour}, {5 * time.Hour, 6 * time.Hour},
			} {
				queries = append(queries, seriesQuery{hour.Add(-q.back), hour.Add(-time.Duration(rng.IntN(50)) * time.Second), q.step})
			}
			for range 6 {
				// Ending just after the latest probe or a few intervals
				// later: the bucket in progress.
				step := steps[rng.IntN(len(steps))]
				to := last.Add(time.Duration(rng.IntN(int(4*interval/time.Second))) * time.Second)
				queries = append(queries, seriesQuery{to.Add(-time.Duration(1+rng.IntN(6*60)) * time.Minute), to, step})
			}

			// Odd seeds compact now and then while writing, the last time
			// right after a probe on an hour, half to nine tenths in: the
			// first pass reads compacted hours up to that probe and raw
			// probes from it on. Even seeds leave every probe raw. A probe
			// now and then comes late, behind the latest one written: kept,
			// not counted.
			compactWhileWriting := seed%2 == 1
			cut := -1 // the probe the last compaction stops at
			cutBefore := first.Add(time.Duration((0.5 + 0.4*rng.Float64()) * float64(last.Sub(first))))
			for i, p := range ps {
				if !compactWhileWriting || p.At.After(cutBefore) {
					break
				}
				if p.At.Truncate(time.Hour).Equal(p.At) {
					cut = i
				}
			}
			for written := 0; written < len(ps); {
				n := min(len(ps)-written, 1+rng.IntN(400))
				if written <= cut && written+n > cut {
					n = cut + 1 - written
				}
				if _, err := b.st.WriteProbes(ctx, ps[written:written+n]); err != nil {
					t.Fatal(err)
				}
				written += n
				if rng.IntN(5) == 0 {
					late := ps[written-1]
					late.At = late.At.Add(-time.Duration(rng.IntN(5))*interval - time.Microsecond)
					late.State, late.HTTPStatus, late.Latency = store.StateNotOK, 500, 42*time.Second
					if _, err := b.st.WriteProbes(ctx, []store.Probe{late}); err != nil {
						t.Fatal(err)
					}
				}
				if written-1 == cut || (written-1 < cut && rng.IntN(4) == 0) {
					b.compact(t, b.t0)
				}
			}
			site, err := b.st.SiteGetBySlug(ctx, "api")
			if err != nil {
				t.Fatal(err)
			}

			failures := 0
			fail := func(format string, args ...any) {
				t.Helper()
				t.Errorf(format, args...)
				if failures++; failures >= 8 {
					t.FailNow()
				}
			}
			first0 := "raw"
			if compactWhileWriting {
				first0 = "raw and compacted"
			}
			for _, pass := range []string{first0, "compacted", "raw dropped", "blocks dropped"} {
				b.pass(t, pass, last)
				blocksGone := pass == "blocks dropped"
				for _, q := range queries {
					got, err := b.st.SiteSeries(ctx, site, q.from, q.to, q.step)
					if err != nil {
						t.Fatalf("%s, %s: %v", pass, q, err)
					}
					want, timed := hist.series(q.from, q.to, q.step)
					if blocksGone && q.step%time.Hour != 0 {
						// Past the raw retention a shorter step has no
						// probes to read: every bucket is there, empty.
						for i := range want {
							want[i] = store.Bucket{At: want[i].At}
							timed[i] = [2][]time.Duration{}
						}
					}
					if p := bucketsProblem(got, want, timed); p != "" {
						fail("%s, series %s: %s", pass, q, p)
					}
				}

				// One History for [A, B), as the site page reads it, asked
				// windows inside it and reaching out of it.
				a := oddMinute(b.t0, span*4/5)
				switch rng.IntN(3) {
				case 0:
					a = a.Truncate(time.Hour)
				case 1: // two intervals after a probe: the History's raw read starts on it
					a = hist.probes[rng.IntN(len(hist.probes)*4/5)].At.Add(2 * interval)
				}
				bEnd := a.Add(time.Duration(1+rng.IntN(12*60)) * time.Minute)
				switch rng.IntN(3) {
				case 0: // the site page: the last day
					bEnd = last.Add(time.Duration(rng.IntN(int(interval/time.Second))) * time.Second)
					a = bEnd.Add(-24 * time.Hour)
				case 1: // ending on a probe, where a window past it reads on
					i, _ := slices.BinarySearchFunc(hist.probes, bEnd, func(p store.Probe, t time.Time) int { return p.At.Compare(t) })
					bEnd = hist.probes[min(i, len(hist.probes)-1)].At
				}
				h, err := b.st.SiteHistory(ctx, site, a, bEnd)
				if err != nil {
					t.Fatal(err)
				}
				span := bEnd.Sub(a)
				frac := func(lo, hi float64) time.Duration {
					return (time.Duration(float64(span) * (lo + rng.Float64()*(hi-lo)))).Truncate(time.Second)
				}
				// A probe's time, and that time two intervals on, where a
				// window's reading starts.
				pAt := hist.probes[rng.IntN(len(hist.probes))].At
				windows := [][2]time.Time{
					{pAt, pAt.Add(frac(0, 1))},
					{pAt.Add(2 * interval), bEnd.Add(frac(0, 0.2))},
					{a, bEnd}, // the whole of it
					{a.Add(frac(0, 0.5)), bEnd.Add(-frac(0, 0.5))},            // inside
					{a.Add(frac(0, 0.3)), a.Add(frac(0.4, 0.6))},              // inside
					{a.Add(frac(0.9, 1)), bEnd},                               // its end
					{a.Add(-(interval / 3).Truncate(time.Millisecond)), bEnd}, // just before it
					{a.Add(-2*interval - time.Second), a.Add(frac(0, 1))},     // past its raw margin
					{a.Add(-frac(0.1, 2)), a.Add(frac(0, 0.5))},               // from before it
					{a.Add(frac(0, 1)), bEnd.Add(frac(0, 0.3))},               // past its end
					{a.Add(-frac(0.1, 1)), bEnd.Add(frac(0.1, 1))},            // all around it
					{a.Add(-frac(1, 2)), a.Add(-frac(0, 0.9))},                // wholly before it
					{bEnd.Add(frac(0, 0.2)), bEnd.Add(frac(0.3, 1))},          // wholly after it
					{bEnd, bEnd.Add(time.Hour)},                               // from its end
				}
				for _, w := range windows {
					from, to := w[0], w[1]
					label := fmt.Sprintf("%s, History %s to %s, window %s to %s", pass, a.Format(time.RFC3339), bEnd.Format(time.RFC3339), from.Format(time.RFC3339), to.Format(time.RFC3339))
					gotU, err := h.Uptime(ctx, from, to)
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					aloneU, err := b.st.SiteUptime(ctx, site, from, to)
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					if gotU != aloneU {
						fail("%s: History.Uptime %+v, SiteUptime %+v", label, gotU, aloneU)
					}
					// Past the blocks, an hour cut by the window counts in
					// proportion: only aligned windows stay exact.
					if !blocksGone || (from.Truncate(time.Hour).Equal(from) && to.Truncate(time.Hour).Equal(to)) {
						if want := hist.uptime(from, to); aloneU != want {
							fail("%s: SiteUptime %+v, brute force %+v", label, aloneU, want)
						}
					}
					for range 2 {
						step := steps[rng.IntN(len(steps))]
						gotS, errH := h.Series(ctx, from, to, step)
						aloneS, errA := b.st.SiteSeries(ctx, site, from, to, step)
						if !errors.Is(errH, errA) && (errH == nil || errA == nil || errH.Error() != errA.Error()) {
							t.Fatalf("%s, step %s: History.Series error %v, SiteSeries error %v", label, step, errH, errA)
						}
						if !reflect.DeepEqual(gotS, aloneS) {
							fail("%s, step %s: History.Series differs from SiteSeries:\n%s", label, step, firstDiff(gotS, aloneS))
						}
					}
				}
			}
		})
	}
}

// firstDiff shows the first bucket where two series differ.
func firstDiff(got, want []store.Bucket) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d buckets, want %d", len(got), len(want))
	}
	var sb strings.Builder
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			fmt.Fprintf(&sb, " bucket %d:\n  got  %+v\n  want %+v", i, got[i], want[i])
			break
		}
	}
	return sb.String()
}

// TestSiteSeriesLastBucket: a series' last bucket may end after to. The
// site's latest verdict, which no probe has ended, fills it as far as it
// holds (a bucket in progress); an earlier verdict counts until to only.
// Both read the same from raw probes and from compacted hours.
func TestSiteSeriesLastBucket(t *testing.T) {
	t.Parallel()
	const m = time.Minute
	b := setupRollups(t, m)
	// ok every minute from 10:00 to 12:58, then notok at 12:59, the latest.
	var ps []store.Probe
	for i := range 180 {
		s := store.StateOK
		if i == 179 {
			s = store.StateNotOK
		}
		ps = append(ps, store.Probe{SiteID: b.site.ID, At: b.at(time.Duration(i) * m), State: s, HTTPStatus: 200})
	}
	if _, err := b.st.WriteProbes(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	site, err := b.st.SiteGetBySlug(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		from, to time.Duration
		want     store.Uptime
	}{
		// 10:00 to 10:10:30 is read to 10:11, in one bucket to 10:15: the
		// probes of 10:11 to 10:14 are not the latest, nor in the window.
		"an old window ends at to": {from: 0, to: 10*m + 30*time.Second, want: store.Uptime{OK: 11 * m}},
		// 12:50 to 12:59:30 is read to 13:00; the bucket ends at 13:05 and
		// the latest verdict holds two intervals, to 13:01.
		"the latest verdict fills the last bucket": {from: 170 * m, to: 179*m + 30*time.Second, want: store.Uptime{OK: 9 * m, NotOK: 2 * m}},
	}
	for _, pass := range []string{"raw", "compacted", "raw dropped"} {
		b.pass(t, pass, b.at(3*time.Hour))
		for name, c := range cases {
			got, err := b.st.SiteSeries(context.Background(), site, b.at(c.from), b.at(c.to), 15*m)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Uptime != c.want {
				t.Errorf("%s: %s: %+v, want one bucket with %+v", pass, name, got, c.want)
			}
		}
	}
}
