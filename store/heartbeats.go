package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// HeartbeatTouch records that a heartbeat site called in at at. An older
// time than the one recorded is ignored, so instances may race.
func (s *Store) HeartbeatTouch(ctx context.Context, siteID int32, at time.Time) error {
	if err := s.q.HeartbeatTouch(ctx, s.pool, dbsqlc.HeartbeatTouchParams{SiteID: siteID, At: at}); err != nil {
		return fmt.Errorf("record heartbeat of site %d: %w", siteID, err)
	}
	return nil
}

// HeartbeatLast is when a heartbeat site last called in; the zero time when
// it never has.
func (s *Store) HeartbeatLast(ctx context.Context, siteID int32) (time.Time, error) {
	at, err := s.q.HeartbeatLast(ctx, s.pool, siteID)
	if err = interpretError(err); errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("read last heartbeat of site %d: %w", siteID, err)
	}
	return at, nil
}
