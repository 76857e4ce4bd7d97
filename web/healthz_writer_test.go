package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

type fakeWriter struct {
	buffered int
	err      error
	stalled  time.Duration
}

func (f fakeWriter) Buffered() int          { return f.buffered }
func (f fakeWriter) LastError() error       { return f.err }
func (f fakeWriter) Stalled() time.Duration { return f.stalled }

func TestHealthzWriter(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))
	for name, tc := range map[string]struct {
		writer fakeWriter
		code   int
		reason string
	}{
		"KeepingUp":     {fakeWriter{buffered: 12}, 200, ""},
		"WritesFailing": {fakeWriter{err: errors.New("connection refused")}, 503, "probes cannot be written"},
		"FallingBehind": {fakeWriter{buffered: 50_000}, 503, "falling behind: 50000 probes waiting"},
		"WriteInFlight": {fakeWriter{stalled: time.Second}, 200, ""},
		"WriteStalled":  {fakeWriter{stalled: 12 * time.Second}, 503, "too slow: a write has waited 12s"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := web.New(web.Options{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Writer: tc.writer})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.reason) {
				t.Fatalf("%d %s; want %d with %q", rec.Code, rec.Body.String(), tc.code, tc.reason)
			}
			if strings.Contains(rec.Body.String(), "connection refused") {
				t.Fatal("/healthz shows the raw database error")
			}
		})
	}
}

// lossyWriter is a writer that reports losses, and the window it was asked
// about.
type lossyWriter struct {
	fakeWriter
	losses store.Losses
	asked  *time.Time
}

func (f lossyWriter) Losses(since time.Time) store.Losses {
	*f.asked = since
	return f.losses
}

// TestHealthzLostProbes: probes the database refused or the writer dropped
// in the last 10 minutes show on /healthz as a warning, with the latest
// rejection's site and cause, scrubbed; the answer stays 200, since the
// sites concerned show their own verdict and restarting cures nothing.
func TestHealthzLostProbes(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	last := now.Add(-2 * time.Minute)
	for name, tc := range map[string]struct {
		losses store.Losses
		status string
		want   []string
	}{
		"None": {store.Losses{}, "ok", []string{`"probes":{"status":"ok","window":"10m","dropped":0,"rejected":0}`}},
		"Rejected": {
			store.Losses{Rejected: 3, Last: `vendor: invalid byte sequence for encoding "UTF8": 0x00 Bearer sk_live_51HxYzAbCdEfGhIjKlMnOpQr`, LastAt: last},
			"rejected",
			[]string{
				`"rejected":3`,
				`3 probes could not be stored in the last 10 minutes, last: vendor: invalid byte sequence`,
				`"last_at":"2026-12-02T08:58:00Z"`,
			},
		},
		"Dropped": {store.Losses{Dropped: 120}, "dropped", []string{`"dropped":120`, `120 probes lost in the last 10 minutes`}},
		"Both": {
			store.Losses{Dropped: 1, Rejected: 1, Last: "api: value too long", LastAt: last},
			"rejected",
			[]string{`1 probe could not be stored in the last 10 minutes, last: api: value too long; 1 probe lost in the last 10 minutes`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var asked time.Time
			h := web.New(web.Options{
				Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Writer: lossyWriter{losses: tc.losses, asked: &asked}, Now: func() time.Time { return now },
			})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			body := rec.Body.String()
			if rec.Code != 200 || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"probes":{"status":"`+tc.status+`"`) {
				t.Fatalf("%d %s; want 200 with probes %s", rec.Code, body, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("/healthz lacks %s:\n%s", w, body)
				}
			}
			if strings.Contains(body, "sk_live_51HxYzAbCdEfGhIjKlMnOpQr") {
				t.Errorf("/healthz shows a key:\n%s", body)
			}
			if !asked.Equal(now.Add(-10 * time.Minute)) {
				t.Errorf("asked for losses since %v, want 10 minutes back", asked)
			}
		})
	}
}

// TestHealthzRejectedProbeIsNotAnOutage runs a real writer: a probe the
// database refuses shows on /healthz as a rejection, with its site, and
// never as "probes cannot be written", which means the database is away.
func TestHealthzRejectedProbeIsNotAnOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://api/", Interval: time.Minute},
		{Slug: "vendor", Name: "Vendor", URL: "https://vendor/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	writer := store.NewWriter(st, logger, store.WriterOptions{FlushInterval: time.Hour, BatchSize: 2})
	wctx, stopWriter := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	go func() { writer.Run(wctx); close(writerDone) }()
	t.Cleanup(func() { stopWriter(); <-writerDone })
	h := web.New(web.Options{Store: st, Logger: logger, Writer: writer})

	now := time.Now()
	writer.Add(store.Probe{SiteID: ids["api"], At: now, State: store.StateOK})
	// A state the database has no value for: no cleaning of text mends it.
	writer.Add(store.Probe{SiteID: ids["vendor"], At: now, State: "bogus"})
	storetest.WaitFor(t, "the batch written", func() bool { return writer.Written() == 2 })

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	body := rec.Body.String()
	if rec.Code != 200 || strings.Contains(body, "cannot be written") {
		t.Fatalf("/healthz after a rejection: %d %s; want 200, no outage", rec.Code, body)
	}
	if want := `1 probe could not be stored in the last 10 minutes, last: vendor: invalid input value for enum state`; !strings.Contains(body, want) {
		t.Fatalf("/healthz lacks %q:\n%s", want, body)
	}
}
