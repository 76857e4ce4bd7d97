package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walnut-board/walnut/store/dbsqlc"
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

// RosterReplace makes the roster exactly shifts, in one transaction: the
// import file is the roster's source of truth, so nothing is merged. Names
// and contacts are stored as cleanText makes them (the importer reports
// unreadable fields by line before this).
func (s *Store) RosterReplace(ctx context.Context, shifts []Shift) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("replace roster: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := s.q.RosterDeleteAll(ctx, tx); err != nil {
		return fmt.Errorf("replace roster: delete: %w", err)
	}
	for i, sh := range shifts {
		err := s.q.RosterInsert(ctx, tx, dbsqlc.RosterInsertParams{
			StartDay: pgDate(sh.Start), EndDay: pgDate(sh.End),
			Person: cleanText(sh.Person, maxNameBytes), Contact: cleanText(sh.Contact, maxNameBytes),
		})
		if err != nil {
			return fmt.Errorf("replace roster: shift %d (%.40q): %w", i+1, sh.Person, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("replace roster: commit: %w", err)
	}
	return nil
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
