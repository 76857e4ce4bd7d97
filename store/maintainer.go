package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// MaintainerOptions tunes a Maintainer; zero values take the defaults.
type MaintainerOptions struct {
	// RawRetention is how long every probe is kept: as rows for today and
	// yesterday, then packed in probe_blocks. Default 90 days.
	RawRetention time.Duration
	// HistoryRetention is how long hourly history (uptime, counts,
	// timings, histograms) and transitions are kept. Default 400 days, and
	// never less than RawRetention.
	HistoryRetention time.Duration
	// Budget is the most the database should take, in bytes; 0 is no
	// budget. Past it, each pass drops the oldest day of packed probes,
	// then the oldest month of hourly history, until under it. Probes are
	// never refused.
	Budget int64
	// NotificationRetention is how long delivered notifications are kept;
	// default 28 days.
	NotificationRetention time.Duration
	Now                   func() time.Time // default time.Now
	Every                 time.Duration    // between passes; default a minute
	// PassTimeout bounds a pass; default 5 minutes. Each step also runs
	// with a short lock_timeout, so that a DROP never waits behind a long
	// transaction with the writer queued behind the DROP.
	PassTimeout time.Duration
	// LockTimeout is each step's lock_timeout; default 2s.
	LockTimeout time.Duration
	// Holding, when set, is the hour of the oldest probe this process has
	// yet to write (Writer.OldestHeld; zero when none). Compaction stops
	// before it, so that a backlog written after a long outage counts in
	// history rather than arriving late behind an hour compacted idle.
	Holding func() time.Time
	// PassedFunc, when set, is called after each pass of Run.
	PassedFunc func(MaintainResult, error)
}

// MaintainResult counts what one pass did.
type MaintainResult struct {
	PartitionsCreated    int
	HoursCompacted       int
	HoursPacked          int // of an upgraded database, packed into blocks
	ProbesCompacted      int64
	RawDaysDropped       int
	DetailDaysDropped    int // days of probe_blocks dropped, budget included
	HistoryMonthsDropped int // months of history_hours dropped, budget included
	BudgetDrops          int // of the two above, how many the budget asked for
	TransitionsPruned    int64
	NotificationsPruned  int64
	DatabaseSize         int64 // after the pass
	// CompactedUntil is the oldest site's history cursor after the pass:
	// every site's history before it is compacted. Zero when no site has
	// one yet, and when the pass skipped.
	CompactedUntil time.Time
	// Skipped is set when another instance held the maintenance lock.
	Skipped bool
}

// Maintainer is the store's background work, one pass at a time: it makes
// partitions ahead, compacts finished hours, drops raw partitions once
// compacted, applies retention and the budget, and prunes transitions and
// delivered notifications. Instances sharing a database take turns through
// an advisory lock.
type Maintainer struct {
	st     *Store
	logger *slog.Logger
	opts   MaintainerOptions
}

// NewMaintainer returns a Maintainer; call Run, or RunOnce for one pass.
func NewMaintainer(st *Store, logger *slog.Logger, opts MaintainerOptions) *Maintainer {
	if opts.RawRetention <= 0 {
		opts.RawRetention = DefaultRawRetention
	}
	if opts.HistoryRetention <= 0 {
		opts.HistoryRetention = HistoryRetention
	}
	opts.HistoryRetention = max(opts.HistoryRetention, opts.RawRetention)
	if opts.NotificationRetention <= 0 {
		opts.NotificationRetention = 28 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	if opts.PassTimeout <= 0 {
		opts.PassTimeout = 5 * time.Minute
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 2 * time.Second
	}
	return &Maintainer{st: st, logger: logger, opts: opts}
}

// Run makes a pass at once and then every Every until ctx ends.
func (m *Maintainer) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.Every)
	defer t.Stop()
	failing := false
	for {
		res, err := m.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				m.logger.ErrorContext(ctx, "maintain the database", "error", err)
			}
			failing = true
		case err == nil:
			failing = false
		}
		if res.PartitionsCreated > 0 || res.RawDaysDropped > 0 || res.DetailDaysDropped > 0 ||
			res.HistoryMonthsDropped > 0 || res.TransitionsPruned > 0 || res.NotificationsPruned > 0 {
			m.logger.InfoContext(ctx, "maintained the database",
				"partitions_created", res.PartitionsCreated, "hours_compacted", res.HoursCompacted,
				"raw_days_dropped", res.RawDaysDropped, "detail_days_dropped", res.DetailDaysDropped,
				"history_months_dropped", res.HistoryMonthsDropped, "budget_drops", res.BudgetDrops,
				"transitions_pruned", res.TransitionsPruned, "notifications_pruned", res.NotificationsPruned,
				"database_bytes", res.DatabaseSize)
		}
		if m.opts.PassedFunc != nil {
			m.opts.PassedFunc(res, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errLocked means another instance holds the maintenance lock.
var errLocked = errors.New("maintenance lock held by another instance")

// RunOnce makes one pass. A step that fails does not stop the later ones;
// the errors are joined.
func (m *Maintainer) RunOnce(ctx context.Context) (MaintainResult, error) {
	ctx, cancel := context.WithTimeout(ctx, m.opts.PassTimeout)
	defer cancel()
	now := m.opts.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	var res MaintainResult
	var errs []error
	step := func(name string, fn func(pgx.Tx) error) bool {
		err := m.tx(ctx, fn)
		if errors.Is(err, errLocked) {
			res.Skipped = true
			return false
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return false
		}
		return true
	}
	q := m.st.q

	step("create partitions", func(tx pgx.Tx) error {
		n, err := q.ProbePartitionsEnsure(ctx, tx, dbsqlc.ProbePartitionsEnsureParams{DayFrom: pgDate(today.Add(-24 * time.Hour)), Days: 9})
		if err != nil {
			return err
		}
		k, err := q.HistoryPartitionsEnsure(ctx, tx, dbsqlc.HistoryPartitionsEnsureParams{DayFrom: pgDate(today.Add(-24 * time.Hour)), Days: 9})
		res.PartitionsCreated = int(n + k)
		return err
	})
	if res.Skipped {
		return res, errors.Join(errs...)
	}

	var hold time.Time
	if m.opts.Holding != nil {
		hold = m.opts.Holding()
	}
	c, err := m.st.compact(ctx, now, hold, m.tx)
	res.HoursCompacted, res.ProbesCompacted = c.Hours, c.Probes
	if err != nil && !errors.Is(err, errLocked) {
		errs = append(errs, err)
	}
	res.HoursPacked, err = m.st.pack(ctx, m.tx)
	if err != nil && !errors.Is(err, errLocked) {
		errs = append(errs, err)
	}

	// Raw days go once every site's cursor is past them, and never today's
	// or yesterday's: the hot window that recent windows and the probe list
	// read row by row.
	step("drop raw partitions", func(tx pgx.Tx) error {
		oldest, err := q.HistoryCursorOldest(ctx, tx)
		if err != nil || len(oldest) == 0 {
			return err
		}
		res.CompactedUntil = oldest[0].UTC()
		before := minTime(today.Add(-24*time.Hour), oldest[0].UTC().Truncate(24*time.Hour))
		// and not before an upgraded database's raw probes are packed
		unpacked, err := q.HistoryPackList(ctx, tx)
		if err != nil {
			return err
		}
		for _, u := range unpacked {
			before = minTime(before, u.PackFrom.UTC().Truncate(24*time.Hour))
		}
		n, err := q.ProbePartitionsDrop(ctx, tx, pgDate(before))
		res.RawDaysDropped = int(n)
		return err
	})
	step("apply retention", func(tx pgx.Tx) error {
		n, err := q.HistoryPartitionsDrop(ctx, tx, dbsqlc.HistoryPartitionsDropParams{
			Parent: "probe_blocks", Before: now.Add(-m.opts.RawRetention), Max: math.MaxInt32,
		})
		if err != nil {
			return err
		}
		res.DetailDaysDropped += int(n)
		n, err = q.HistoryPartitionsDrop(ctx, tx, dbsqlc.HistoryPartitionsDropParams{
			Parent: "history_hours", Before: now.Add(-m.opts.HistoryRetention), Max: math.MaxInt32,
		})
		res.HistoryMonthsDropped += int(n)
		return err
	})
	step("prune transitions", func(tx pgx.Tx) error {
		n, err := q.TransitionPrune(ctx, tx, now.Add(-m.opts.HistoryRetention))
		res.TransitionsPruned = n
		return err
	})
	step("prune notifications", func(tx pgx.Tx) error {
		before := now.Add(-m.opts.NotificationRetention)
		n, err := q.NotificationPrune(ctx, tx, &before)
		res.NotificationsPruned = n
		return err
	})
	var size int64
	known := false
	if m.opts.Budget > 0 {
		size, known = m.trim(ctx, today, &res, step)
	}
	if !known {
		var err error
		if size, err = m.st.DatabaseSize(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	res.DatabaseSize = size
	return res, errors.Join(errs...)
}

// trim drops the oldest day of packed probes, or when none is left before
// yesterday the oldest month of hourly history before this one, until the
// database is within the budget. It returns the size it read last, and
// whether nothing has been dropped since: the size after the pass.
func (m *Maintainer) trim(ctx context.Context, today time.Time, res *MaintainResult, step func(string, func(pgx.Tx) error) bool) (int64, bool) {
	q := m.st.q
	for {
		size, err := m.st.DatabaseSize(ctx)
		if err != nil {
			return 0, false
		}
		if size <= m.opts.Budget {
			return size, true
		}
		dropped := false
		ok := step("trim to the budget", func(tx pgx.Tx) error {
			day, err := q.ProbeBlockOldestDay(ctx, tx)
			if err != nil {
				return err
			}
			if day.Valid && day.Time.Before(today.Add(-24*time.Hour)) {
				n, err := q.HistoryPartitionsDrop(ctx, tx, dbsqlc.HistoryPartitionsDropParams{
					Parent: "probe_blocks", Before: day.Time.Add(24 * time.Hour), Max: 1,
				})
				res.DetailDaysDropped += int(n)
				res.BudgetDrops += int(n)
				dropped = n > 0
				return err
			}
			month, err := q.HistoryHourOldestMonth(ctx, tx)
			if err != nil {
				return err
			}
			thisMonth := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
			if month.Valid && month.Time.Before(thisMonth) {
				n, err := q.HistoryPartitionsDrop(ctx, tx, dbsqlc.HistoryPartitionsDropParams{
					Parent: "history_hours", Before: month.Time.AddDate(0, 1, 0), Max: 1,
				})
				res.HistoryMonthsDropped += int(n)
				res.BudgetDrops += int(n)
				dropped = n > 0
				return err
			}
			return nil
		})
		if !ok || !dropped {
			if ok {
				m.logger.WarnContext(ctx, "database over its budget with nothing left to trim",
					"database_bytes", size, "budget_bytes", m.opts.Budget)
			}
			return size, !dropped
		}
	}
}

// tx runs fn in a transaction with the maintenance lock, a lock_timeout and
// a statement_timeout up to ctx's deadline. It returns errLocked when
// another instance holds the lock.
func (m *Maintainer) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := m.st.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	stmt := int64(math.MaxInt32)
	if d, ok := ctx.Deadline(); ok {
		stmt = max(time.Until(d).Milliseconds(), 1)
	}
	if err := m.st.q.MaintenanceTimeouts(ctx, tx, dbsqlc.MaintenanceTimeoutsParams{
		LockMs: int32(m.opts.LockTimeout.Milliseconds()), StatementMs: int32(min(stmt, math.MaxInt32)),
	}); err != nil {
		return fmt.Errorf("set timeouts: %w", err)
	}
	locked, err := m.st.q.MaintenanceLock(ctx, tx)
	if err != nil {
		return fmt.Errorf("take the maintenance lock: %w", err)
	}
	if !locked {
		return errLocked
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Compact packs every hour finished at now, and the raw probes of an
// upgraded database's converted hours, as a maintenance pass does; tests
// and tools call it to read compacted history without the rest of a pass.
func (s *Store) Compact(ctx context.Context, now time.Time) (CompactResult, error) {
	m := NewMaintainer(s, slog.New(slog.DiscardHandler), MaintainerOptions{})
	res, err := s.compact(ctx, now, time.Time{}, m.tx)
	if err != nil {
		return res, err
	}
	_, err = s.pack(ctx, m.tx)
	return res, err
}
