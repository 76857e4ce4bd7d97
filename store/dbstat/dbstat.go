// Package dbstat reads what a Walnut database holds and what it costs, from
// outside the store: its size, each table's, the WAL position, and the
// probes as they were written. The bench measures with it; serve does not
// use it. It lives under store because only store and its subpackages talk
// to PostgreSQL.
package dbstat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a pool of its own on the database being measured, apart from the
// store's, so that measuring never waits behind the writes it measures.
type DB struct{ pool *pgxpool.Pool }

// Open connects to url.
func Open(ctx context.Context, url string) (*DB, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("dbstat: connect: not a valid PostgreSQL connection string")
	}
	return &DB{pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Sites counts the sites table's rows.
func (db *DB) Sites(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM sites").Scan(&n); err != nil {
		return 0, fmt.Errorf("count sites: %w", err)
	}
	return n, nil
}

// Vacuum runs VACUUM ANALYZE on the whole database, so that sizes read
// after it are those a host bills for once dead rows are reclaimed.
func (db *DB) Vacuum(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

// Size is pg_database_size: tables, indexes, TOAST and the free space
// within them.
func (db *DB) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	return n, nil
}

// WALPosition is the server's current WAL position in bytes; the difference
// of two is the WAL written between them, by every database of the server.
func (db *DB) WALPosition(ctx context.Context) (int64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").Scan(&n); err != nil {
		return 0, fmt.Errorf("read the WAL position: %w", err)
	}
	return n, nil
}

// Table is a table's size with its indexes and TOAST, a partitioned
// table's with all its partitions'.
type Table struct {
	Name  string
	Bytes int64
}

// Tables lists the public schema's tables, largest first.
func (db *DB) Tables(ctx context.Context) ([]Table, error) {
	rows, err := db.pool.Query(ctx, `
SELECT c.relname,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t)
            ELSE pg_total_relation_size(c.oid)
       END::bigint AS bytes
  FROM pg_class c
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND c.relnamespace = 'public'::regnamespace
 ORDER BY 2 DESC, 1`)
	if err != nil {
		return nil, fmt.Errorf("table sizes: %w", err)
	}
	defer rows.Close()
	var out []Table
	for rows.Next() {
		var t Table
		if err := rows.Scan(&t.Name, &t.Bytes); err != nil {
			return nil, fmt.Errorf("table sizes: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("table sizes: %w", err)
	}
	return out, nil
}

// Probe is one raw probe row, as the bench compares it with its schedule.
type Probe struct {
	Slug string
	At   time.Time
	OK   bool
}

// Probes returns every raw probe, by site and time.
func (db *DB) Probes(ctx context.Context) ([]Probe, error) {
	rows, err := db.pool.Query(ctx, `SELECT s.slug, p.at, p.state = 'ok' FROM probes p JOIN sites s ON s.id = p.site_id ORDER BY p.site_id, p.at`)
	if err != nil {
		return nil, fmt.Errorf("read probes: %w", err)
	}
	defer rows.Close()
	var out []Probe
	for rows.Next() {
		var p Probe
		if err := rows.Scan(&p.Slug, &p.At, &p.OK); err != nil {
			return nil, fmt.Errorf("read probes: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read probes: %w", err)
	}
	return out, nil
}

// ProbeBytes is the size of the probes' partitions (heap, index and TOAST)
// and their rows. Empty partitions still take a few pages each; what they
// take is left out, so that small runs are not dominated by it.
func (db *DB) ProbeBytes(ctx context.Context) (bytes, rows int64, err error) {
	err = db.pool.QueryRow(ctx, `
		SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint,
		       (SELECT count(*) FROM probes)
		FROM pg_inherits i WHERE i.inhparent = 'probes'::regclass`).Scan(&bytes, &rows)
	if err != nil {
		return 0, 0, fmt.Errorf("probe size: %w", err)
	}
	if rows == 0 {
		return bytes, 0, nil
	}
	var empty int64
	err = db.pool.QueryRow(ctx, `
		SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'probes'::regclass AND c.reltuples <= 0 AND NOT EXISTS (SELECT 1 FROM probes p WHERE p.tableoid = i.inhrelid)`).Scan(&empty)
	if err != nil {
		return 0, 0, fmt.Errorf("probe size: %w", err)
	}
	return bytes - empty, rows, nil
}
