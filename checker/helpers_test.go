package checker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

// waitTimeout bounds every wait in these tests. It is a hang guard, not a
// measurement: nothing asserts that anything happens faster than this.
const waitTimeout = 10 * time.Second

// newServer starts an httptest server on loopback, TLS if asked, closed when
// the test ends. Its handshake-error log is discarded: several tests make
// handshakes fail on purpose.
func newServer(t *testing.T, h http.Handler, useTLS bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// blocker is a channel released when the test ends. Handlers wait on it (or
// on their request's end) to stand for a server that hangs. The release is
// registered after the server's Close, so it runs first and Close does not
// wait for a hanging handler.
func blocker(t *testing.T) <-chan struct{} {
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return ch
}

// trustingClient is NewClient's transport, keep-alives off, trusting pool.
func trustingClient(t *testing.T, pool *x509.CertPool, serverName string) *http.Client {
	t.Helper()
	tr := NewClient().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: serverName}
	return &http.Client{Transport: tr}
}

// clientFor trusts srv's certificate.
func clientFor(t *testing.T, srv *httptest.Server) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if srv.Certificate() != nil {
		pool.AddCert(srv.Certificate())
	}
	return trustingClient(t, pool, "")
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// expiredCert is a self-signed certificate for 127.0.0.1 that expired
// yesterday, and a pool trusting it.
func expiredCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "walnut test"},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(-24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// probeCtx bounds a test's probe, so a bug hangs nothing.
func probeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// recipeFunc adapts a function to recipes.Recipe.
type recipeFunc func(ctx context.Context, resp *recipes.Response, fetch recipes.FetchFunc) recipes.Verdict

func (f recipeFunc) Check(ctx context.Context, resp *recipes.Response, fetch recipes.FetchFunc) recipes.Verdict {
	return f(ctx, resp, fetch)
}

// failIfAsked is a recipe for probes that must fail before any recipe runs.
func failIfAsked(t *testing.T) recipes.Recipe {
	return recipeFunc(func(context.Context, *recipes.Response, recipes.FetchFunc) recipes.Verdict {
		t.Error("the recipe was asked about a transport failure")
		return recipes.Verdict{State: recipes.OK}
	})
}

// chanSink hands each probe to the test through a channel, until the test
// ends.
type chanSink struct {
	ch   chan store.Probe
	done <-chan struct{}
}

func newChanSink(t *testing.T) chanSink {
	return chanSink{ch: make(chan store.Probe), done: t.Context().Done()}
}

func (s chanSink) Add(p store.Probe) {
	select {
	case s.ch <- p:
	case <-s.done:
	}
}

// next waits for the next probe.
func (s chanSink) next(t *testing.T) store.Probe {
	t.Helper()
	return receive(t, s.ch, "a probe")
}

// receive waits for a value from ch, failing the test after waitTimeout.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// countSink counts probes per site ID and signals every change.
type countSink struct {
	mu      sync.Mutex
	counts  map[int32]int
	last    map[int32]store.Probe
	changed chan struct{}
}

func newCountSink() *countSink {
	return &countSink{counts: map[int32]int{}, last: map[int32]store.Probe{}, changed: make(chan struct{}, 1)}
}

func (s *countSink) Add(p store.Probe) {
	s.mu.Lock()
	s.counts[p.SiteID]++
	s.last[p.SiteID] = p
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *countSink) count(id int32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[id]
}

// waitCount waits until site id has at least n probes.
func (s *countSink) waitCount(t *testing.T, id int32, n int) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for s.count(id) < n {
		select {
		case <-s.changed:
		case <-timeout:
			t.Fatalf("timed out waiting for %d probes of site %d; have %d", n, id, s.count(id))
		}
	}
}

// testLogger sends logs to t.Log and counts records at level Error or above.
func testLogger(t *testing.T) (*slog.Logger, *atomic.Int64) {
	errs := new(atomic.Int64)
	h := slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(countingHandler{Handler: h, errs: errs}), errs
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type countingHandler struct {
	slog.Handler
	errs *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.errs.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return countingHandler{Handler: h.Handler.WithAttrs(a), errs: h.errs}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{Handler: h.Handler.WithGroup(name), errs: h.errs}
}
