package store

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestHistQuantile(t *testing.T) {
	t.Parallel()
	h := make([]int64, histBuckets)
	// 100 ms is in bucket floor(2·log2(1000)) = 19: [~72.4 ms, ~102.4 ms).
	h[19] = 10
	for _, q := range []float64{0.5, 0.95} {
		got := histQuantile(h, q, 100*time.Millisecond)
		if got < 72*time.Millisecond || got > 100*time.Millisecond {
			t.Errorf("q%.2f = %s, want within the bucket and at most the max", q, got)
		}
	}
	if got := histQuantile(make([]int64, histBuckets), 0.5, 0); got != 0 {
		t.Errorf("empty histogram: %s", got)
	}
}

// TestHistBucket: the bucket is floor(2·log2(us/100)) clamped to 0..39, as
// walnut_hist_bucket in 00003 computes it, and exact at the bounds.
func TestHistBucket(t *testing.T) {
	t.Parallel()
	cases := map[int32]int{0: 0, 1: 0, 140: 0, 141: 0, 142: 1, 200: 2, 282: 2, 283: 3, 100_000: 19, 102_400: 20, math.MaxInt32: 39}
	for us, want := range cases {
		if got := histBucket(us); got != want {
			t.Errorf("histBucket(%d) = %d, want %d", us, got, want)
		}
	}
	// Against the bounds counted out one by one, around every bound.
	for i := 1; i < histBuckets; i++ {
		lo := int32(math.Ceil(100 * math.Pow(2, float64(i)/2)))
		for us := lo - 3; us <= lo+3; us++ {
			want := 0
			for want < histBuckets-1 && uint64(us)*uint64(us) >= 10000<<uint(want+1) {
				want++
			}
			if got := histBucket(us); got != want {
				t.Errorf("histBucket(%d) = %d, want %d", us, got, want)
			}
		}
	}
	for us := int32(1); us < 5_000_000; us = us*11/10 + 1 {
		want := int(math.Floor(2 * math.Log2(float64(us)/100)))
		want = min(39, max(0, want))
		if got := histBucket(us); got != want && math.Abs(2*math.Log2(float64(us)/100)-math.Round(2*math.Log2(float64(us)/100))) > 1e-9 {
			t.Errorf("histBucket(%d) = %d, want %d", us, got, want)
		}
	}
}

func TestSparseHistRoundTrip(t *testing.T) {
	t.Parallel()
	var a agg
	a.hist[0], a.hist[19], a.hist[79] = 3, 70000, 1
	var b agg
	if err := b.addHist(a.encodeHist()); err != nil {
		t.Fatal(err)
	}
	if err := b.addHist(a.encodeHist()); err != nil {
		t.Fatal(err)
	}
	if b.hist[0] != 6 || b.hist[19] != 140000 || b.hist[79] != 2 {
		t.Errorf("sum = %v", b.hist)
	}
	if len(a.encodeHist()) != 3*histEntry {
		t.Errorf("encoded %d bytes, want %d", len(a.encodeHist()), 3*histEntry)
	}
	if err := b.addHist([]byte{80, 0, 0, 0, 1}); !errors.Is(err, errBadHist) {
		t.Errorf("bucket 80: %v", err)
	}
}

// TestBlockRoundTrip packs random hours of probes and unpacks them equal,
// and says what a probe costs packed.
func TestBlockRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	hour := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	states := []State{StateOK, StateNotOK, StatePending, StateUnknown}
	reasons := []string{"", "", "", "HTTP 503", "timeout after 5s", "naïve ☃ reason"}
	for round := range 50 {
		interval := time.Duration(1+rng.IntN(120)) * time.Second
		b := block{hour: hour.UnixMicro(), interval: interval}
		if rng.IntN(2) == 0 {
			b.carry = carry{at: b.hour - rng.Int64N(int64(2*interval/time.Microsecond)) - 1, state: states[rng.IntN(3)], ok: true}
		}
		at := b.hour + rng.Int64N(int64(interval/time.Microsecond))
		for at < b.hour+hourMicros {
			p := histProbe{at: at, state: states[rng.IntN(len(states))], status: int16(rng.IntN(600)),
				latency: rng.Int32N(1 << 30), ttfb: rng.Int32N(1 << 20), dns: rng.Int32N(1000), connect: rng.Int32N(math.MaxInt32),
				tls: 0, reason: reasons[rng.IntN(len(reasons))], late: rng.IntN(20) == 0}
			b.probes = append(b.probes, p)
			if rng.IntN(30) == 0 {
				at += rng.Int64N(10) // a late twin or near twin
			} else {
				at += int64(interval/time.Microsecond) + rng.Int64N(2_000_000) - 1_000_000
			}
		}
		if len(b.probes) > 0 && b.probes[len(b.probes)-1].at >= b.hour+hourMicros {
			b.probes = b.probes[:len(b.probes)-1]
		}
		data := b.encode()
		got, err := decodeBlock(hour, data)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(b.probes) == 0 {
			b.probes = []histProbe{}
		}
		if !reflect.DeepEqual(got, b) {
			t.Fatalf("round %d: decoded\n%+v\nwant\n%+v", round, got, b)
		}
		if round < 3 {
			// A cut block must fail, never panic.
			for cut := 0; cut < len(data)-8; cut += 1 + cut/8 {
				if _, err := decodeBlock(hour, data[:cut]); err == nil {
					t.Errorf("round %d: a block cut at %d of %d bytes decoded", round, cut, len(data))
				}
			}
		}
	}
}

// TestQuartersRoundTrip: a dense block's quarter sums come back as
// computed, a sparse block has none, and damage is refused.
func TestQuartersRoundTrip(t *testing.T) {
	t.Parallel()
	b := benchBlock()
	b.probes = b.probes[1:] // the carry holds the first second
	b.probes[10].state, b.probes[10].status, b.probes[10].ttfb = StateNotOK, 0, 0
	b.probes[2000].late = true
	b.carry = carry{at: b.hour - 500_000, state: StatePending, ok: true}
	data := b.encodeQuarters()
	at := time.UnixMicro(b.hour)
	got, err := decodeQuarters(at, data)
	if err != nil {
		t.Fatal(err)
	}
	if want := b.quarters(); got != want {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	var probes int64
	var held held
	for _, q := range got {
		probes += q.probes
		held.ok, held.notok, held.pending = held.ok+q.held.ok, held.notok+q.held.notok, held.pending+q.held.pending
	}
	if probes != 3598 || held.ok+held.notok+held.pending != hourMicros || held.pending != 1_000_000 {
		t.Errorf("quarters hold %d probes and %+v", probes, held)
	}
	if _, err := decodeQuarters(at, data[:len(data)-1]); err == nil {
		t.Error("a cut sum decoded")
	}
	if _, err := decodeQuarters(at, append(slices.Clone(data), 0)); err == nil {
		t.Error("a sum with trailing bytes decoded")
	}
	b.probes = b.probes[:quarterMin-1]
	if q := b.encodeQuarters(); q != nil {
		t.Errorf("a block of %d probes has sums", len(b.probes))
	}
}
