package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// Series resolutions: a series step that is a whole number of days or hours
// reads hours of history_hours; a shorter one reads probes.
const (
	ResMinute = time.Minute
	ResHour   = time.Hour
	ResDay    = 24 * time.Hour
)

// historyCursor is how far a site's history is compacted (zero when none
// of it is), its last probe before that point, and its latest probe.
func (s *Store) historyCursor(ctx context.Context, site Site) (until time.Time, c, latest carry, err error) {
	r, err := s.q.HistoryCursorGet(ctx, s.pool, site.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, carry{}, carry{}, nil
	}
	if err != nil {
		return time.Time{}, carry{}, carry{}, fmt.Errorf("history cursor of site %s: %w", site.Slug, err)
	}
	if r.CompactedUntil != nil {
		until = r.CompactedUntil.UTC()
	}
	if r.CarryAt != nil && r.CarryState.Valid {
		c = carry{at: r.CarryAt.UnixMicro(), state: State(r.CarryState.State), ok: true}
	}
	if r.CheckedAt != nil {
		latest = carry{at: r.CheckedAt.UnixMicro(), state: State(r.LastState), ok: true}
	}
	return until, c, latest, nil
}

// rawProbes returns a site's raw probes in [from, to), late ones too, in
// time order.
func (s *Store) rawProbes(ctx context.Context, site Site, from, to time.Time) ([]histProbe, error) {
	rows, err := s.q.ProbeListRange(ctx, s.pool, dbsqlc.ProbeListRangeParams{SiteIds: []int32{site.ID}, FromAt: from, ToAt: to})
	if err != nil {
		return nil, fmt.Errorf("probes of site %s: %w", site.Slug, err)
	}
	out := make([]histProbe, len(rows))
	for i, r := range rows {
		out[i] = histProbeFromRow(r)
	}
	return out, nil
}

func histProbeFromRow(r dbsqlc.ProbeListRangeRow) histProbe {
	return histProbe{
		at: r.At.UnixMicro(), state: State(r.State), status: r.HttpStatus, latency: r.LatencyUs,
		ttfb: r.TtfbUs, dns: r.DnsUs, connect: r.ConnectUs, tls: r.TlsUs, reason: r.Reason, late: r.Late,
	}
}

// blocks returns a site's blocks of the hours starting in [from, to).
func (s *Store) blocks(ctx context.Context, site Site, from, to time.Time) ([]block, error) {
	rows, err := s.q.ProbeBlockList(ctx, s.pool, dbsqlc.ProbeBlockListParams{SiteID: site.ID, FromAt: from, ToAt: to})
	if err != nil {
		return nil, fmt.Errorf("probe blocks of site %s: %w", site.Slug, err)
	}
	out := make([]block, len(rows))
	for i, r := range rows {
		if out[i], err = decodeBlock(r.At, r.Block); err != nil {
			return nil, fmt.Errorf("site %s: %w", site.Slug, err)
		}
	}
	return out, nil
}

func micro(t time.Time) int64 { return t.UnixMicro() }

// History is one site's history as a page reads it: its cursor and its
// raw probes after it are read once, and every window the page asks for is
// answered from them and from compacted hours, as SiteUptime and
// SiteSeries would answer it alone.
type History struct {
	s      *Store
	site   Site
	until  time.Time // compacted until; zero when nothing is
	carry  carry     // the last compacted probe
	latest carry     // the site's latest probe, whose verdict no probe has ended
	// raw holds every raw probe of [rawLo, rawHi) (Unix microseconds), late
	// ones too, in time order.
	raw          []histProbe
	rawLo, rawHi int64
}

// SiteHistory reads what windows of a site's history within [from, to)
// share: its cursor, and its raw probes after the cursor. A window reaching
// outside [from, to) is still answered, by reading what it lacks.
func (s *Store) SiteHistory(ctx context.Context, site Site, from, to time.Time) (*History, error) {
	until, c, latest, err := s.historyCursor(ctx, site)
	if err != nil {
		return nil, err
	}
	h := &History{s: s, site: site, until: until, carry: c, latest: latest}
	lo := maxTime(from.UTC().Add(-2*site.Interval), until)
	h.rawLo, h.rawHi = micro(lo), micro(lo)
	if to.After(lo) {
		if h.raw, err = s.rawProbes(ctx, site, lo, to); err != nil {
			return nil, err
		}
		h.rawHi = micro(to)
		// A probe written between the two reads is the latest.
		h.latest = lastCarry(h.latest, h.raw)
	}
	return h, nil
}

// rawProbes returns the site's raw probes in [from, to), late ones too, in
// time order: from those read already where it can.
func (h *History) rawProbes(ctx context.Context, from, to time.Time) ([]histProbe, error) {
	a, b := micro(from), micro(to)
	if a < h.rawLo || a > h.rawHi {
		return h.s.rawProbes(ctx, h.site, from, to)
	}
	i := sort.Search(len(h.raw), func(i int) bool { return h.raw[i].at >= a })
	j := sort.Search(len(h.raw), func(i int) bool { return h.raw[i].at >= b })
	// Past what was read there is nothing when the site's latest probe was
	// in it: a series' last bucket, which ends after the page's now, needs
	// no second read.
	if b <= h.rawHi || (h.rawHi > h.rawLo && (!h.latest.ok || h.latest.at < h.rawHi)) {
		return h.raw[i:j], nil
	}
	more, err := h.s.rawProbes(ctx, h.site, time.UnixMicro(h.rawHi), to)
	if err != nil {
		return nil, err
	}
	return append(slices.Clip(h.raw[i:j]), more...), nil
}

// SiteUptime is a site's time-weighted record over [from, to); see
// History.Uptime.
func (s *Store) SiteUptime(ctx context.Context, site Site, from, to time.Time) (Uptime, error) {
	if !to.After(from) {
		return Uptime{}, nil
	}
	h, err := s.SiteHistory(ctx, site, from, to)
	if err != nil {
		return Uptime{}, err
	}
	return h.Uptime(ctx, from, to)
}

// Uptime is the site's time-weighted record over [from, to): whole
// compacted hours from history_hours, the compacted hours the window's ends
// cut from their blocks, the rest from raw probes. It is exact to the
// millisecond (hours keep milliseconds) wherever probes or blocks are kept;
// past the raw retention, an hour cut by an end counts in proportion.
func (h *History) Uptime(ctx context.Context, from, to time.Time) (Uptime, error) {
	from, to = from.UTC(), to.UTC()
	var u held
	if !to.After(from) {
		return Uptime{}, nil
	}
	s, site, until := h.s, h.site, h.until
	if from.Before(until) {
		end := minTime(to, until)
		whole0, whole1 := ceilTo(from, time.Hour), end.Truncate(time.Hour)
		if whole1.After(whole0) {
			r, err := s.q.HistoryHoursHeld(ctx, s.pool, dbsqlc.HistoryHoursHeldParams{SiteID: site.ID, FromAt: whole0, ToAt: whole1})
			if err != nil {
				return Uptime{}, fmt.Errorf("uptime of site %s: %w", site.Slug, err)
			}
			u.ok, u.notok, u.pending = r.OkMs*1000, r.NotokMs*1000, r.PendingMs*1000
		}
		for _, cut := range cutHours(from, end) {
			if err := s.heldInHour(ctx, site, cut[0], cut[1], &u); err != nil {
				return Uptime{}, err
			}
		}
	}
	if until.IsZero() || to.After(until) {
		rawFrom := maxTime(from, until)
		gap := 2 * site.Interval
		probes, err := h.rawProbes(ctx, maxTime(rawFrom.Add(-gap), until), to)
		if err != nil {
			return Uptime{}, err
		}
		eachSpan(h.carry, probes, gap.Microseconds(), micro(rawFrom), micro(to), u.span)
	}
	return u.uptime(), nil
}

// cutHours are the parts of [from, to) in hours the window does not cover
// whole.
func cutHours(from, to time.Time) [][2]time.Time {
	var cuts [][2]time.Time
	if f := from.Truncate(time.Hour); !f.Equal(from) {
		cuts = append(cuts, [2]time.Time{from, minTime(to, f.Add(time.Hour))})
	}
	if t := to.Truncate(time.Hour); !t.Equal(to) && (len(cuts) == 0 || !t.Equal(from.Truncate(time.Hour))) {
		cuts = append(cuts, [2]time.Time{maxTime(from, t), to})
	}
	return cuts
}

// heldInHour adds the time in each verdict within [from, to), inside one
// compacted hour: exact from the hour's block, in proportion from its row
// once the block is gone.
func (s *Store) heldInHour(ctx context.Context, site Site, from, to time.Time, h *held) error {
	hour := from.Truncate(time.Hour)
	bs, err := s.blocks(ctx, site, hour, hour.Add(time.Hour))
	if err != nil {
		return err
	}
	if len(bs) == 1 {
		b := bs[0]
		eachSpan(b.carry, b.probes, 2*b.interval.Microseconds(), micro(from), micro(to), h.span)
		return nil
	}
	rows, err := s.q.HistoryHourList(ctx, s.pool, dbsqlc.HistoryHourListParams{SiteID: site.ID, FromAt: hour, ToAt: hour.Add(time.Hour)})
	if err != nil {
		return fmt.Errorf("uptime of site %s: %w", site.Slug, err)
	}
	f := float64(to.Sub(from)) / float64(time.Hour)
	for _, r := range rows {
		h.ok += int64(math.Round(float64(r.OkMs) * 1000 * f))
		h.notok += int64(math.Round(float64(r.NotokMs) * 1000 * f))
		h.pending += int64(math.Round(float64(r.PendingMs) * 1000 * f))
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// minTime is the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func ceilTo(t time.Time, d time.Duration) time.Time {
	f := t.Truncate(d)
	if f.Equal(t) {
		return f
	}
	return f.Add(d)
}

// Bucket is a site's record over one step of a series.
type Bucket struct {
	At     time.Time // start of the bucket
	Uptime           // time-weighted verdicts
	Probes int       // probes started in the bucket
	Timed  int       // of which got a response, so have timings
	// Percentiles of probes that got a response, from log histograms
	// (within ±19 %, interpolated); zero without timed probes.
	LatencyP50, LatencyP95, LatencyMax time.Duration
	TTFBP50, TTFBP95, TTFBMax          time.Duration
	// Means of the phases of probes that got a response.
	DNS, Connect, TLS, TTFB, Latency time.Duration
}

// Transfer is the mean time from first byte to the end of the body.
func (b Bucket) Transfer() time.Duration {
	if t := b.Latency - b.TTFB; t > 0 {
		return t
	}
	return 0
}

// ErrSeriesTooLong is returned when a series would read too many rows: a
// smaller range or a larger step answers it.
var ErrSeriesTooLong = errors.New("range too long for the step")

// SeriesMaxRows bounds the steps of resolution one series spans.
const SeriesMaxRows = 50000

// SeriesResolution is the resolution a series with this step is aligned
// to: the coarsest that divides the step.
func SeriesResolution(step time.Duration) time.Duration {
	switch {
	case step%ResDay == 0:
		return ResDay
	case step%ResHour == 0:
		return ResHour
	}
	return ResMinute
}

// seriesSpan is the span a series of step over [from, to) covers: from
// rounded down and to rounded up to the step's resolution, n buckets of
// step, the last ending at end.
func seriesSpan(from, to time.Time, step time.Duration) (f, t, end time.Time, n int, err error) {
	if step < time.Minute || step%time.Minute != 0 {
		return f, t, end, 0, fmt.Errorf("series step %s: %w", step, errors.New("not a whole number of minutes"))
	}
	res := SeriesResolution(step)
	f, t = from.UTC().Truncate(res), ceilTo(to.UTC(), res)
	if !t.After(f) {
		return f, t, f, 0, nil
	}
	if int64(t.Sub(f)/res) > SeriesMaxRows {
		return f, t, end, 0, ErrSeriesTooLong
	}
	n = int((t.Sub(f) + step - 1) / step)
	return f, t, f.Add(time.Duration(n) * step), n, nil
}

// SiteSeries returns a site's buckets of step over [from, to); see
// History.Series.
func (s *Store) SiteSeries(ctx context.Context, site Site, from, to time.Time, step time.Duration) ([]Bucket, error) {
	f, t, _, n, err := seriesSpan(from, to, step)
	if err != nil || n == 0 {
		return nil, err
	}
	h, err := s.SiteHistory(ctx, site, f, t)
	if err != nil {
		return nil, err
	}
	return h.Series(ctx, from, to, step)
}

// Series returns the site's buckets of step from from (rounded down to the
// step's resolution) until to (rounded up). step must be a positive whole
// number of minutes. Every bucket is returned, empty ones too. A step of
// whole hours reads history_hours; a shorter one reads the blocks of
// compacted hours, which last the raw retention (past it, such buckets are
// empty). The last bucket may end after to: the site's latest verdict,
// which no probe has ended, fills it as far as the verdict holds, as a
// bucket in progress shows; any other verdict counts until to.
func (h *History) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]Bucket, error) {
	from, to, end, n, err := seriesSpan(from, to, step)
	if err != nil || n == 0 {
		return nil, err
	}
	s, site, until := h.s, h.site, h.until
	aggs := make([]agg, n)
	base, width, toUS := micro(from), step.Microseconds(), micro(to)
	// reached is whether what was read holds the verdict at to: a span
	// ending there, or the hour or quarter hour before it.
	reached := false
	credit := func(st State, a, b int64) {
		reached = reached || b == toUS
		for a < b {
			i := (a - base) / width
			e := min(b, base+(i+1)*width)
			aggs[i].held.add(st, e-a)
			a = e
		}
	}
	count := func(probes []histProbe, lo, hi int64) {
		for _, p := range probes {
			if !p.late && p.at >= lo && p.at < hi {
				aggs[(p.at-base)/width].addProbe(p)
			}
		}
	}
	if from.Before(until) {
		compactedTo := minTime(to, until)
		if step%time.Hour == 0 {
			rows, err := s.q.HistoryHourList(ctx, s.pool, dbsqlc.HistoryHourListParams{SiteID: site.ID, FromAt: from, ToAt: compactedTo})
			if err != nil {
				return nil, fmt.Errorf("series of site %s: %w", site.Slug, err)
			}
			for _, r := range rows {
				reached = reached || micro(r.At) == toUS-hourMicros
				if err := aggs[(micro(r.At)-base)/width].addRow(r); err != nil {
					return nil, fmt.Errorf("series of site %s, hour %s: %w", site.Slug, r.At.Format(time.RFC3339), err)
				}
			}
		} else {
			// Buckets of whole quarter hours take the quarter-hour sums of
			// the hours that have them, up to the last quarter boundary
			// the range covers; the rest is unpacked.
			quartersTo := from.Truncate(time.Hour)
			if step%quarter == 0 && from.Truncate(quarter).Equal(from) {
				quartersTo = compactedTo
				if !compactedTo.Truncate(quarter).Equal(compactedTo) {
					quartersTo = compactedTo.Truncate(time.Hour)
				}
			}
			rows, err := s.q.ProbeBlockQuarterList(ctx, s.pool, dbsqlc.ProbeBlockQuarterListParams{
				SiteID: site.ID, FromAt: from.Truncate(time.Hour), ToAt: compactedTo, QuartersTo: quartersTo})
			if err != nil {
				return nil, fmt.Errorf("series of site %s: %w", site.Slug, err)
			}
			lo, hi := micro(from), micro(compactedTo)
			for _, r := range rows {
				if r.Quarters != nil {
					qs, err := decodeQuarters(r.At, r.Quarters)
					if err != nil {
						return nil, fmt.Errorf("site %s: %w", site.Slug, err)
					}
					for q := range qs {
						if a := micro(r.At) + int64(q)*quarterMicros; a >= lo && a+quarterMicros <= hi {
							reached = reached || a+quarterMicros == toUS
							aggs[(a-base)/width].merge(&qs[q])
						}
					}
					continue
				}
				b, err := decodeBlock(r.At, r.Block)
				if err != nil {
					return nil, fmt.Errorf("site %s: %w", site.Slug, err)
				}
				eachSpan(b.carry, b.probes, 2*b.interval.Microseconds(), max(lo, b.hour), min(hi, b.hour+hourMicros), credit)
				count(b.probes, lo, hi)
			}
		}
	}
	if until.IsZero() || to.After(until) {
		rawFrom := maxTime(from, until)
		gap := 2 * site.Interval
		probes, err := h.rawProbes(ctx, maxTime(rawFrom.Add(-gap), until), to)
		if err != nil {
			return nil, err
		}
		eachSpan(h.carry, probes, gap.Microseconds(), micro(rawFrom), toUS, credit)
		count(probes, micro(rawFrom), toUS)
	}
	// The site's latest verdict is not over: holding at to, it fills the
	// last bucket as far as it holds. Only the site's latest: an earlier
	// verdict's end is known, whether its probes are raw or compacted.
	if l := h.latest; reached && l.ok && l.at < toUS {
		if e := min(l.at+2*site.Interval.Microseconds(), micro(end)); e > toUS {
			credit(l.state, toUS, e)
		}
	}
	out := make([]Bucket, n)
	for i := range aggs {
		out[i] = aggs[i].bucket(from.Add(time.Duration(i) * step))
	}
	return out, nil
}

// addRow adds an hour of history_hours.
func (a *agg) addRow(r dbsqlc.HistoryHourListRow) error {
	o := agg{
		held:   held{ok: int64(r.OkMs) * 1000, notok: int64(r.NotokMs) * 1000, pending: int64(r.PendingMs) * 1000},
		probes: int64(r.Probes), timed: int64(r.Timed),
		latencySum: r.LatencySum, ttfbSum: r.TtfbSum, dnsSum: r.DnsSum, connectSum: r.ConnectSum, tlsSum: r.TlsSum,
		latencyMax: r.LatencyMax, ttfbMax: r.TtfbMax,
	}
	if err := o.addHist(r.Hist); err != nil {
		return err
	}
	a.merge(&o)
	return nil
}
