// Package storetest gives tests a real PostgreSQL database of their own,
// migrated to the current schema.
//
// Each test binary starts one throwaway cluster (store/pglocal, fsync off,
// socket only, under a short temporary directory), migrates a template
// database once, and copies the template for every test with CREATE DATABASE
// ... TEMPLATE, which takes milliseconds. TEST_DATABASE_URL points the tests
// at a server of your own instead; its user needs CREATEDB. With -short,
// database tests are skipped.
//
// Beside the databases: WaitFor, a bounded poll for state a test cannot be
// signalled about, and Clock, a time the test moves by hand.
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		pool := storetest.Pool(t)
//		...
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/pglocal"
)

// envURL names the variable that points tests at an existing server. Its
// database is used only to create and drop others.
const envURL = "TEST_DATABASE_URL"

// setupTimeout bounds starting the cluster and migrating the template.
const setupTimeout = 2 * time.Minute

// The server is per test binary, shared by every test in it: TestMain and
// Pool have no other place to keep it. It is started on the first Pool call,
// so that a binary whose selected tests need no database (or -short) starts
// none, and stopped by Main.
var (
	mainRunning atomic.Bool
	srv         server
)

type server struct {
	once sync.Once
	err  error // from setup, reported by every NewDatabase

	logs    Buffer
	cluster *pglocal.Cluster // nil on TEST_DATABASE_URL
	// adminURL is a database to run CREATE and DROP DATABASE from.
	adminURL string
	admin    *pgxpool.Pool
	// prefix makes the names of this binary's databases unique on a shared
	// server: "walnut" on our own cluster, "walnut_<random>" on
	// TEST_DATABASE_URL.
	prefix   string
	template string

	// createMu serializes CREATE DATABASE ... TEMPLATE: PostgreSQL refuses
	// to copy a database that anyone is connected to.
	createMu sync.Mutex
	next     atomic.Int64
}

// Main runs the tests of a package that uses Pool or NewDatabase, then stops
// the test server and exits. Call it from TestMain.
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	if err := srv.shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "storetest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 && srv.logs.Len() > 0 {
		// Quiet when all is well; when not, what the test server did may
		// explain it.
		fmt.Fprintf(os.Stderr, "storetest: log of the test database server:\n%s", srv.logs.String())
	}
	os.Exit(code)
}

// Pool returns a pool on a fresh, migrated database of the test's own. The
// pool is closed and the database dropped when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := NewDatabase(t)
	return Connect(t, dbURL).Pool
}

// DB is a test's own pool on its database, for SQL beside the *store.Store
// it tests: packages above store name it rather than pgx, which only store
// imports.
type DB struct{ *pgxpool.Pool }

// Connect returns a pool on connString (as NewDatabase returns), closed
// when the test ends. Call it after NewDatabase, so that the pool closes
// before the database is dropped.
func Connect(t testing.TB, connString string) *DB {
	t.Helper()
	pool, err := store.OpenPool(context.Background(), connString)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(pool.Close)
	return &DB{pool}
}

// NewDatabase creates a fresh database copied from the migrated template and
// returns its connection string. The database is dropped when the test ends;
// close whatever connects to it before then (t.Cleanup runs last-registered
// first).
func NewDatabase(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("storetest: database test skipped with -short")
	}
	if !mainRunning.Load() {
		t.Fatal("storetest: the package's TestMain must call storetest.Main(m), which stops the test database server")
	}
	srv.once.Do(srv.setup)
	if srv.err != nil {
		t.Fatalf("storetest: %v", srv.err)
	}
	name := fmt.Sprintf("%s_test_%d", srv.prefix, srv.next.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv.createMu.Lock()
	_, err := srv.admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(srv.template)+srv.copyStrategy(ctx))
	srv.createMu.Unlock()
	if err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE: a connection the test leaked must not fail the test
		// after the fact.
		if _, err := srv.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(srv.adminURL, name)
}

// setup starts the server (or connects to TEST_DATABASE_URL) and migrates the
// template. It runs once, in the first test that asks for a database.
func (s *server) setup() {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(&s.logs, nil))
	s.err = s.connect(ctx, logger)
	if s.err == nil {
		s.err = s.migrateTemplate(ctx, logger)
	}
}

func (s *server) connect(ctx context.Context, logger *slog.Logger) error {
	if u := os.Getenv(envURL); u != "" {
		s.adminURL = u
		var b [4]byte
		rand.Read(b[:])
		s.prefix = "walnut_" + hex.EncodeToString(b[:])
	} else {
		// pglocal puts the socket in the directory: keep its path short
		// (t.TempDir's names are too long for a Unix socket).
		dir, err := os.MkdirTemp("", "wt")
		if err != nil {
			return fmt.Errorf("start test database server: %w", err)
		}
		began := time.Now()
		s.cluster, err = pglocal.Start(ctx, pglocal.Options{Dir: dir, Ephemeral: true, Logger: logger})
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("start test database server: %w (or set %s to a server of your own)", err, envURL)
		}
		logger.Info("test database server ready", "duration", time.Since(began).Round(time.Millisecond))
		s.adminURL = s.cluster.URL("postgres")
		s.prefix = "walnut"
	}
	var err error
	s.admin, err = store.OpenPool(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("test database server: %w", err)
	}
	return nil
}

// migrateTemplate creates the template database and migrates it, then closes
// every connection to it and forbids new ones, so that copies never find it
// busy.
func (s *server) migrateTemplate(ctx context.Context, logger *slog.Logger) error {
	began := time.Now()
	s.template = s.prefix + "_template"
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident(s.template)); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	st, err := store.Open(ctx, withDatabase(s.adminURL, s.template))
	if err != nil {
		return fmt.Errorf("template database: %w", err)
	}
	err = st.Migrate(ctx, logger)
	st.Close()
	if err != nil {
		return fmt.Errorf("template database: %w", err)
	}
	if _, err := s.admin.Exec(ctx, "ALTER DATABASE "+ident(s.template)+" ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("template database: %w", err)
	}
	logger.Info("template database migrated", "database", s.template, "duration", time.Since(began).Round(time.Millisecond))
	return nil
}

// shutdown drops the template from a shared server and stops our own.
func (s *server) shutdown() error {
	var err error
	if s.admin != nil {
		if s.cluster == nil && s.template != "" {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, e := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(s.template)+" WITH (FORCE)"); e != nil {
				err = fmt.Errorf("drop template database %s: %w", s.template, e)
			}
		}
		s.admin.Close()
	}
	if s.cluster != nil {
		if e := s.cluster.Stop(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// withDatabase returns connString with its database replaced by name. It
// accepts both forms PostgreSQL does: a postgres:// URL and keyword/value.
func withDatabase(connString, name string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err == nil {
			u.Path = "/" + name
			u.RawPath = ""
			return u.String()
		}
	}
	// A later keyword wins over an earlier one.
	return connString + " dbname=" + name
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// Buffer is a bytes.Buffer that goroutines and a test may write and read at
// once: a logger's output, a server's log.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// copyStrategy asks PostgreSQL 15 and later to copy the template's files
// rather than replay it through the WAL, which halves the time of a test
// database; older servers know only the file copy and reject the clause.
func (s *server) copyStrategy(ctx context.Context) string {
	var v int
	if err := s.admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil || v < 150000 {
		return ""
	}
	return " STRATEGY FILE_COPY"
}
