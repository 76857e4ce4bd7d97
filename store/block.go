package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// histProbe is a probe as history holds it: times in Unix microseconds,
// durations in microseconds, and whether it came late (see probes.late in
// migrations/00008_history.sql).
type histProbe struct {
	at                               int64
	state                            State
	status                           int16
	latency, ttfb, dns, connect, tls int32
	reason                           string
	late                             bool
}

func (p histProbe) probe(siteID int32) Probe {
	return Probe{
		SiteID: siteID, At: time.UnixMicro(p.at).UTC(), State: p.state, HTTPStatus: int(p.status),
		Latency: duration(p.latency), TTFB: duration(p.ttfb), DNS: duration(p.dns),
		Connect: duration(p.connect), TLS: duration(p.tls), Reason: p.reason,
	}
}

// carry is the last probe before a point in time whose verdict may hold
// past it; ok is false when there is none.
type carry struct {
	at    int64
	state State
	ok    bool
}

// block is one site's hour of probes, as probe_blocks holds it packed.
type block struct {
	hour     int64 // start, Unix microseconds
	interval time.Duration
	carry    carry // the probe before the hour, if it holds into it
	probes   []histProbe
}

// blockVersion is the first byte of every block, so that a later encoding
// can be told apart.
const blockVersion = 1

// stateCodes are the states' codes in blocks; 0 is "none".
var stateCodes = map[State]uint64{StateOK: 1, StateNotOK: 2, StatePending: 3, StateUnknown: 4}

var codeStates = [...]State{1: StateOK, 2: StateNotOK, 3: StatePending, 4: StateUnknown}

// encode packs a block column by column: times as the change in the gap
// between probes (a few bytes when a site keeps its cadence), then state,
// late and status together, then each timing, then reasons as indexes into
// the block's list of distinct reasons (an ok probe has none). Varints keep
// small numbers small, and DEFLATE takes what repeats (timings sharing their
// high bytes, runs of one status): 2 % of the bench's noisy synthetic
// history, 16 % of steadier latencies. At 30 s a block is about 1.8 kB, under
// PostgreSQL's TOAST threshold, so it is stored inline, four to a page.
func (b block) encode() []byte {
	buf := make([]byte, 0, 16+len(b.probes)*16)
	buf = binary.AppendUvarint(buf, uint64(b.interval/time.Millisecond))
	if b.carry.ok {
		buf = binary.AppendUvarint(buf, stateCodes[b.carry.state])
		buf = binary.AppendUvarint(buf, uint64(b.hour-b.carry.at))
	} else {
		buf = append(buf, 0)
	}
	buf = binary.AppendUvarint(buf, uint64(len(b.probes)))
	prev, gap := b.hour, b.interval.Microseconds()
	for _, p := range b.probes {
		d := p.at - prev
		buf = binary.AppendVarint(buf, d-gap)
		prev, gap = p.at, d
	}
	for _, p := range b.probes {
		// state in bits 0-2, late in bit 3, the HTTP status above
		v := uint64(uint16(p.status))<<4 | stateCodes[p.state]
		if p.late {
			v |= 1 << 3
		}
		buf = binary.AppendUvarint(buf, v)
	}
	for _, col := range []func(histProbe) int32{
		func(p histProbe) int32 { return p.latency },
		func(p histProbe) int32 { return p.ttfb },
		func(p histProbe) int32 { return p.dns },
		func(p histProbe) int32 { return p.connect },
		func(p histProbe) int32 { return p.tls },
	} {
		for _, p := range b.probes {
			buf = binary.AppendUvarint(buf, uint64(uint32(col(p))))
		}
	}
	var reasons []string
	index := map[string]uint64{}
	for _, p := range b.probes {
		if _, ok := index[p.reason]; !ok && p.reason != "" {
			reasons = append(reasons, p.reason)
			index[p.reason] = uint64(len(reasons))
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(reasons)))
	for _, r := range reasons {
		buf = binary.AppendUvarint(buf, uint64(len(r)))
		buf = append(buf, r...)
	}
	if len(reasons) > 0 {
		for _, p := range b.probes {
			buf = binary.AppendUvarint(buf, index[p.reason])
		}
	}
	out := bytes.NewBuffer(make([]byte, 0, len(buf)))
	out.WriteByte(blockVersion)
	w, _ := deflaters.Get().(*flate.Writer)
	if w == nil {
		var err error
		if w, err = flate.NewWriter(out, flate.BestCompression); err != nil {
			panic(err) // only for a bad level
		}
	} else {
		w.Reset(out)
	}
	defer deflaters.Put(w)
	w.Write(buf) //nolint:errcheck // a bytes.Buffer does not fail
	w.Close()    //nolint:errcheck // a bytes.Buffer does not fail
	return out.Bytes()
}

// deflaters are reused by encode: a compactor at its best level allocates
// most of a megabyte, and compaction packs thousands of blocks a pass.
var deflaters sync.Pool

var errBadBlock = errors.New("malformed probe block")

// blockReader reads varints off a block, remembering the first error.
type blockReader struct {
	buf []byte
	err error
}

func (r *blockReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.err = errBadBlock
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *blockReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.err = errBadBlock
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *blockReader) state(code uint64) State {
	if code == 0 || code >= uint64(len(codeStates)) {
		r.err = errBadBlock
		return StateUnknown
	}
	return codeStates[code]
}

// A site page reads a block per hour of its chart: the inflater (tens of
// kilobytes of tables) and the buffer are reused rather than allocated for
// each. Reasons are copied out of the buffer, so nothing decoded keeps it.
var (
	inflaters   sync.Pool
	inflateBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// inflate puts data, DEFLATEd, into buf.
func inflate(buf *bytes.Buffer, data []byte) error {
	buf.Reset()
	src := bytes.NewReader(data)
	f, _ := inflaters.Get().(io.ReadCloser)
	if f == nil {
		f = flate.NewReader(src)
	} else if err := f.(flate.Resetter).Reset(src, nil); err != nil {
		return err
	}
	defer inflaters.Put(f)
	// A block inflates to a few times its size; growing once avoids most
	// copies.
	buf.Grow(4 * len(data))
	_, err := buf.ReadFrom(f)
	return err
}

// decodeBlock unpacks a block of the hour starting at hour.
func decodeBlock(hour time.Time, data []byte) (block, error) {
	b := block{hour: hour.UnixMicro()}
	if len(data) == 0 || data[0] != blockVersion {
		return b, fmt.Errorf("probe block of %s: %w", hour.Format(time.RFC3339), errBadBlock)
	}
	buf := inflateBufs.Get().(*bytes.Buffer)
	defer inflateBufs.Put(buf)
	if err := inflate(buf, data[1:]); err != nil {
		return b, fmt.Errorf("probe block of %s: %w: %w", hour.Format(time.RFC3339), errBadBlock, err)
	}
	r := &blockReader{buf: buf.Bytes()}
	b.interval = time.Duration(r.uvarint()) * time.Millisecond
	if code := r.uvarint(); code != 0 {
		b.carry = carry{state: r.state(code), ok: true}
		b.carry.at = b.hour - int64(r.uvarint())
	}
	n := r.uvarint()
	if n > uint64(len(r.buf)) { // every probe takes at least a byte
		r.err = errBadBlock
	}
	if r.err != nil {
		return b, fmt.Errorf("probe block of %s: %w", hour.Format(time.RFC3339), r.err)
	}
	b.probes = make([]histProbe, n)
	prev, gap := b.hour, b.interval.Microseconds()
	for i := range b.probes {
		d := r.varint() + gap
		b.probes[i].at = prev + d
		prev, gap = b.probes[i].at, d
	}
	for i := range b.probes {
		v := r.uvarint()
		b.probes[i].state = r.state(v & 7)
		b.probes[i].late = v&(1<<3) != 0
		b.probes[i].status = int16(uint16(v >> 4))
	}
	for _, set := range []func(p *histProbe, v int32){
		func(p *histProbe, v int32) { p.latency = v },
		func(p *histProbe, v int32) { p.ttfb = v },
		func(p *histProbe, v int32) { p.dns = v },
		func(p *histProbe, v int32) { p.connect = v },
		func(p *histProbe, v int32) { p.tls = v },
	} {
		for i := range b.probes {
			set(&b.probes[i], int32(uint32(r.uvarint())))
		}
	}
	reasons := make([]string, r.uvarint())
	for i := range reasons {
		l := r.uvarint()
		if r.err != nil || l > uint64(len(r.buf)) {
			r.err = errBadBlock
			break
		}
		reasons[i] = string(r.buf[:l])
		r.buf = r.buf[l:]
	}
	if len(reasons) > 0 {
		for i := range b.probes {
			if k := r.uvarint(); k > 0 && k <= uint64(len(reasons)) {
				b.probes[i].reason = reasons[k-1]
			} else if k != 0 {
				r.err = errBadBlock
			}
		}
	}
	if r.err != nil {
		return b, fmt.Errorf("probe block of %s: %w", hour.Format(time.RFC3339), r.err)
	}
	return b, nil
}
