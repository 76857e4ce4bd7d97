package pglocal_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/walnut-board/walnut/store/pglocal"
)

func TestFindBinDir(t *testing.T) {
	t.Parallel()
	dir, err := pglocal.FindBinDir()
	if err != nil {
		// No PostgreSQL here: the message must say what to install.
		if !strings.Contains(err.Error(), "apt-get install postgresql") {
			t.Errorf("error does not say what to install: %v", err)
		}
		t.Fatalf("PostgreSQL server binaries are needed for these tests: %v", err)
	}
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("FindBinDir() = %s, which has no %s: %v", dir, name, err)
		}
	}
}

func TestStartEphemeral(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := shortTempDir(t)
	c, err := pglocal.Start(ctx, pglocal.Options{Dir: dir, Ephemeral: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })

	if got, want := c.SocketPath(), filepath.Join(dir, ".s.PGSQL.5432"); got != want {
		t.Errorf("SocketPath() = %s, want %s", got, want)
	}
	conn := connect(t, c.URL("postgres"))
	for setting, want := range map[string]string{"listen_addresses": "", "fsync": "off", "server_encoding": "UTF8", "lc_collate": "C"} {
		var got string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}

	for range 2 { // the second time it exists already
		if err := c.CreateDatabase(ctx, "walnut"); err != nil {
			t.Fatal(err)
		}
	}
	var name string
	if err := connect(t, c.URL("walnut")).QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "walnut" {
		t.Errorf("current_database() = %q, want walnut", name)
	}

	conn.Close(ctx)
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Stop, %s still exists (%v)", dir, err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStartKeepsDataAndReusesRunningServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := shortTempDir(t)
	t.Cleanup(func() { os.RemoveAll(dir) })
	opts := pglocal.Options{Dir: dir, Logger: testLogger(t)}

	first, err := pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Stop() })
	if err := first.CreateDatabase(ctx, "kept"); err != nil {
		t.Fatal(err)
	}

	// A second Start on the same directory finds the server running.
	second, err := pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start while running: %v", err)
	}
	if second.URL("kept") != first.URL("kept") {
		t.Errorf("reused URL %q, want %q", second.URL("kept"), first.URL("kept"))
	}
	ping(t, second.URL("kept"))
	// Stopping the reused handle leaves the server to its owner.
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	ping(t, first.URL("kept"))

	if err := first.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("a non-ephemeral Stop removed the data: %v", err)
	}

	// Started again on the existing data, the database is still there.
	third, err := pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() { third.Stop() })
	ping(t, third.URL("kept"))
	if err := third.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStartListensOnTCPPort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	port := freePort(t)
	c, err := pglocal.Start(ctx, pglocal.Options{Dir: shortTempDir(t), Ephemeral: true, Port: port, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	ping(t, "host=localhost port="+strconv.Itoa(port)+" user=postgres dbname=postgres sslmode=disable")
	ping(t, c.URL("postgres"))
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SocketPathTooLong", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
		_, err := pglocal.Start(ctx, pglocal.Options{Dir: dir, Ephemeral: true})
		if err == nil || !strings.Contains(err.Error(), "107-byte limit") {
			t.Fatalf("Start() error = %v, want one about the socket path limit", err)
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		dir := shortTempDir(t)
		_, err := pglocal.Start(ctx, pglocal.Options{Dir: dir, Ephemeral: true})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Start() error = %v, want context.Canceled", err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("failed ephemeral Start left %s behind (%v)", dir, err)
		}
	})

	t.Run("ServerFailsWithLogInError", func(t *testing.T) {
		t.Parallel()
		dir := shortTempDir(t)
		t.Cleanup(func() { os.RemoveAll(dir) })
		// A data directory without its configuration: postgres refuses it.
		data := filepath.Join(dir, "data")
		if err := os.Mkdir(data, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("99\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := pglocal.Start(ctx, pglocal.Options{Dir: dir})
		if err == nil {
			t.Fatal("Start() succeeded on a bogus data directory")
		}
		if !strings.Contains(err.Error(), "postgres.log") || !strings.Contains(err.Error(), "postgresql.conf") {
			t.Errorf("error does not quote the server log: %v", err)
		}
	})
}

// shortTempDir returns a new directory under the system's temporary directory,
// whose path is short enough for a Unix socket (t.TempDir's names are long).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgl")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func ping(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(context.Background()); err != nil {
		t.Fatalf("ping %s: %v", url, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
