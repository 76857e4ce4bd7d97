package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// Probe is one check of one site, as written to the probes table.
type Probe struct {
	SiteID int32
	// Slug is the site's, set by the checker for what reads probes on
	// their way to the writer (the metrics' labels). It is not stored:
	// rows key by SiteID, and probes read back leave it empty.
	Slug       string
	At         time.Time // when the probe started
	State      State
	HTTPStatus int // 0 when the request never got a response
	Latency    time.Duration
	TTFB       time.Duration
	DNS        time.Duration
	Connect    time.Duration
	TLS        time.Duration
	Reason     string
}

// Answered reports whether the probe got an answer, so its timings count
// in latency charts and percentiles: an HTTP response, or for a tcp:// or
// tls:// site (HTTPStatus 0 always) a connection made, which such a probe
// marks with a TTFB (the whole connect and handshake). A transport failure
// has neither.
func (p Probe) Answered() bool { return p.HTTPStatus != 0 || p.TTFB > 0 }

// micros stores a duration as whole microseconds in an int32, clamped: the
// column holds up to about 35 minutes, far beyond any timeout.
func micros(d time.Duration) int32 {
	us := d.Microseconds()
	switch {
	case us < 0:
		return 0
	case us > 1<<31-1:
		return 1<<31 - 1
	}
	return int32(us)
}

func duration(us int32) time.Duration { return time.Duration(us) * time.Microsecond }

// ProbeListBySite returns a site's newest probes, newest first: raw ones
// from the history cursor on, then those packed in blocks before it. Raw
// probes are looked for back from the site's latest probe over a little more
// than limit intervals, then a day, a week and all of them, so that the
// common case reads a few pages.
func (s *Store) ProbeListBySite(ctx context.Context, site Site, limit int) ([]Probe, error) {
	if site.CheckedAt == nil {
		return nil, nil
	}
	until, _, _, err := s.historyCursor(ctx, site)
	if err != nil {
		return nil, err
	}
	var rows []dbsqlc.ProbeListBySiteRow
	for _, back := range []time.Duration{2*time.Duration(limit)*site.Interval + time.Minute, 24 * time.Hour, 7 * 24 * time.Hour, 0} {
		since := until
		if back > 0 {
			since = maxTime(since, site.CheckedAt.Add(-back))
		}
		rows, err = s.q.ProbeListBySite(ctx, s.pool, dbsqlc.ProbeListBySiteParams{SiteID: site.ID, Since: since, Max: int32(limit)})
		if err != nil {
			return nil, fmt.Errorf("list probes of site %s: %w", site.Slug, err)
		}
		if len(rows) >= limit || !since.After(until) {
			break
		}
	}
	out := make([]Probe, 0, limit)
	for _, r := range rows {
		out = append(out, probeFromRow(site.ID, dbsqlc.ProbeListBySiteBeforeRow(r)))
	}
	before := until
	for len(out) < limit && !before.IsZero() {
		blocks, err := s.q.ProbeBlockListBefore(ctx, s.pool, dbsqlc.ProbeBlockListBeforeParams{SiteID: site.ID, Before: before, Max: 8})
		if err != nil {
			return nil, fmt.Errorf("list probes of site %s: %w", site.Slug, err)
		}
		if len(blocks) == 0 {
			break
		}
		for _, r := range blocks {
			b, err := decodeBlock(r.At, r.Block)
			if err != nil {
				return nil, fmt.Errorf("list probes of site %s: %w", site.Slug, err)
			}
			for i := len(b.probes) - 1; i >= 0 && len(out) < limit; i-- {
				out = append(out, b.probes[i].probe(site.ID))
			}
			before = r.At
		}
	}
	// Hours of an upgraded database not packed yet are still raw probes.
	if len(out) < limit && !before.IsZero() {
		rows, err := s.q.ProbeListBySiteBefore(ctx, s.pool, dbsqlc.ProbeListBySiteBeforeParams{SiteID: site.ID, Before: before, Max: int32(limit - len(out))})
		if err != nil {
			return nil, fmt.Errorf("list probes of site %s: %w", site.Slug, err)
		}
		for _, r := range rows {
			out = append(out, probeFromRow(site.ID, r))
		}
	}
	return out, nil
}

func probeFromRow(siteID int32, r dbsqlc.ProbeListBySiteBeforeRow) Probe {
	return Probe{
		SiteID:     siteID,
		At:         r.At,
		State:      State(r.State),
		HTTPStatus: int(r.HttpStatus),
		Latency:    duration(r.LatencyUs),
		TTFB:       duration(r.TtfbUs),
		DNS:        duration(r.DnsUs),
		Connect:    duration(r.ConnectUs),
		TLS:        duration(r.TlsUs),
		Reason:     r.Reason,
	}
}

// ProbePartitionsEnsure creates the daily probe partitions from the day of
// from for days days, returning how many it created.
func (s *Store) ProbePartitionsEnsure(ctx context.Context, from time.Time, days int) (int, error) {
	n, err := s.q.ProbePartitionsEnsure(ctx, s.pool, dbsqlc.ProbePartitionsEnsureParams{
		DayFrom: pgDate(from), Days: int32(days),
	})
	if err != nil {
		return 0, fmt.Errorf("create probe partitions: %w", err)
	}
	return int(n), nil
}

// Change is a transition as the writer logs it.
type Change struct {
	Slug   string
	At     time.Time
	From   State
	To     State
	Reason string
}

// WriteProbes writes a batch of probes and, in the same statement, advances
// each site's state machine in SQL, recording every transition exactly
// once. It returns how many transitions
// the batch caused.
func (s *Store) WriteProbes(ctx context.Context, batch []Probe) (int, error) {
	return s.writeProbes(ctx, batch, nil)
}

// serverDeadlineMargin is how long after a write's deadline the server
// ends a statement the client gave up on.
const serverDeadlineMargin = time.Second

// writeProbes is WriteProbes; when changes is not nil, the batch's
// transitions are appended to it. A deadline on ctx bounds the transaction's
// statements on the server too.
func (s *Store) writeProbes(ctx context.Context, batch []Probe, changes *[]Change) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	batch = cleanProbes(batch)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("write %d probes: begin: %w", len(batch), err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if deadline, ok := ctx.Deadline(); ok {
		// The server's own deadline, a little after the client's: the
		// client gives up first and reports a timeout, and a statement it
		// could not cancel ends soon after on the server anyway.
		ms := (time.Until(deadline) + serverDeadlineMargin).Milliseconds()
		if err := s.q.ProbeWriteDeadline(ctx, tx, int32(min(max(ms, 1), math.MaxInt32))); err != nil {
			return 0, fmt.Errorf("write %d probes: set deadline: %w", len(batch), err)
		}
	}

	// The batch leaves Go once, as parallel arrays: one statement writes
	// the probes and runs the state machine (walnut_write_probes, 00008).
	w := dbsqlc.ProbeWriteParams{
		SiteIds:   make([]int32, len(batch)),
		Ats:       make([]time.Time, len(batch)),
		States:    make([]string, len(batch)),
		Statuses:  make([]int16, len(batch)),
		Latencies: make([]int32, len(batch)),
		Ttfbs:     make([]int32, len(batch)),
		Dnss:      make([]int32, len(batch)),
		Connects:  make([]int32, len(batch)),
		Tlss:      make([]int32, len(batch)),
		Reasons:   make([]string, len(batch)),
	}
	for i, p := range batch {
		w.SiteIds[i] = p.SiteID
		w.Ats[i] = p.At
		w.States[i] = string(p.State)
		w.Statuses[i] = int16(p.HTTPStatus)
		w.Latencies[i] = micros(p.Latency)
		w.Ttfbs[i] = micros(p.TTFB)
		w.Dnss[i] = micros(p.DNS)
		w.Connects[i] = micros(p.Connect)
		w.Tlss[i] = micros(p.TLS)
		w.Reasons[i] = p.Reason
	}
	n, err := s.q.ProbeWrite(ctx, tx, w)
	if err != nil {
		return 0, fmt.Errorf("write %d probes: %w", len(batch), err)
	}
	if n > 0 && changes != nil {
		since := batch[0].At
		for _, p := range batch {
			if p.At.Before(since) {
				since = p.At
			}
		}
		rows, err := s.q.TransitionListThisTx(ctx, tx, dbsqlc.TransitionListThisTxParams{SiteIds: w.SiteIds, Since: since})
		if err != nil {
			return 0, fmt.Errorf("write %d probes: read transitions: %w", len(batch), err)
		}
		for _, r := range rows {
			*changes = append(*changes, Change{Slug: r.Slug, At: r.At, From: State(r.FromState), To: State(r.ToState), Reason: r.Reason})
		}
	}
	if n > 0 {
		// Notifications commit with the transitions that caused them.
		if err := s.enqueueNotifyTx(ctx, tx); err != nil {
			return 0, fmt.Errorf("write %d probes: enqueue notifications: %w", len(batch), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, &commitError{fmt.Errorf("write %d probes: commit: %w", len(batch), err)}
	}
	return int(n), nil
}

// commitError is a write whose COMMIT failed without an answer from the
// server (a deadline, a dropped connection): the batch may have been
// written all the same.
type commitError struct{ err error }

func (e *commitError) Error() string { return e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// probeStored reports whether p is in the database.
func (s *Store) probeStored(ctx context.Context, p Probe) (bool, error) {
	ok, err := s.q.ProbeExists(ctx, s.pool, dbsqlc.ProbeExistsParams{SiteID: p.SiteID, At: p.At})
	if err != nil {
		return false, fmt.Errorf("look for a probe of site %d at %s: %w", p.SiteID, p.At.Format(time.RFC3339Nano), err)
	}
	return ok, nil
}

// Uptime is a site's time-weighted record over a window.
type Uptime struct {
	OK, NotOK, Pending time.Duration
}

// Ratio is ok time over time with a verdict of ok or notok; pending time is
// outside it. It is nil when there is no such time.
func (u Uptime) Ratio() *float64 {
	total := u.OK + u.NotOK
	if total <= 0 {
		return nil
	}
	r := float64(u.OK) / float64(total)
	return &r
}

// ProbeUptime weighs each probe's verdict by the time it held, until the next
// probe but at most two intervals, within [from, to). It reads raw probes, so
// it sees no further back than their retention.
func (s *Store) ProbeUptime(ctx context.Context, siteID int32, interval time.Duration, from, to time.Time) (Uptime, error) {
	r, err := s.q.ProbeUptime(ctx, s.pool, dbsqlc.ProbeUptimeParams{
		SiteID: siteID, WindowFrom: from, WindowTo: to, MaxGapSeconds: 2 * interval.Seconds(),
	})
	if err != nil {
		return Uptime{}, fmt.Errorf("uptime of site %d: %w", siteID, err)
	}
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	return Uptime{OK: sec(r.OkSeconds), NotOK: sec(r.NotokSeconds), Pending: sec(r.PendingSeconds)}, nil
}
