package store

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchBlock is an hour of probes a second, as BenchmarkHistory writes them.
func benchBlock() block {
	rng := rand.New(rand.NewPCG(1, 2))
	hour := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC).UnixMicro()
	b := block{hour: hour, interval: time.Second}
	for i := range 3600 {
		lat := int32(20_000 + rng.IntN(80_000))
		b.probes = append(b.probes, histProbe{at: hour + int64(i)*1e6, state: StateOK, status: 200,
			latency: lat, ttfb: lat * 7 / 10, dns: 1000, connect: 2000, tls: 6000})
	}
	return b
}

// BenchmarkBlockHour decodes a block of 3,600 probes and adds them into
// quarter-hour buckets, as a site page's 24-hour chart does for each of
// its 24 compacted hours.
func BenchmarkBlockHour(b *testing.B) {
	data := benchBlock().encode()
	at := time.UnixMicro(benchBlock().hour)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		bl, err := decodeBlock(at, data)
		if err != nil {
			b.Fatal(err)
		}
		var aggs [4]agg
		for _, p := range bl.probes {
			aggs[(p.at-bl.hour)/(15*60e6)].addProbe(p)
		}
	}
}

// BenchmarkBlockEncode packs a block of 3,600 probes, as compaction does for
// each site-hour of a site probed every second.
func BenchmarkBlockEncode(b *testing.B) {
	bl := benchBlock()
	for b.Loop() {
		if len(bl.encode()) == 0 {
			b.Fatal("empty block")
		}
	}
}
