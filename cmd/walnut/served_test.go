package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"testing"

	"github.com/walnut-board/walnut/store/storetest"
)

// served is a walnut serve running in the test. Its exit is a closed
// channel, not a value to receive, so that any number of waits may see it:
// a wait that fails because serve exited leaves nothing for the test's
// cleanup to block on.
type served struct {
	base   string
	log    *storetest.Buffer // what serve wrote, stdout and stderr
	cancel context.CancelFunc
	exited chan struct{} // closed once serve has returned
	code   int           // serve's exit status, once exited is closed
}

// serveOn runs walnut with args ("serve" and its flags) on port, with the
// variables in vars and PORT, until stop or the end of the test. When the
// test has failed, its cleanup logs what serve wrote.
func serveOn(t *testing.T, port string, vars map[string]string, args ...string) *served {
	t.Helper()
	all := map[string]string{"PORT": port}
	for k, v := range vars {
		all[k] = v
	}
	environ := fakeEnv(all)
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{base: "http://127.0.0.1:" + port, log: &storetest.Buffer{}, cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(s.exited)
		s.code = run(ctx, args, s.log, s.log, environ)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("serve's log (%s):\n%s", s.base, s.log.String())
		}
	})
	return s
}

// startServe runs serve with cfg on a fresh database.
func startServe(t *testing.T, cfg string) *served {
	t.Helper()
	return startServeOn(t, cfg, storetest.NewDatabase(t))
}

// startServeOn runs serve on a database of the caller's, so that several
// instances can share one.
func startServeOn(t *testing.T, cfg, databaseURL string) *served {
	t.Helper()
	return startServeWith(t, cfg, databaseURL, nil)
}

// startServeWith runs serve with more environment variables.
func startServeWith(t *testing.T, cfg, databaseURL string, vars map[string]string) *served {
	t.Helper()
	all := map[string]string{"DATABASE_URL": databaseURL}
	for k, v := range vars {
		all[k] = v
	}
	return serveOn(t, freePort(t), all, "serve", "--config", cfg)
}

// stop ends serve and returns its exit status once it has returned; later
// calls return the same.
func (s *served) stop() int {
	s.cancel()
	<-s.exited
	return s.code
}

// failIfExited fails the test when serve has returned.
func (s *served) failIfExited(tb testing.TB, while string) {
	tb.Helper()
	select {
	case <-s.exited:
		tb.Fatalf("serve exited with %d while %s", s.code, while)
	default:
	}
}

// waitFor polls until cond holds, failing the test if serve exits first.
func (s *served) waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	storetest.WaitFor(tb, what, func() bool {
		s.failIfExited(tb, "waiting for "+what)
		return cond()
	})
}

// waitHealthy waits until serve answers /healthz with 200, failing the test
// if serve exits first.
func (s *served) waitHealthy(tb testing.TB) {
	tb.Helper()
	s.waitFor(tb, "serve to answer /healthz", func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// states returns the API's state of each site.
func (s *served) states() map[string]string {
	var sites []struct{ Slug, State string }
	resp, err := http.Get(s.base + "/api/v1/sites")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if json.NewDecoder(resp.Body).Decode(&sites) != nil {
		return nil
	}
	out := map[string]string{}
	for _, site := range sites {
		out[site.Slug] = site.State
	}
	return out
}

func (s *served) waitState(t *testing.T, slug, want string) {
	t.Helper()
	s.waitFor(t, slug+" "+want, func() bool { return s.states()[slug] == want })
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// fatalTB records a failure and ends the goroutine, as t.Fatal does,
// without failing the test that holds it.
type fatalTB struct {
	testing.TB
	failed string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestServedExitsBeforeHealthy: a serve that exits before answering fails
// the wait with its status, at once, and stopping it afterwards returns
// rather than waiting for an exit that a failed wait already saw (the
// browser tests used to hang there).
func TestServedExitsBeforeHealthy(t *testing.T) {
	t.Parallel()
	s := serveOn(t, freePort(t), nil, "serve", "--no-such-flag")
	f := &fatalTB{TB: t}
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		s.waitHealthy(f)
	}()
	<-waited
	if want := fmt.Sprintf("serve exited with %d while waiting for serve to answer /healthz", exitError); f.failed != want {
		t.Errorf("the wait failed with %q, want %q", f.failed, want)
	}
	if code := s.stop(); code != exitError {
		t.Errorf("stop = %d, want %d", code, exitError)
	}
	if code := s.stop(); code != exitError {
		t.Errorf("a second stop = %d, want %d", code, exitError)
	}
}
