package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// Quarter-hour sums (probe_blocks.quarters, migrations/00032): a block of a
// site probed every few seconds carries, beside its probes, each quarter
// hour added up as a series adds it. A series whose buckets are whole
// quarter hours reads those and leaves the block, thousands of probes,
// packed.

// quarterMin is how many probes a block holds before it carries quarter-hour
// sums. The sums take about 250 B: 1.4 % of a block of a probe a second,
// about 5 % at 1,000 (a probe every 3.6 s, so that a site probed every 3 s
// has them whatever its jitter); below that, unpacking the 24 blocks of a
// day's chart takes under 5 ms.
const quarterMin = 1000

// quarter is a quarter hour, the span of each sum.
const quarter = 15 * time.Minute

const quarterMicros = hourMicros / 4

// quartersVersion is the first byte of probe_blocks.quarters.
const quartersVersion = 1

// quarters adds up each quarter hour of the block: the time each verdict
// holds inside it and the probes, not late, that start in it, exactly as
// History.Series adds them from the unpacked block.
func (b block) quarters() [4]agg {
	var qs [4]agg
	gap := 2 * b.interval.Microseconds()
	for q := range qs {
		lo := b.hour + int64(q)*quarterMicros
		eachSpan(b.carry, b.probes, gap, lo, lo+quarterMicros, qs[q].held.span)
	}
	for _, p := range b.probes {
		if !p.late && p.at >= b.hour && p.at < b.hour+hourMicros {
			qs[(p.at-b.hour)/quarterMicros].addProbe(p)
		}
	}
	return qs
}

// encodeQuarters is the block's probe_blocks.quarters: nil for a block of
// fewer than quarterMin probes.
func (b block) encodeQuarters() []byte {
	if len(b.probes) < quarterMin {
		return nil
	}
	qs := b.quarters()
	buf := []byte{quartersVersion}
	for q := range qs {
		a := &qs[q]
		for _, v := range []int64{a.held.ok, a.held.notok, a.held.pending, a.probes, a.timed,
			a.latencySum, a.ttfbSum, a.dnsSum, a.connectSum, a.tlsSum, int64(a.latencyMax), int64(a.ttfbMax)} {
			buf = binary.AppendVarint(buf, v)
		}
		n := 0
		for _, c := range a.hist {
			if c > 0 {
				n++
			}
		}
		buf = binary.AppendUvarint(buf, uint64(n))
		for i, c := range a.hist {
			if c > 0 {
				buf = binary.AppendUvarint(buf, uint64(i))
				buf = binary.AppendUvarint(buf, uint64(c))
			}
		}
	}
	return buf
}

// decodeQuarters reads probe_blocks.quarters of the hour at hour.
func decodeQuarters(hour time.Time, data []byte) ([4]agg, error) {
	var qs [4]agg
	if len(data) == 0 || data[0] != quartersVersion {
		return qs, fmt.Errorf("quarter sums of %s: %w", hour.Format(time.RFC3339), errBadBlock)
	}
	r := &blockReader{buf: data[1:]}
	for q := range qs {
		a := &qs[q]
		for _, v := range []*int64{&a.held.ok, &a.held.notok, &a.held.pending, &a.probes, &a.timed,
			&a.latencySum, &a.ttfbSum, &a.dnsSum, &a.connectSum, &a.tlsSum} {
			*v = r.varint()
		}
		a.latencyMax, a.ttfbMax = int32(r.varint()), int32(r.varint())
		for n := r.uvarint(); n > 0 && r.err == nil; n-- {
			i, c := r.uvarint(), r.uvarint()
			if i >= uint64(len(a.hist)) {
				r.err = errBadBlock
				break
			}
			a.hist[i] += int64(c)
		}
	}
	if r.err == nil && len(r.buf) > 0 {
		r.err = errBadBlock
	}
	if r.err != nil {
		return qs, fmt.Errorf("quarter sums of %s: %w", hour.Format(time.RFC3339), r.err)
	}
	return qs, nil
}

// merge adds o into a.
func (a *agg) merge(o *agg) {
	a.held.ok += o.held.ok
	a.held.notok += o.held.notok
	a.held.pending += o.held.pending
	a.probes += o.probes
	a.timed += o.timed
	a.latencySum += o.latencySum
	a.ttfbSum += o.ttfbSum
	a.dnsSum += o.dnsSum
	a.connectSum += o.connectSum
	a.tlsSum += o.tlsSum
	a.latencyMax = max(a.latencyMax, o.latencyMax)
	a.ttfbMax = max(a.ttfbMax, o.ttfbMax)
	for i, c := range o.hist {
		a.hist[i] += c
	}
}

// blockRow is the probe_blocks row of a site's block.
func blockRow(siteID int32, b block) dbsqlc.ProbeBlockInsertParams {
	return dbsqlc.ProbeBlockInsertParams{At: time.UnixMicro(b.hour).UTC(), SiteID: siteID, Block: b.encode(), Quarters: b.encodeQuarters()}
}
