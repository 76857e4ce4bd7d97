package store

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"time"
)

// How history answers (see migrations/00008_history.sql): a verdict holds
// from its probe until the next probe, at most two of the site's intervals
// (a longer gap is no data). Each site's history before its cursor
// (history_cursor.compacted_until, an hour boundary) is in history_hours,
// one row per hour with the pieces of verdicts that fall inside it, and in
// probe_blocks, the same hours' probes packed; from the cursor on it is raw
// probes. A window reads whole hours from history_hours, the hours its ends
// cut from their blocks (exact to the microsecond), and the rest from raw
// probes, the cursor's carry crediting the time the last compacted probe
// holds past the cursor.

// held is time in each verdict, in microseconds.
type held struct{ ok, notok, pending int64 }

func (h *held) add(s State, us int64) {
	switch s {
	case StateOK:
		h.ok += us
	case StateNotOK:
		h.notok += us
	case StatePending:
		h.pending += us
	}
}

// span adds the span [from, to) of a verdict.
func (h *held) span(s State, from, to int64) { h.add(s, to-from) }

func (h held) uptime() Uptime {
	return Uptime{OK: time.Duration(h.ok) * time.Microsecond, NotOK: time.Duration(h.notok) * time.Microsecond,
		Pending: time.Duration(h.pending) * time.Microsecond}
}

// eachSpan calls fn with the span of each verdict, from c and then probes
// (in time order; late ones skipped), clipped to [lo, hi): each holds until
// the next probe, at most gap.
func eachSpan(c carry, probes []histProbe, gap, lo, hi int64, fn func(s State, from, to int64)) {
	at, state, have := c.at, c.state, c.ok
	emit := func(next, hi int64) {
		if !have {
			return
		}
		s, e := max(at, lo), min(next, at+gap, hi)
		if e > s {
			fn(state, s, e)
		}
	}
	for _, p := range probes {
		if p.late || (have && p.at < at) {
			continue
		}
		emit(p.at, hi)
		at, state, have = p.at, p.state, true
	}
	emit(math.MaxInt64, hi)
}

// lastCarry is the last probe, not late, of c and probes.
func lastCarry(c carry, probes []histProbe) carry {
	for i := len(probes) - 1; i >= 0; i-- {
		if p := probes[i]; !p.late && (!c.ok || p.at >= c.at) {
			return carry{at: p.at, state: p.state, ok: true}
		}
	}
	return c
}

// histBuckets is the number of buckets of each histogram, latency and TTFB.
const histBuckets = 40

// histBucket is the bucket of a duration in microseconds: 0 below 141 µs,
// i >= 1 from 100·2^(i/2) µs, 39 open above. us >= 100·2^(i/2) is
// us² >= 10000·2^i, so the bucket is the highest bit of us²/10000: exact in
// integers, where 2·log2 in floating point is not at the bounds.
func histBucket(us int32) int {
	if us <= 0 {
		return 0
	}
	q := uint64(us) * uint64(us) / 10000
	return min(histBuckets-1, max(0, bits.Len64(q)-1))
}

// agg is what history keeps of a span of time: an hour of history_hours, or
// a bucket of a series while it is added up.
type agg struct {
	held                                            held
	probes, timed                                   int64
	latencySum, ttfbSum, dnsSum, connectSum, tlsSum int64
	latencyMax, ttfbMax                             int32
	hist                                            [2 * histBuckets]int64 // latency, then TTFB
}

// addProbe counts a probe that is not late: one that got an answer (an
// HTTP status, or a TTFB for a tcp:// or tls:// probe that connected; see
// Probe.Answered) adds its timings.
func (a *agg) addProbe(p histProbe) {
	a.probes++
	if p.status == 0 && p.ttfb <= 0 {
		return
	}
	a.timed++
	a.latencySum += int64(p.latency)
	a.ttfbSum += int64(p.ttfb)
	a.dnsSum += int64(p.dns)
	a.connectSum += int64(p.connect)
	a.tlsSum += int64(p.tls)
	a.latencyMax = max(a.latencyMax, p.latency)
	a.ttfbMax = max(a.ttfbMax, p.ttfb)
	a.hist[histBucket(p.latency)]++
	a.hist[histBuckets+histBucket(p.ttfb)]++
}

// histEntry is the size of one entry of history_hours.hist: the bucket,
// then the count as a big-endian uint32.
const histEntry = 5

func (a *agg) encodeHist() []byte {
	buf := make([]byte, 0, 8*histEntry)
	for i, v := range a.hist {
		if v > 0 {
			buf = append(buf, byte(i))
			buf = binary.BigEndian.AppendUint32(buf, uint32(min(v, math.MaxUint32)))
		}
	}
	return buf
}

var errBadHist = errors.New("malformed histogram")

func (a *agg) addHist(h []byte) error {
	if len(h)%histEntry != 0 {
		return errBadHist
	}
	for ; len(h) > 0; h = h[histEntry:] {
		if int(h[0]) >= len(a.hist) {
			return errBadHist
		}
		a.hist[h[0]] += int64(binary.BigEndian.Uint32(h[1:histEntry]))
	}
	return nil
}

// bucket turns a series bucket's sums into its figures.
func (a *agg) bucket(at time.Time) Bucket {
	b := Bucket{At: at, Uptime: a.held.uptime(), Probes: int(a.probes), Timed: int(a.timed),
		LatencyMax: duration(a.latencyMax), TTFBMax: duration(a.ttfbMax)}
	if a.timed == 0 {
		return b
	}
	mean := func(sum int64) time.Duration { return time.Duration(sum/a.timed) * time.Microsecond }
	b.DNS, b.Connect, b.TLS = mean(a.dnsSum), mean(a.connectSum), mean(a.tlsSum)
	b.TTFB, b.Latency = mean(a.ttfbSum), mean(a.latencySum)
	b.LatencyP50 = histQuantile(a.hist[:histBuckets], 0.50, b.LatencyMax)
	b.LatencyP95 = histQuantile(a.hist[:histBuckets], 0.95, b.LatencyMax)
	b.TTFBP50 = histQuantile(a.hist[histBuckets:], 0.50, b.TTFBMax)
	b.TTFBP95 = histQuantile(a.hist[histBuckets:], 0.95, b.TTFBMax)
	return b
}

// histBounds is bucket i's range in microseconds: bucket 0 starts at 0,
// bucket i >= 1 at 100·2^(i/2); the last is open, closed here by max.
func histBounds(i int, maxUS float64) (lo, hi float64) {
	if i > 0 {
		lo = 100 * math.Pow(2, float64(i)/2)
	}
	hi = 100 * math.Pow(2, float64(i+1)/2)
	if i == histBuckets-1 || hi > maxUS {
		hi = max(maxUS, lo)
	}
	return lo, hi
}

// histQuantile estimates quantile q of a histogram, interpolating linearly
// inside the bucket that holds it and never above the observed max.
func histQuantile(h []int64, q float64, maxD time.Duration) time.Duration {
	var total int64
	for _, v := range h {
		total += v
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen float64
	maxUS := float64(maxD / time.Microsecond)
	for i, v := range h {
		if v == 0 {
			continue
		}
		if seen+float64(v) >= rank {
			lo, hi := histBounds(i, maxUS)
			us := lo + (hi-lo)*(rank-seen)/float64(v)
			return min(time.Duration(us*float64(time.Microsecond)), maxD)
		}
		seen += float64(v)
	}
	return maxD
}

// hourMicros is an hour in microseconds.
const hourMicros = int64(time.Hour / time.Microsecond)

// compactHours turns a site's probes of [from, to) (hour boundaries; all of
// them, late ones too, in time order) into its hours: the row and the
// block of each hour that holds a probe or a piece of a verdict. c is the
// last probe before from. It returns the carry for to.
func compactHours(c carry, probes []histProbe, interval time.Duration, from, to int64, fn func(hour int64, a *agg, b block)) carry {
	gap := 2 * interval.Microseconds()
	i := 0
	for h := from; h < to; h += hourMicros {
		j := i
		for j < len(probes) && probes[j].at < h+hourMicros {
			j++
		}
		in := probes[i:j]
		i = j
		if c.ok && c.at+gap <= h {
			c = carry{}
		}
		if len(in) == 0 && !c.ok {
			continue
		}
		var a agg
		eachSpan(c, in, gap, h, h+hourMicros, a.held.span)
		for _, p := range in {
			if !p.late {
				a.addProbe(p)
			}
		}
		next := lastCarry(c, in)
		if len(in) > 0 || a.held != (held{}) {
			fn(h, &a, block{hour: h, interval: interval, carry: c, probes: in})
		}
		c = next
	}
	return c
}
