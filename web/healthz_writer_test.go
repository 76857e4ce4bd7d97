package web_test

import (
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
