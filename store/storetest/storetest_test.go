package storetest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { Main(m) }

func TestPoolGivesEachTestItsOwnMigratedDatabase(t *testing.T) {
	t.Parallel()
	for _, slug := range []string{"alpha", "beta"} {
		t.Run(slug, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := Pool(t)
			if n := countSites(t, pool); n != 0 {
				t.Fatalf("a fresh database has %d sites, want 0", n)
			}
			insertSite(t, pool, slug)
			var slugs []string
			rows, err := pool.Query(ctx, `SELECT slug FROM sites`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				slugs = append(slugs, s)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(slugs) != 1 || slugs[0] != slug {
				t.Errorf("sites = %v, want only [%s]: the other test's row leaked in", slugs, slug)
			}
		})
	}
}

func TestNewDatabaseIsFreshEachTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first, second := NewDatabase(t), NewDatabase(t)
	if first == second {
		t.Fatalf("NewDatabase returned %q twice", first)
	}
	a, b := open(t, first), open(t, second)
	insertSite(t, a, "only-in-first")
	if n := countSites(t, b); n != 0 {
		t.Errorf("second database has %d sites, want 0", n)
	}
	var version int64
	if err := b.QueryRow(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&version); err != nil {
		t.Fatalf("the copy is not migrated: %v", err)
	}
	if version < 1 {
		t.Errorf("migration version %d, want at least 1", version)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, want string }{
		"URL":          {"postgres://u:p@db.example:5433/main?sslmode=disable", "postgres://u:p@db.example:5433/x?sslmode=disable"},
		"URLNoPath":    {"postgresql://localhost", "postgresql://localhost/x"},
		"KeywordValue": {"host=/tmp/s port=5432 dbname=main", "host=/tmp/s port=5432 dbname=main dbname=x"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := withDatabase(tc.in, "x"); got != tc.want {
				t.Errorf("withDatabase(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func open(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func insertSite(t *testing.T, pool *pgxpool.Pool, slug string) {
	t.Helper()
	_, err := pool.Exec(context.Background(),
		`INSERT INTO sites (slug, name, url, interval_ms) VALUES ($1, $1, 'https://example.com/', 30000)`, slug)
	if err != nil {
		t.Fatalf("insert site %s: %v", slug, err)
	}
}

func countSites(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM sites`).Scan(&n); err != nil {
		t.Fatalf("count sites: %v", err)
	}
	return n
}
