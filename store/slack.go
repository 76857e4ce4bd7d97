package store

import (
	"context"
	"fmt"
	"time"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// SlackThread is the Slack message of a site's outage, in bot mode: later
// notices of the outage go into its thread and update it.
//
// Only the dispatcher's slack stream of the site reads and writes these rows,
// and NotifyStreamOpen lets one dispatcher at a time hold a stream (a
// session lock until Close), so the sink needs no locking of its own. The
// writes commit at once, on their own connection, as soon as Slack answers:
// a message Slack has accepted is remembered even if the delivery fails
// later, or the process dies, before the stream records the notice.
type SlackThread struct {
	ID        int64
	Channel   string // the channel id Slack answered
	TS        string // the message's ts, its id in the channel
	DownSince time.Time
	Reason    string // why the site went down
}

// SlackThreadOpen returns the site's open outage message, or ErrNotFound.
func (s *Store) SlackThreadOpen(ctx context.Context, slug string) (SlackThread, error) {
	r, err := s.q.SlackThreadOpen(ctx, s.pool, slug)
	if err != nil {
		return SlackThread{}, fmt.Errorf("slack thread of %s: %w", slug, interpretError(err))
	}
	return SlackThread{ID: r.ID, Channel: r.Channel, TS: r.Ts, DownSince: r.DownSince, Reason: r.Reason}, nil
}

// SlackThreadStart records the message that opens an outage of the site and
// returns it with its ID. ErrNotFound: no such site.
func (s *Store) SlackThreadStart(ctx context.Context, slug string, t SlackThread) (SlackThread, error) {
	id, err := s.q.SlackThreadInsert(ctx, s.pool, dbsqlc.SlackThreadInsertParams{
		Channel: cleanName(t.Channel), Ts: cleanName(t.TS),
		DownSince: t.DownSince, Reason: cleanText(t.Reason, maxTextBytes), Slug: slug,
	})
	if err != nil {
		return SlackThread{}, fmt.Errorf("record slack thread of %s: %w", slug, interpretError(err))
	}
	t.ID = id
	return t, nil
}

// SlackThreadMove points an open outage at a new message, posted because
// the first was deleted.
func (s *Store) SlackThreadMove(ctx context.Context, id int64, channel, ts string) error {
	if err := s.q.SlackThreadMove(ctx, s.pool, dbsqlc.SlackThreadMoveParams{ID: id, Channel: cleanName(channel), Ts: cleanName(ts)}); err != nil {
		return fmt.Errorf("move slack thread %d: %w", id, err)
	}
	return nil
}

// SlackThreadEnd closes an outage: the site was ok again at endedAt.
func (s *Store) SlackThreadEnd(ctx context.Context, id int64, endedAt time.Time) error {
	if err := s.q.SlackThreadEnd(ctx, s.pool, dbsqlc.SlackThreadEndParams{ID: id, EndedAt: endedAt}); err != nil {
		return fmt.Errorf("end slack thread %d: %w", id, err)
	}
	return nil
}
