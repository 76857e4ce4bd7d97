package web_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// short are timeouts a test can outlast quickly.
var short = web.Timeouts{ReadHeader: 150 * time.Millisecond, Read: 150 * time.Millisecond, Write: 150 * time.Millisecond, Idle: 150 * time.Millisecond}

// serveWith starts handler behind t's server, as walnut serve does.
func serveWith(t *testing.T, timeouts web.Timeouts, handler http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = timeouts.Server(handler)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// awaitClose reads conn until the server closes it. The deadline is only
// there so that a server that never closes fails the test instead of
// hanging it.
func awaitClose(t *testing.T, conn net.Conn, r io.Reader) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept the connection open for 20s")
	}
}

func TestServerCutsSlowBody(t *testing.T) {
	t.Parallel()
	read := make(chan error, 1)
	srv := serveWith(t, short, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		read <- err
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
		}
	}))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A body promised and never sent: the handler waits on it.
	if _, err := io.WriteString(conn, "POST /slack/command HTTP/1.1\r\nHost: walnut\r\nContent-Length: 1000\r\n\r\ntoken=a"); err != nil {
		t.Fatal(err)
	}
	awaitClose(t, conn, conn)
	if err := <-read; err == nil {
		t.Error("the handler read the whole body of a request that never sent it")
	}
}

func TestServerClosesIdleConnection(t *testing.T) {
	t.Parallel()
	// Only the idle timeout is short: a slow machine that takes a while to
	// send the request or read the answer must not close it for them.
	idleOnly := web.Timeouts{ReadHeader: 30 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second, Idle: short.Idle}
	srv := serveWith(t, idleOnly, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: walnut\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatal("the server closed the connection after the response; this test needs it kept alive")
	}
	// Then nothing: the connection is idle and the server must let it go.
	awaitClose(t, conn, br)
}

// TestEventsOutliveTimeouts: a stream keeps going well past the server's
// read and write timeouts, which would otherwise cancel it.
func TestEventsOutliveTimeouts(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))
	if _, err := st.SiteSync(context.Background(), []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute},
	}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	const heartbeat = 50 * time.Millisecond
	hub := web.NewHub(web.HubOptions{Store: st, Logger: logger, Heartbeat: heartbeat})
	hubCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(hubCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	srv := serveWith(t, short, web.New(web.Options{Store: st, Logger: logger, Hub: hub}))

	events := openStream(t, srv.URL)
	waitFor(t, events, "hello", named("hello"))
	// Twenty heartbeats are a second: more than six times every timeout.
	for i := range 20 {
		waitFor(t, events, fmt.Sprintf("ping %d", i+1), named("ping"))
	}
	if n := 20 * heartbeat; n <= 6*short.Read || n <= 6*short.Write {
		t.Fatalf("the test's heartbeats (%s) do not outlast the timeouts", n)
	}
}

// TestTimeoutsDefaults: walnut serve takes the zero Timeouts; each limit
// must be set, and the idle one must outlast Heroku's router's 90 s.
func TestTimeoutsDefaults(t *testing.T) {
	t.Parallel()
	srv := web.Timeouts{}.Server(http.NotFoundHandler())
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s = %s: unbounded", name, d)
		}
	}
	if srv.IdleTimeout <= 90*time.Second {
		t.Errorf("IdleTimeout = %s; Heroku's router drops idle connections after 90s and should be the one to close", srv.IdleTimeout)
	}
	if srv.WriteTimeout <= 10*time.Second {
		t.Errorf("WriteTimeout = %s; a page may wait 10s for the database", srv.WriteTimeout)
	}
}
