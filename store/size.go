package store

import (
	"context"
	"fmt"
)

// DatabaseSize is how many bytes the database takes on disk, tables,
// indexes, TOAST and free space within them: what Heroku's plan limit
// counts. It stats every file of the database, so callers read it on an
// interval rather than per request.
func (s *Store) DatabaseSize(ctx context.Context) (int64, error) {
	n, err := s.q.DatabaseSize(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("read the database's size: %w", err)
	}
	return n, nil
}
