package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// Roster sources: where a shift came from.
const (
	RosterCSV       = "csv"
	RosterPagerDuty = "pagerduty"
)

// Shift is one line of the support roster: Person is on support from Start
// to End, both whole days and both inclusive. Days are midnight UTC values
// standing for calendar dates.
type Shift struct {
	Start   time.Time
	End     time.Time
	Person  string
	Contact string
}

// RosterSync is how a synced roster source last went.
type RosterSync struct {
	Source string
	// SyncedAt is the latest good sync; nil before the first. From and To
	// are the days it covered (midnight UTC values, as Shift's).
	SyncedAt    *time.Time
	From, To    time.Time
	AttemptedAt time.Time
	// Error is why the latest attempt failed; "" when it did not.
	Error string
}

// RosterReplace makes the CSV part of the roster exactly shifts, in one
// transaction: the import file is its source of truth, so nothing is
// merged. Names and contacts are stored as cleanText makes them (the
// importer reports unreadable fields by line before this). Shifts a sync wrote (PagerDuty) stay, and the days of the latest
// sync stay the sync's: CSV shifts are cut out of them (see RosterSyncReplace).
func (s *Store) RosterReplace(ctx context.Context, shifts []Shift) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("replace roster: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := s.q.RosterDeleteSource(ctx, tx, RosterCSV); err != nil {
		return fmt.Errorf("replace roster: delete: %w", err)
	}
	if err := s.insertShifts(ctx, tx, RosterCSV, shifts); err != nil {
		return fmt.Errorf("replace roster: %w", err)
	}
	syncs, err := s.q.RosterSyncList(ctx, tx)
	if err != nil {
		return fmt.Errorf("replace roster: read syncs: %w", err)
	}
	for _, sy := range syncs {
		if sy.SyncedAt != nil && sy.DayFrom.Valid && sy.DayTo.Valid {
			if err := s.cutCSV(ctx, tx, sy.DayFrom, sy.DayTo); err != nil {
				return fmt.Errorf("replace roster: %w", err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("replace roster: commit: %w", err)
	}
	return nil
}

func (s *Store) insertShifts(ctx context.Context, tx pgx.Tx, source string, shifts []Shift) error {
	for i, sh := range shifts {
		err := s.q.RosterInsertFrom(ctx, tx, dbsqlc.RosterInsertFromParams{
			StartDay: pgDate(sh.Start), EndDay: pgDate(sh.End),
			Person: cleanName(sh.Person), Contact: cleanName(sh.Contact), Source: source,
		})
		if err != nil {
			return fmt.Errorf("shift %d (%.40q): %w", i+1, sh.Person, err)
		}
	}
	return nil
}

// cutCSV takes the days from..to out of the CSV shifts: a shift around them
// is split in two, one overlapping an end is shortened, one within is
// dropped.
func (s *Store) cutCSV(ctx context.Context, tx pgx.Tx, from, to pgtype.Date) error {
	if err := s.q.RosterCSVSplitAround(ctx, tx, dbsqlc.RosterCSVSplitAroundParams{DayFrom: from, DayTo: to}); err != nil {
		return fmt.Errorf("split csv shifts: %w", err)
	}
	if err := s.q.RosterCSVTrimBefore(ctx, tx, from); err != nil {
		return fmt.Errorf("trim csv shifts: %w", err)
	}
	if err := s.q.RosterCSVTrimAfter(ctx, tx, dbsqlc.RosterCSVTrimAfterParams{DayFrom: from, DayTo: to}); err != nil {
		return fmt.Errorf("trim csv shifts: %w", err)
	}
	if err := s.q.RosterCSVDeleteWithin(ctx, tx, dbsqlc.RosterCSVDeleteWithinParams{DayFrom: from, DayTo: to}); err != nil {
		return fmt.Errorf("drop csv shifts: %w", err)
	}
	return nil
}

// RosterSyncReplace writes what a sync read for the days from..to, in one
// transaction: the source's shifts from `from` on are replaced by shifts
// (its earlier ones are kept as history), CSV shifts are cut out of those
// days (the synced source owns them), and the sync is recorded as done at at.
func (s *Store) RosterSyncReplace(ctx context.Context, source string, from, to time.Time, shifts []Shift, at time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("sync roster from %s: begin: %w", source, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	dayFrom, dayTo := pgDate(from), pgDate(to)
	if err := s.q.RosterDeleteSourceFrom(ctx, tx, dbsqlc.RosterDeleteSourceFromParams{Source: source, DayFrom: dayFrom}); err != nil {
		return fmt.Errorf("sync roster from %s: delete: %w", source, err)
	}
	if err := s.cutCSV(ctx, tx, dayFrom, dayTo); err != nil {
		return fmt.Errorf("sync roster from %s: %w", source, err)
	}
	if err := s.insertShifts(ctx, tx, source, shifts); err != nil {
		return fmt.Errorf("sync roster from %s: %w", source, err)
	}
	if err := s.q.RosterSyncDone(ctx, tx, dbsqlc.RosterSyncDoneParams{Source: source, At: &at, DayFrom: dayFrom, DayTo: dayTo}); err != nil {
		return fmt.Errorf("sync roster from %s: record: %w", source, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("sync roster from %s: commit: %w", source, err)
	}
	return nil
}

// RosterSyncFailed records a failed sync; the roster keeps what the last
// good one wrote. The reason quotes the upstream's answer, so it passes the
// same boundary as a probe's reason (text.go).
func (s *Store) RosterSyncFailed(ctx context.Context, source string, at time.Time, reason string) error {
	if err := s.q.RosterSyncFailed(ctx, s.pool, dbsqlc.RosterSyncFailedParams{Source: source, At: at, Error: cleanText(reason, maxTextBytes)}); err != nil {
		return fmt.Errorf("record failed roster sync from %s: %w", source, err)
	}
	return nil
}

// RosterSyncForget drops a synced source that is no longer configured, in
// one transaction: its shifts from day on (day's UTC date, as from in
// RosterSyncReplace) and its sync record. Without this the days it last
// covered would stay its own, its failure would stay on /healthz, and a CSV
// import would keep being cut out of them. Earlier shifts stay as history.
func (s *Store) RosterSyncForget(ctx context.Context, source string, day time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("forget roster source %s: begin: %w", source, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := s.q.RosterDeleteSourceFrom(ctx, tx, dbsqlc.RosterDeleteSourceFromParams{Source: source, DayFrom: pgDate(day)}); err != nil {
		return fmt.Errorf("forget roster source %s: delete shifts: %w", source, err)
	}
	if err := s.q.RosterSyncForget(ctx, tx, source); err != nil {
		return fmt.Errorf("forget roster source %s: delete sync: %w", source, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("forget roster source %s: commit: %w", source, err)
	}
	return nil
}

// RosterSyncs is how each synced source last went, by source.
func (s *Store) RosterSyncs(ctx context.Context) ([]RosterSync, error) {
	rows, err := s.q.RosterSyncList(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("read roster syncs: %w", err)
	}
	out := make([]RosterSync, len(rows))
	for i, r := range rows {
		out[i] = RosterSync{Source: r.Source, SyncedAt: r.SyncedAt, From: r.DayFrom.Time, To: r.DayTo.Time, AttemptedAt: r.AttemptedAt, Error: r.Error}
	}
	return out, nil
}

// RosterBetween returns the shifts that cover any day from from to to,
// inclusive, by start day. Only the calendar dates of from and to count.
func (s *Store) RosterBetween(ctx context.Context, from, to time.Time) ([]Shift, error) {
	rows, err := s.q.RosterBetween(ctx, s.pool, dbsqlc.RosterBetweenParams{DayFrom: civilDate(from), DayTo: civilDate(to)})
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	out := make([]Shift, len(rows))
	for i, r := range rows {
		out[i] = Shift{Start: r.StartDay.Time, End: r.EndDay.Time, Person: r.Person, Contact: r.Contact}
	}
	return out, nil
}

// OnSupport returns the shifts that cover day, in their order: who is on
// support that day. Only day's calendar date in its own location counts, so
// the board and `walnut roster` both pass a local time to mean the local day.
func OnSupport(shifts []Shift, day time.Time) []Shift {
	d := civilDate(day).Time
	var on []Shift
	for _, s := range shifts {
		if !d.Before(s.Start) && !d.After(s.End) {
			on = append(on, s)
		}
	}
	return on
}

// civilDate is the calendar date of t in t's own location, unlike pgDate
// which takes the UTC date: "today" on the board is the local day.
func civilDate(t time.Time) pgtype.Date {
	y, m, d := t.Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}
