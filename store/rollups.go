package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// Rollup resolutions, the res column of the rollups table.
const (
	ResMinute = time.Minute
	ResHour   = time.Hour
	ResDay    = 24 * time.Hour
)

// rollupProbes takes a batch, already written in tx, into the rollups: the
// previous probe of each site is credited with the time its verdict held,
// and the batch's probes are counted with their timings. See
// migrations/00003_rollups.sql.
func (s *Store) rollupProbes(ctx context.Context, tx pgx.Tx, batch []Probe) error {
	p := dbsqlc.RollupApplyParams{
		SiteIds:   make([]int32, len(batch)),
		Ats:       make([]time.Time, len(batch)),
		States:    make([]string, len(batch)),
		Statuses:  make([]int16, len(batch)),
		Latencies: make([]int32, len(batch)),
		Ttfbs:     make([]int32, len(batch)),
		Dnss:      make([]int32, len(batch)),
		Connects:  make([]int32, len(batch)),
		Tlss:      make([]int32, len(batch)),
	}
	for i, pr := range batch {
		p.SiteIds[i] = pr.SiteID
		p.Ats[i] = pr.At
		p.States[i] = string(pr.State)
		p.Statuses[i] = int16(pr.HTTPStatus)
		if pr.HTTPStatus == 0 && pr.Answered() {
			// The rollups time probes whose status is not 0; a TCP probe
			// that connected is timed too (see Probe.Answered).
			p.Statuses[i] = -1
		}
		p.Latencies[i] = micros(pr.Latency)
		p.Ttfbs[i] = micros(pr.TTFB)
		p.Dnss[i] = micros(pr.DNS)
		p.Connects[i] = micros(pr.Connect)
		p.Tlss[i] = micros(pr.TLS)
	}
	if _, err := s.q.RollupApply(ctx, tx, p); err != nil {
		return fmt.Errorf("write %d probes: rollups: %w", len(batch), err)
	}
	return nil
}

// openSpan is the latest probe's verdict, which holds from its time until
// the next probe, at most two intervals, and is not in the rollups yet.
type openSpan struct {
	state    State
	from, to time.Time
	// folded is how far the site's minutes are folded into hours and days;
	// zero when nothing is.
	folded time.Time
}

func (s *Store) openSpan(ctx context.Context, site Site) (openSpan, bool, error) {
	c, err := s.q.RollupCursor(ctx, s.pool, site.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return openSpan{}, false, nil
	}
	if err != nil {
		return openSpan{}, false, fmt.Errorf("rollup cursor of site %s: %w", site.Slug, err)
	}
	o := openSpan{state: State(c.State), from: c.At, to: c.At.Add(2 * site.Interval)}
	if c.FoldedUntil != nil {
		o.folded = c.FoldedUntil.UTC()
	}
	return o, true, nil
}

// overlap is the length of [a1, a2) ∩ [b1, b2).
func overlap(a1, a2, b1, b2 time.Time) time.Duration {
	s, e := a1, a2
	if b1.After(s) {
		s = b1
	}
	if b2.Before(e) {
		e = b2
	}
	if !e.After(s) {
		return 0
	}
	return e.Sub(s)
}

func (u *Uptime) add(state State, d time.Duration) {
	switch state {
	case StateOK:
		u.OK += d
	case StateNotOK:
		u.NotOK += d
	case StatePending:
		u.Pending += d
	}
}

func ceilTo(t time.Time, d time.Duration) time.Time {
	f := t.Truncate(d)
	if f.Equal(t) {
		return f
	}
	return f.Add(d)
}

// SiteUptime is a site's time-weighted record over [from, to), read from the
// rollups: whole days, whole hours and minutes tile the window, and the
// minutes cut by its ends count in proportion to the part inside (exact when
// the verdict did not change within that minute). The latest probe's open
// span counts up to to. The rows read are at most about 260 whatever the
// window and the number of probes. Minute rollups are kept as long as raw
// probes, so a window older than that is exact to the hour at its ends.
func (s *Store) SiteUptime(ctx context.Context, site Site, from, to time.Time) (Uptime, error) {
	from, to = from.UTC(), to.UTC()
	var u Uptime
	if !to.After(from) {
		return u, nil
	}
	open, found, err := s.openSpan(ctx, site)
	if err != nil {
		return u, err
	}
	// Hours and days hold only the minutes folded into them so far: past
	// that, the window is read in minutes.
	dayFrom, dayTo := ceilTo(from, ResDay), minTime(to, open.folded).Truncate(ResDay)
	if !dayTo.After(dayFrom) {
		dayFrom, dayTo = time.Time{}, time.Time{}
	}
	hourFrom, hourTo := ceilTo(from, ResHour), minTime(to, open.folded).Truncate(ResHour)
	if !hourTo.After(hourFrom) {
		hourFrom, hourTo = time.Time{}, time.Time{}
	}
	rows, err := s.q.RollupHeld(ctx, s.pool, dbsqlc.RollupHeldParams{
		SiteID: site.ID, DayFrom: dayFrom, DayTo: dayTo, HourFrom: hourFrom, HourTo: hourTo,
		MinuteFrom: from.Truncate(ResMinute), MinuteTo: ceilTo(to, ResMinute),
	})
	if err != nil {
		return u, fmt.Errorf("uptime of site %s: %w", site.Slug, err)
	}
	for _, r := range rows {
		ok, notok, pending := ms(r.OkMs), ms(r.NotokMs), ms(r.PendingMs)
		if r.Res == 60 {
			inside := overlap(r.At, r.At.Add(time.Minute), from, to)
			if inside < time.Minute {
				f := float64(inside) / float64(time.Minute)
				ok, notok, pending = scale(ok, f), scale(notok, f), scale(pending, f)
			}
		}
		u.OK += ok
		u.NotOK += notok
		u.Pending += pending
	}
	if found {
		u.add(open.state, overlap(open.from, open.to, from, to))
	}
	return u, nil
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

func scale(d time.Duration, f float64) time.Duration {
	return time.Duration(math.Round(float64(d) * f))
}

// Bucket is a site's record over one step of a series.
type Bucket struct {
	At     time.Time // start of the bucket
	Uptime           // time-weighted verdicts
	Probes int       // probes started in the bucket
	Timed  int       // of which got a response, so have timings
	// Percentiles of probes that got a response, from the rollups' log
	// histograms (within ±19 %, interpolated); zero without timed probes.
	LatencyP50, LatencyP95, LatencyMax time.Duration
	TTFBP50, TTFBP95, TTFBMax          time.Duration
	// Means of the phases of probes that got a response.
	DNS, Connect, TLS, TTFB, Latency time.Duration

	latencyHist, ttfbHist []int64
}

// Transfer is the mean time from first byte to the end of the body.
func (b Bucket) Transfer() time.Duration {
	if t := b.Latency - b.TTFB; t > 0 {
		return t
	}
	return 0
}

// ErrSeriesTooLong is returned when a series would read too many rollup
// rows: a smaller range or a larger step answers it.
var ErrSeriesTooLong = errors.New("range too long for the step")

// SeriesMaxRows bounds the rollup rows one series reads.
const SeriesMaxRows = 50000

// SeriesResolution is the rollup resolution a series with this step reads:
// the coarsest that divides the step.
func SeriesResolution(step time.Duration) time.Duration {
	switch {
	case step%ResDay == 0:
		return ResDay
	case step%ResHour == 0:
		return ResHour
	}
	return ResMinute
}

// SiteSeries returns a site's buckets of step from from (rounded down to the
// step's resolution) until to. step must be a positive whole number of
// minutes. Every bucket is returned, empty ones too.
func (s *Store) SiteSeries(ctx context.Context, site Site, from, to time.Time, step time.Duration) ([]Bucket, error) {
	if step < time.Minute || step%time.Minute != 0 {
		return nil, fmt.Errorf("series step %s: %w", step, errors.New("not a whole number of minutes"))
	}
	res := SeriesResolution(step)
	from, to = from.UTC().Truncate(res), ceilTo(to.UTC(), res)
	if !to.After(from) {
		return nil, nil
	}
	if int64(to.Sub(from)/res) > SeriesMaxRows {
		return nil, ErrSeriesTooLong
	}
	open, found, err := s.openSpan(ctx, site)
	if err != nil {
		return nil, err
	}
	// Hours and days hold only the minutes folded into them so far: the
	// buckets from the first one not wholly folded are read in minutes,
	// which the loop below adds up the same way.
	split := to
	if res > ResMinute {
		split = minTime(to, open.folded).Truncate(res)
		if split.Before(from) {
			split = from
		}
	}
	rows, err := s.q.RollupSeries(ctx, s.pool, dbsqlc.RollupSeriesParams{
		SiteID: site.ID, Res: int32(res / time.Second), FromAt: from, ToAt: split,
	})
	if err != nil {
		return nil, fmt.Errorf("series of site %s: %w", site.Slug, err)
	}
	if split.Before(to) {
		minutes, err := s.q.RollupSeries(ctx, s.pool, dbsqlc.RollupSeriesParams{
			SiteID: site.ID, Res: int32(ResMinute / time.Second), FromAt: split, ToAt: to,
		})
		if err != nil {
			return nil, fmt.Errorf("series of site %s: %w", site.Slug, err)
		}
		rows = append(rows, minutes...)
	}
	n := int((to.Sub(from) + step - 1) / step)
	out := make([]Bucket, n)
	sums := make([]struct{ dns, connect, tls, ttfb, latency int64 }, n)
	for i := range out {
		out[i].At = from.Add(time.Duration(i) * step)
	}
	for _, r := range rows {
		i := int(r.At.Sub(from) / step)
		if i < 0 || i >= n {
			continue
		}
		b := &out[i]
		b.OK += ms(r.OkMs)
		b.NotOK += ms(r.NotokMs)
		b.Pending += ms(r.PendingMs)
		b.Probes += int(r.Probes)
		b.Timed += int(r.Timed)
		sums[i].dns += r.DnsSum
		sums[i].connect += r.ConnectSum
		sums[i].tls += r.TlsSum
		sums[i].ttfb += r.TtfbSum
		sums[i].latency += r.LatencySum
		b.LatencyMax = max(b.LatencyMax, duration(r.LatencyMax))
		b.TTFBMax = max(b.TTFBMax, duration(r.TtfbMax))
		b.latencyHist = addHist(b.latencyHist, r.LatencyHist)
		b.ttfbHist = addHist(b.ttfbHist, r.TtfbHist)
	}
	for i := range out {
		b := &out[i]
		if found {
			b.add(open.state, overlap(open.from, open.to, b.At, b.At.Add(step)))
		}
		if b.Timed > 0 {
			t := int64(b.Timed)
			mean := func(sum int64) time.Duration { return time.Duration(sum/t) * time.Microsecond }
			b.DNS, b.Connect, b.TLS = mean(sums[i].dns), mean(sums[i].connect), mean(sums[i].tls)
			b.TTFB, b.Latency = mean(sums[i].ttfb), mean(sums[i].latency)
			b.LatencyP50 = histQuantile(b.latencyHist, 0.50, b.LatencyMax)
			b.LatencyP95 = histQuantile(b.latencyHist, 0.95, b.LatencyMax)
			b.TTFBP50 = histQuantile(b.ttfbHist, 0.50, b.TTFBMax)
			b.TTFBP95 = histQuantile(b.ttfbHist, 0.95, b.TTFBMax)
		}
		b.latencyHist, b.ttfbHist = nil, nil
	}
	return out, nil
}

// addHist adds a histogram in PostgreSQL's array text form, "{1,0,2}", to
// sum.
func addHist(sum []int64, h string) []int64 {
	if sum == nil {
		sum = make([]int64, histBuckets)
	}
	i := 0
	var v int64
	for j := 0; j < len(h); j++ {
		switch c := h[j]; {
		case c >= '0' && c <= '9':
			v = v*10 + int64(c-'0')
		case c == ',' || c == '}':
			if i < len(sum) {
				sum[i] += v
			}
			i, v = i+1, 0
		}
	}
	return sum
}

// histBuckets is the number of buckets of the rollups' histograms.
const histBuckets = 40

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

// Retention says how long history is kept.
type Retention struct {
	Raw     time.Duration // raw probes and minute rollups
	Rollups time.Duration // hour and day rollups
}

// RetentionResult counts what one pass of retention removed.
type RetentionResult struct {
	Partitions int
	Rollups    int64
}

// ApplyRetention drops the raw probe partitions wholly older than now minus
// r.Raw, with the minute rollups as old, and the hour and day rollups older
// than r.Rollups.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time, r Retention) (RetentionResult, error) {
	var res RetentionResult
	rawBefore := now.UTC().Add(-r.Raw)
	n, err := s.q.ProbePartitionsDrop(ctx, s.pool, pgDate(rawBefore))
	if err != nil {
		return res, fmt.Errorf("drop old probe partitions: %w", err)
	}
	res.Partitions = int(n)
	for _, lvl := range []struct {
		res    time.Duration
		before time.Time
	}{
		{ResMinute, rawBefore},
		{ResHour, now.UTC().Add(-r.Rollups)},
		{ResDay, now.UTC().Add(-r.Rollups)},
	} {
		d, err := s.q.RollupDeleteBefore(ctx, s.pool, dbsqlc.RollupDeleteBeforeParams{
			Res: int32(lvl.res / time.Second), Before: lvl.before,
		})
		if err != nil {
			return res, fmt.Errorf("delete old rollups: %w", err)
		}
		res.Rollups += d
	}
	return res, nil
}

// minTime is the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// RollupFold folds finished minute rollups into hour and day rows, a
// thousand sites a statement, until none is left; it returns how many sites
// it folded. serve runs it every few seconds; readers are exact whether or
// not it has run, it only makes long windows cheap.
func (s *Store) RollupFold(ctx context.Context) (int, error) {
	const perStatement = 1000
	total := 0
	for {
		n, err := s.q.RollupFold(ctx, s.pool, perStatement)
		if err != nil {
			return total, fmt.Errorf("fold rollups: %w", err)
		}
		total += int(n)
		if n < perStatement {
			return total, nil
		}
	}
}
