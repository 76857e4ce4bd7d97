package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/walnut-board/walnut/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fakeEnv is an environment made of the given variables only.
func fakeEnv(vars map[string]string) env {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "walnut.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// upstream answers each path with the status its switch holds.
type upstream struct {
	*httptest.Server
	status atomic.Int32
}

func newUpstream(t *testing.T, status int) *upstream {
	u := &upstream{}
	u.status.Store(int32(status))
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(u.status.Load()))
	}))
	t.Cleanup(u.Close)
	return u
}

func TestCheckExitCodes(t *testing.T) {
	t.Parallel()
	ok, down, building := newUpstream(t, 200), newUpstream(t, 503), newUpstream(t, 202)
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - {name: Up, url: "%s/?token=${TOKEN}"}
  - {name: Down, url: "%s/"}
  - {name: Building, url: "%s/", recipe: {name: status, pending: [202]}}
`, ok.URL, down.URL, building.URL))
	environ := fakeEnv(map[string]string{"TOKEN": "s3cret-value"})

	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"check", "--config", cfg, "up"}, 0, "state        ok"},
		{[]string{"check", "--config", cfg, "down"}, 1, "HTTP 503"},
		{[]string{"check", "--config", cfg, "building"}, 2, "pending"},
		{[]string{"check", "--config", cfg, "nope"}, 3, `no site with slug "nope"`},
		{[]string{"check", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "up"}, 3, "missing.yaml"},
		{[]string{"check", "--config", cfg}, 3, "Usage: walnut check"},
		{[]string{"check", "--help"}, 0, "Usage: walnut check"},
	} {
		t.Run(strings.Join(tc.args[len(tc.args)-1:], ""), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, environ)
			out := stdout.String() + stderr.String()
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("walnut %v: exit %d, want %d with %q; output:\n%s", tc.args, code, tc.code, tc.out, out)
			}
			if strings.Contains(out, "s3cret-value") {
				t.Fatalf("a secret reached the output:\n%s", out)
			}
		})
	}
}

func TestConfigErrorsStopBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "sites:\n  - name: API\n    url: https://example.com/\n    intervall: 5s\n")
	var stdout, stderr bytes.Buffer
	// A DATABASE_URL nothing listens on: reaching it would be a different
	// error than the config's.
	environ := fakeEnv(map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "PORT": "0"})
	code := run(context.Background(), []string{"serve", "--config", cfg}, &stdout, &stderr, environ)
	if code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if want := `walnut.yaml:4:5: unknown key "intervall"`; !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr lacks %q:\n%s", want, stderr.String())
	}
	if strings.Contains(stderr.String(), "database") {
		t.Fatalf("serve touched the database before rejecting the config:\n%s", stderr.String())
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "sites:\n  - {name: API, url: \"https://example.com/health?key=${KEY}\", interval: 1m}\n")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"config", "check", "--config", cfg}, &stdout, &stderr, fakeEnv(map[string]string{"KEY": "hunter2"}))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "https://example.com/health") || strings.Contains(out, "hunter2") || !strings.Contains(out, "1 sites, config OK") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestVersionAndUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &stdout, &stderr, fakeEnv(nil)); code != 0 || !strings.HasPrefix(stdout.String(), "walnut ") {
		t.Fatalf("version: exit %d, %q", code, stdout.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, &stdout, &stderr, fakeEnv(nil)); code != exitError || !strings.Contains(stderr.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: exit %d, %q", code, stderr.String())
	}
}

// TestServeEndToEnd runs walnut serve as a user would, against a real
// database and an upstream the test flips, and follows the flip through the
// API.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, 200)
	cfg := writeConfig(t, fmt.Sprintf("sites:\n  - {name: App, url: \"%s/\", interval: 1s, timeout: 1s}\n", up.URL))
	s := startServe(t, cfg)

	s.waitState(t, "app", "ok")
	up.status.Store(500)
	s.waitState(t, "app", "notok")
	up.status.Store(200)
	s.waitState(t, "app", "ok")

	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`walnut_probes_total{site="app",state="notok"}`, "walnut_probe_duration_seconds_count", "walnut_writer_queue_depth",
		"walnut_probe_start_late_seconds_count", "walnut_sse_clients", "walnut_notifications_pending",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited with %d after shutdown", code)
	}
}

// TestServeReload changes the config under a running serve: a new site is
// probed, a removed one retired, and a broken config leaves the running one.
func TestServeReload(t *testing.T) {
	t.Parallel()
	up, down := newUpstream(t, 200), newUpstream(t, 503)
	cfg := writeConfig(t, fmt.Sprintf("sites:\n  - {name: App, url: \"%s/\", interval: 1s, timeout: 1s}\n", up.URL))
	s := startServe(t, cfg)
	s.waitState(t, "app", "ok")

	two := fmt.Sprintf("sites:\n  - {name: Worker, url: \"%s/\", interval: 1s, timeout: 1s}\n", down.URL)
	if err := os.WriteFile(cfg, []byte(two), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "the new config", func() bool {
		st := s.states()
		_, appThere := st["app"]
		return st["worker"] == "notok" && !appThere
	})

	if err := os.WriteFile(cfg, []byte("sites:\n  - name: Worker\n    urll: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "the bad config to be refused", func() bool {
		return strings.Contains(s.log.String(), "config not reloaded") && strings.Contains(s.log.String(), `unknown key \"urll\"`)
	})
	if st := s.states(); st["worker"] != "notok" {
		t.Fatalf("after a bad reload, sites = %v; want the old config still running", st)
	}
}

// TestServeInstancesSplitSites runs two serve processes on one database:
// they split the sites, and when one stops the other takes them all.
func TestServeInstancesSplitSites(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, 200)
	var yaml strings.Builder
	yaml.WriteString("sites:\n")
	for i := range 6 {
		fmt.Fprintf(&yaml, "  - {name: S%d, url: \"%s/%d\", interval: 1s, timeout: 1s}\n", i, up.URL, i)
	}
	cfg := writeConfig(t, yaml.String())
	dbURL := storetest.NewDatabase(t)
	pool := storetest.Connect(t, dbURL)
	shares := func() map[string]int {
		out := map[string]int{}
		rows, err := pool.Query(context.Background(), `SELECT owner, count(*) FROM site_leases GROUP BY owner`)
		if err != nil {
			return out
		}
		defer rows.Close()
		for rows.Next() {
			var owner string
			var n int
			if rows.Scan(&owner, &n) == nil {
				out[owner] = n
			}
		}
		return out
	}

	a := startServeOn(t, cfg, dbURL)
	a.waitFor(t, "the first instance to hold every site", func() bool {
		sh := shares()
		return len(sh) == 1 && sumOf(sh) == 6
	})
	b := startServeOn(t, cfg, dbURL)
	a.waitFor(t, "the sites to be split 3 and 3", func() bool {
		sh := shares()
		if len(sh) != 2 {
			return false
		}
		for _, n := range sh {
			if n != 3 {
				return false
			}
		}
		return true
	})
	a.waitFor(t, "every site probed", func() bool {
		for _, st := range a.states() {
			if st != "ok" {
				return false
			}
		}
		return len(a.states()) == 6
	})

	a.stop()
	b.waitFor(t, "the survivor to hold every site", func() bool {
		sh := shares()
		return len(sh) == 1 && sumOf(sh) == 6
	})
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
