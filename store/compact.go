package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// idleAfter is how long after an hour ends it is compacted even though no
// later probe of the site has arrived (a retired or paused site): a probe
// of that hour arriving later still is kept raw but counts as late.
const idleAfter = time.Hour

// compactSites is how many sites share one compaction transaction, and a
// day the most of each site's history one transaction compacts.
const (
	compactSites = 100
	compactSpan  = 24 * time.Hour
)

// compactTarget is one site's part of a compaction transaction.
type compactTarget struct {
	id       int32
	interval time.Duration
	carry    carry
	has      bool // the site has a cursor row
}

// CompactResult counts what compaction did.
type CompactResult struct {
	Hours  int
	Probes int64
}

// compact packs every site's finished hours, a day of each site per round,
// until every cursor has caught up.
func (s *Store) compact(ctx context.Context, now, hold time.Time, tx func(ctx context.Context, fn func(pgx.Tx) error) error) (CompactResult, error) {
	var res CompactResult
	for {
		r, moved, err := s.compactRound(ctx, now, hold, tx)
		res.Hours += r.Hours
		res.Probes += r.Probes
		if err != nil || !moved {
			return res, err
		}
	}
}

// compactRound packs every site's finished hours into history_hours and
// probe_blocks and moves its cursor past them. An hour is finished once a
// probe after it has been written (any probe of it arriving later is late)
// or idleAfter has passed since it ended, and it is before hold, the hour
// of the oldest probe still to be written (zero: none). Each transaction
// takes up to compactSites sites and a day of each; it runs tx, which sets
// its timeouts and takes the maintenance lock.
func (s *Store) compactRound(ctx context.Context, now, hold time.Time, tx func(ctx context.Context, fn func(pgx.Tx) error) error) (CompactResult, bool, error) {
	var res CompactResult
	sites, err := s.q.HistoryCompactSites(ctx, s.pool)
	if err != nil {
		return res, false, fmt.Errorf("list sites to compact: %w", err)
	}
	type span struct{ from, to time.Time }
	groups := map[span][]compactTarget{}
	idle := now.UTC().Add(-idleAfter).Truncate(time.Hour)
	for _, r := range sites {
		limit := idle
		if r.CheckedAt != nil {
			limit = maxTime(limit, r.CheckedAt.UTC().Truncate(time.Hour))
		}
		if !hold.IsZero() {
			limit = minTime(limit, hold.UTC().Truncate(time.Hour))
		}
		t := compactTarget{id: r.ID, interval: time.Duration(r.IntervalMs) * time.Millisecond}
		var from time.Time
		if r.CompactedUntil != nil {
			from, t.has = r.CompactedUntil.UTC(), true
			if r.CarryAt != nil && r.CarryState != "" {
				t.carry = carry{at: r.CarryAt.UnixMicro(), state: State(r.CarryState), ok: true}
			}
		} else {
			oldest, err := s.q.ProbeOldest(ctx, s.pool, r.ID)
			if err != nil {
				return res, false, fmt.Errorf("oldest probe of site %d: %w", r.ID, err)
			}
			from = limit
			if len(oldest) > 0 {
				from = minTime(limit, oldest[0].UTC().Truncate(time.Hour))
			}
		}
		if t.has && !limit.After(from) {
			continue
		}
		to := maxTime(from, minTime(limit, from.Truncate(24*time.Hour).Add(compactSpan)))
		groups[span{from, to}] = append(groups[span{from, to}], t)
	}
	spans := make([]span, 0, len(groups))
	for sp := range groups {
		spans = append(spans, sp)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	if len(spans) > 0 {
		first, last := spans[0].from, spans[0].to
		for _, sp := range spans {
			last = maxTime(last, sp.to)
		}
		days := int(last.Truncate(24*time.Hour).Sub(first.Truncate(24*time.Hour))/(24*time.Hour)) + 1
		err := tx(ctx, func(tx pgx.Tx) error {
			_, err := s.q.HistoryPartitionsEnsure(ctx, tx, dbsqlc.HistoryPartitionsEnsureParams{DayFrom: pgDate(first), Days: int32(days)})
			return err
		})
		if err != nil {
			return res, false, fmt.Errorf("create history partitions: %w", err)
		}
	}
	for _, sp := range spans {
		targets := groups[sp]
		for len(targets) > 0 {
			chunk := targets[:min(len(targets), compactSites)]
			targets = targets[len(chunk):]
			var done CompactResult
			err := tx(ctx, func(tx pgx.Tx) error {
				var err error
				done, err = s.compactChunk(ctx, tx, chunk, sp.from, sp.to)
				return err
			})
			if err != nil {
				return res, false, fmt.Errorf("compact %d sites from %s: %w", len(chunk), sp.from.Format(time.RFC3339), err)
			}
			res.Hours += done.Hours
			res.Probes += done.Probes
		}
	}
	return res, len(spans) > 0, nil
}

var errCursorMoved = errors.New("history cursor moved under compaction")

func (s *Store) compactChunk(ctx context.Context, tx pgx.Tx, chunk []compactTarget, from, to time.Time) (CompactResult, error) {
	var res CompactResult
	ids := make([]int32, len(chunk))
	for i, t := range chunk {
		ids[i] = t.id
	}
	locked, err := s.q.HistoryCursorLock(ctx, tx, ids)
	if err != nil {
		return res, fmt.Errorf("lock cursors: %w", err)
	}
	has := 0
	for _, t := range chunk {
		if t.has {
			has++
		}
	}
	for _, l := range locked {
		if !l.CompactedUntil.Equal(from) {
			return res, errCursorMoved
		}
	}
	if len(locked) != has {
		return res, errCursorMoved
	}
	rows, err := s.q.ProbeListRange(ctx, tx, dbsqlc.ProbeListRangeParams{SiteIds: ids, FromAt: from, ToAt: to})
	if err != nil {
		return res, fmt.Errorf("read probes: %w", err)
	}
	bySite := map[int32][]histProbe{}
	for _, r := range rows {
		bySite[r.SiteID] = append(bySite[r.SiteID], histProbeFromRow(r))
	}
	var hours []dbsqlc.HistoryHourInsertParams
	var blocks []dbsqlc.ProbeBlockInsertParams
	cur := dbsqlc.HistoryCursorSetParams{
		SiteIds: ids, Untils: make([]time.Time, len(chunk)),
		CarryAts: make([]time.Time, len(chunk)), CarryStates: make([]string, len(chunk)),
	}
	for i, t := range chunk {
		probes := bySite[t.id]
		res.Probes += int64(len(probes))
		c := compactHours(t.carry, probes, t.interval, micro(from), micro(to), func(hour int64, a *agg, b block) {
			at := time.UnixMicro(hour).UTC()
			hours = append(hours, dbsqlc.HistoryHourInsertParams{
				At: at, SiteID: t.id,
				OkMs: msOf(a.held.ok), NotokMs: msOf(a.held.notok), PendingMs: msOf(a.held.pending),
				Probes: int32(a.probes), Timed: int32(a.timed),
				LatencySum: a.latencySum, TtfbSum: a.ttfbSum, DnsSum: a.dnsSum,
				ConnectSum: a.connectSum, TlsSum: a.tlsSum,
				LatencyMax: a.latencyMax, TtfbMax: a.ttfbMax, Hist: a.encodeHist(),
			})
			blocks = append(blocks, blockRow(t.id, b))
		})
		cur.Untils[i] = to
		cur.CarryAts[i] = to
		if c.ok {
			cur.CarryAts[i], cur.CarryStates[i] = time.UnixMicro(c.at).UTC(), string(c.state)
		}
	}
	if len(hours) > 0 {
		if _, err := s.q.HistoryHourInsert(ctx, tx, hours); err != nil {
			return res, fmt.Errorf("write hours: %w", err)
		}
		if _, err := s.q.ProbeBlockInsert(ctx, tx, blocks); err != nil {
			return res, fmt.Errorf("write blocks: %w", err)
		}
	}
	if err := s.q.HistoryCursorSet(ctx, tx, cur); err != nil {
		return res, fmt.Errorf("move cursors: %w", err)
	}
	res.Hours = len(hours)
	return res, nil
}

// msOf rounds microseconds to the milliseconds history_hours keeps.
func msOf(us int64) int32 {
	return int32(min((us+500)/1000, math.MaxInt32))
}

// pack packs into blocks the raw probes of hours whose rows an upgrade
// converted from the rollups of 00003 (history_cursor.pack_from to
// pack_to), a day of a site per transaction, until none is left. It writes
// no hour rows: the converted ones hold what the rollups held.
func (s *Store) pack(ctx context.Context, tx func(ctx context.Context, fn func(pgx.Tx) error) error) (int, error) {
	packed := 0
	for {
		todo, err := s.q.HistoryPackList(ctx, s.pool)
		if err != nil {
			return packed, fmt.Errorf("list hours to pack: %w", err)
		}
		if len(todo) == 0 {
			return packed, nil
		}
		for _, r := range todo {
			from, to := r.PackFrom.UTC(), minTime(r.PackTo.UTC(), r.PackFrom.UTC().Truncate(24*time.Hour).Add(compactSpan))
			interval := time.Duration(r.IntervalMs) * time.Millisecond
			err := tx(ctx, func(tx pgx.Tx) error {
				if _, err := s.q.HistoryPartitionsEnsure(ctx, tx, dbsqlc.HistoryPartitionsEnsureParams{DayFrom: pgDate(from), Days: 1}); err != nil {
					return fmt.Errorf("create partitions: %w", err)
				}
				rows, err := s.q.ProbeListRange(ctx, tx, dbsqlc.ProbeListRangeParams{SiteIds: []int32{r.SiteID}, FromAt: from.Add(-2 * interval), ToAt: to})
				if err != nil {
					return fmt.Errorf("read probes: %w", err)
				}
				var c carry
				var probes []histProbe
				for _, row := range rows {
					p := histProbeFromRow(row)
					if p.at < micro(from) {
						c = lastCarry(c, []histProbe{p})
						continue
					}
					probes = append(probes, p)
				}
				var blocks []dbsqlc.ProbeBlockInsertParams
				compactHours(c, probes, interval, micro(from), micro(to), func(_ int64, _ *agg, b block) {
					blocks = append(blocks, blockRow(r.SiteID, b))
				})
				if _, err := s.q.ProbeBlockInsert(ctx, tx, blocks); err != nil {
					return fmt.Errorf("write blocks: %w", err)
				}
				packed += len(blocks)
				return s.q.HistoryPackSet(ctx, tx, dbsqlc.HistoryPackSetParams{SiteID: r.SiteID, PackedTo: to})
			})
			if err != nil {
				return packed, fmt.Errorf("pack the hours of site %d from %s: %w", r.SiteID, from.Format(time.RFC3339), err)
			}
		}
	}
}
