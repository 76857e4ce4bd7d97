package pglocal_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walnut-board/walnut/store/pglocal"
)

// TestStartRelocatesFromClosedHome is `make run` as root in a checkout under a
// 0700 home directory: the postgres user cannot reach .walnut/postgres, so the
// cluster lives under /var/lib/walnut, the log says where, a second start
// finds the same data, and `make db/reset` removes it.
func TestStartRelocatesFromClosedHome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: only a root process hands the cluster to the postgres user (CI runs as root)")
	}
	t.Parallel()
	ctx := context.Background()
	home := shortTempDir(t) // MkdirTemp makes it 0700, as /root is
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	checkout := filepath.Join(home, "walnut")
	if err := os.Mkdir(checkout, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(checkout, ".walnut", "postgres")
	// A failed run of the old code left the directory behind, empty.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	target := pglocal.RelocatedDir(dir)
	t.Cleanup(func() { os.RemoveAll(target) })

	var log bytes.Buffer
	opts := pglocal.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&log, nil))}

	// Without Relocate it still refuses, naming the closed directory.
	if _, err := pglocal.Start(ctx, opts); err == nil || !strings.Contains(err.Error(), home+" is mode 0700") {
		t.Fatalf("Start without Relocate: error = %v, want one naming %s", err, home)
	}

	opts.Relocate = true
	c, err := pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start from a closed home: %v", err)
	}
	t.Cleanup(func() { c.Stop() })
	if !strings.HasPrefix(c.SocketPath(), target+"/") {
		t.Errorf("socket %s, want it under %s", c.SocketPath(), target)
	}
	if got, err := os.Readlink(dir); err != nil || got != target {
		t.Errorf("%s links to %q (%v), want %s", dir, got, err, target)
	}
	if !strings.Contains(log.String(), "cluster="+target) || !strings.Contains(log.String(), "closed="+home) {
		t.Errorf("the log does not say where the cluster went and why:\n%s", log.String())
	}
	if err := c.CreateDatabase(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	// The next start follows the link to the same data.
	again, err := pglocal.Start(ctx, opts)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	t.Cleanup(func() { again.Stop() })
	ping(t, again.URL("kept"))
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}

	// make db/reset, run in the checkout, removes the cluster and the link.
	makefile, err := filepath.Abs("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "--no-print-directory", "-C", checkout, "-f", makefile, "db/reset").CombinedOutput()
	if err != nil {
		t.Fatalf("make db/reset: %v\n%s", err, out)
	}
	for _, p := range []string{target, dir} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after make db/reset, %s is still there (%v)", p, err)
		}
	}
}
