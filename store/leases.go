package store

import (
	"context"
	"fmt"
	"time"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// LeaseRenew renews owner's heartbeat, frees the sites of instances silent
// for longer than ttl, balances owner's share of the active sites, and
// returns the ids of the sites owner now holds.
func (s *Store) LeaseRenew(ctx context.Context, owner string, ttl time.Duration) ([]int32, error) {
	ids, err := s.q.LeaseRenew(ctx, s.pool, dbsqlc.LeaseRenewParams{Owner: owner, TtlMs: int32(ttl.Milliseconds())})
	if err != nil {
		return nil, fmt.Errorf("renew site leases of %s: %w", owner, err)
	}
	return ids, nil
}

// LeaseRelease gives up all of owner's sites at once, for a clean shutdown,
// so that the other instances take them over without waiting for the ttl.
func (s *Store) LeaseRelease(ctx context.Context, owner string) error {
	if err := s.q.LeaseRelease(ctx, s.pool, owner); err != nil {
		return fmt.Errorf("release site leases of %s: %w", owner, err)
	}
	return nil
}
