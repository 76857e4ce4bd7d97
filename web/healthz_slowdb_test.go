package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// TestSlowDatabase holds site_state locked, as a long migration or a stuck
// transaction elsewhere would: the pages and the API answer 503 when their
// query deadline passes instead of hanging, /healthz says the database is
// too slow once the writer has waited on it, and all is well again when the
// lock is released. store/slowdb_test.go checks what the writer does with
// the probes meanwhile.
func TestSlowDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	st := store.New(pool)
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api/", Interval: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	writer := store.NewWriter(st, logger, store.WriterOptions{FlushInterval: 5 * time.Millisecond})
	wctx, stopWriter := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	go func() { writer.Run(wctx); close(writerDone) }()
	t.Cleanup(func() { stopWriter(); <-writerDone })
	srv := httptest.NewServer(web.New(web.Options{
		Store: st, Logger: logger, Writer: writer,
		// Far longer than any of these reads takes on an idle test
		// database; only the lock makes them reach it.
		QueryTimeout: 2 * time.Second,
	}))
	t.Cleanup(srv.Close)

	now := time.Now()
	writer.Add(store.Probe{SiteID: ids["api"], At: now.Add(-time.Minute), State: store.StateOK})
	storetest.WaitFor(t, "the first probe written", func() bool { return writer.Written() == 1 })
	if code, body := slowGet(t, srv.URL+"/healthz"); code != 200 {
		t.Fatalf("/healthz before the lock: %d %s", code, body)
	}

	// The lock, on a connection of its own, held until release.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			if err := tx.Rollback(ctx); err != nil {
				t.Errorf("release the lock: %v", err)
			}
		}
	}
	t.Cleanup(release)
	if _, err := tx.Exec(ctx, `LOCK TABLE site_state IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	writer.Add(store.Probe{SiteID: ids["api"], At: now, State: store.StateNotOK, Reason: "down"})

	// Every read of a site waits on the lock: each must end in a 503 that
	// says why, not hang. slowGet's own client gives up after a minute.
	paths := []string{"/", "/sites/api", "/api/v1/sites", "/api/v1/sites/api", "/api/v1/sites/api/transitions", "/badge/api.svg"}
	type answer struct {
		path, body string
		code       int
	}
	answers := make(chan answer, len(paths))
	for _, path := range paths {
		go func() {
			resp, err := (&http.Client{Timeout: time.Minute}).Get(srv.URL + path)
			if err != nil {
				answers <- answer{path: path, body: err.Error()}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{path, string(b), resp.StatusCode}
		}()
	}
	for range paths {
		a := <-answers
		if a.code != http.StatusServiceUnavailable || !strings.Contains(a.body, "database too slow to answer") {
			t.Fatalf("%s with site_state locked: %d %q; want 503, database too slow to answer", a.path, a.code, a.body)
		}
	}

	// The database answers a ping, and no write has failed: only the
	// write waiting on the lock tells that probes are not being written.
	storetest.WaitFor(t, "/healthz to say the database is too slow", func() bool {
		code, body := slowGet(t, srv.URL+"/healthz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "the database is too slow: a write has waited")
	})
	if writer.Written() != 1 || writer.Buffered() != 1 {
		t.Fatalf("while locked: written %d, buffered %d; want 1 and 1", writer.Written(), writer.Buffered())
	}

	release()
	storetest.WaitFor(t, "the waiting probe written", func() bool { return writer.Written() == 2 })
	if code, body := slowGet(t, srv.URL+"/healthz"); code != 200 {
		t.Fatalf("/healthz after the lock: %d %s", code, body)
	}
	code, body := slowGet(t, srv.URL+"/api/v1/sites/api")
	if code != 200 || !strings.Contains(body, `"state":"notok"`) {
		t.Fatalf("/api/v1/sites/api after the lock: %d %s", code, body)
	}
}

// slowGet GETs url; a minute without an answer fails the test as a hang.
func slowGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, body := getWith(t, &http.Client{Timeout: time.Minute}, url)
	return resp.StatusCode, body
}
