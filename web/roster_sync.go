package web

import (
	"context"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// rosterSyncs is what the board and /healthz ask of a roster that a sync
// fills (PagerDuty); *store.Store has it. A Roster without it has no sync.
type rosterSyncs interface {
	RosterSyncs(ctx context.Context) ([]store.RosterSync, error)
}

// rosterHealthJSON is a roster sync on /healthz. Status is "ok", or
// "failing" when the latest attempt failed: the roster is then as of
// synced_at, and error says why (scrubbed, as /healthz is open).
type rosterHealthJSON struct {
	Source      string     `json:"source"`
	Status      string     `json:"status"`
	SyncedAt    *time.Time `json:"synced_at,omitempty"`
	AttemptedAt time.Time  `json:"attempted_at"`
	Error       string     `json:"error,omitempty"`
}

// readRosterSyncs is how each roster sync last went; nil without any.
func readRosterSyncs(ctx context.Context, roster any) ([]store.RosterSync, error) {
	rs, ok := roster.(rosterSyncs)
	if !ok {
		return nil, nil
	}
	return rs.RosterSyncs(ctx)
}

// rosterHealth is /healthz's roster part.
func (h *Handler) rosterHealth(ctx context.Context) []rosterHealthJSON {
	syncs, err := readRosterSyncs(ctx, h.roster)
	if err != nil {
		h.logger.WarnContext(ctx, "roster sync health", "error", err)
		return nil
	}
	var out []rosterHealthJSON
	for _, s := range syncs {
		j := rosterHealthJSON{Source: s.Source, Status: "ok", SyncedAt: utcPtr(s.SyncedAt), AttemptedAt: s.AttemptedAt.UTC()}
		if s.Error != "" {
			j.Status, j.Error = "failing", secret.Guess(s.Error)
		}
		out = append(out, j)
	}
	return out
}

// rosterAsOf is the board's "as of 14:05" when a roster sync's latest
// attempt failed: the people shown are those of the last good sync. The
// time is the server's local time, like the roster's days; a sync from
// another day names the day.
func rosterAsOf(syncs []store.RosterSync, now time.Time) string {
	for _, s := range syncs {
		if s.Error == "" {
			continue
		}
		if s.SyncedAt == nil {
			return "not read from PagerDuty yet"
		}
		at, today := s.SyncedAt.In(time.Local), now.In(time.Local)
		if y, m, d := at.Date(); y == today.Year() && m == today.Month() && d == today.Day() {
			return "as of " + at.Format("15:04")
		}
		return "as of " + at.Format("Mon 2 Jan 15:04")
	}
	return ""
}
