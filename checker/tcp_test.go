package checker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Walnut Test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a certificate for 127.0.0.1 that expires at notAfter.
func (ca *testCA) leaf(t *testing.T, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "db.internal"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// listen accepts connections on loopback and hands each to serve (nil:
// hold it open until the test ends).
func listen(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if serve != nil {
					serve(c)
					return
				}
				<-done
			})
		}
	})
	return ln.Addr().String()
}

// tlsListen serves TLS with cert, completing each handshake.
func tlsListen(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	return listen(t, func(c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		tc.Handshake()          //nolint:errcheck // the client's failure is what is tested
		io.Copy(io.Discard, tc) //nolint:errcheck // until the client closes
	})
}

func TestProbeTCP(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	in5days := time.Now().Add(5 * 24 * time.Hour)

	t.Run("AcceptedIsOKWithConnectTime", func(t *testing.T) {
		t.Parallel()
		addr := listen(t, nil)
		p := Probe(probeCtx(t), nil, Site{ID: 3, TCP: true, URL: "tcp://" + addr, Timeout: waitTimeout}, nil)
		if p.State != store.StateOK || p.Reason != "" || p.HTTPStatus != 0 || p.SiteID != 3 {
			t.Fatalf("probe = %+v, want ok without status", p)
		}
		if p.Connect <= 0 || p.Latency < p.Connect {
			t.Errorf("connect %v, latency %v: want connect > 0 and latency at least connect", p.Connect, p.Latency)
		}
		if p.TLS != 0 || p.DNS != 0 {
			t.Errorf("tls %v, dns %v: want 0 for a plain connection to an IP", p.TLS, p.DNS)
		}
		if p.TTFB != p.Latency || !p.Answered() {
			t.Errorf("ttfb %v, latency %v: want the connection to be the answer, timed", p.TTFB, p.Latency)
		}
	})

	t.Run("RefusedIsNotOK", func(t *testing.T) {
		t.Parallel()
		p := Probe(probeCtx(t), nil, Site{TCP: true, URL: "tcp://" + deadAddr(t), Timeout: waitTimeout}, nil)
		if p.State != store.StateNotOK || p.Reason != "connection refused" || p.Answered() {
			t.Errorf("probe = %+v, want notok \"connection refused\", not timed", p)
		}
	})

	t.Run("HandshakeNeverCompletingTimesOut", func(t *testing.T) {
		t.Parallel()
		// The listener accepts, then says nothing: the handshake hangs
		// until the timeout, which is long enough that the connect before
		// it is done well within it, even on a loaded machine.
		addr := listen(t, nil)
		p := Probe(probeCtx(t), nil, Site{TCP: true, URL: "tls://" + addr, Timeout: 3 * time.Second}, nil)
		if p.State != store.StateNotOK || p.Reason != "timed out after 3s in the TLS handshake" {
			t.Errorf("probe = %+v, want notok timed out in the handshake", p)
		}
		if p.Connect <= 0 {
			t.Errorf("connect = %v, want the connect that did happen", p.Connect)
		}
	})

	t.Run("TLSWithPrivateCA", func(t *testing.T) {
		t.Parallel()
		addr := tlsListen(t, ca.leaf(t, in5days))
		res := Check(probeCtx(t), nil, Site{TCP: true, URL: "tls://" + addr, Timeout: waitTimeout, CA: ca.pem, CertWarning: 14 * 24 * time.Hour, CertCritical: 2 * 24 * time.Hour}, nil)
		p := res.Probe
		if p.State != store.StateOK || p.TLS <= 0 || p.Connect <= 0 {
			t.Fatalf("probe = %+v, want ok with connect and TLS phases", p)
		}
		c := res.Cert
		if c == nil {
			t.Fatal("no certificate")
		}
		if !c.ExpiresAt.Equal(in5days.Truncate(time.Second).UTC()) || c.Issuer != "Walnut Test CA" || c.Subject != "db.internal" || !c.Verified || len(c.Fingerprint) != 64 {
			t.Errorf("cert = %+v", c)
		}
		if c.WarnFrom == nil || !c.WarnFrom.Equal(c.ExpiresAt.Add(-14*24*time.Hour)) {
			t.Errorf("warn from = %v, want 14 days before expiry", c.WarnFrom)
		}
	})

	t.Run("TLSUntrustedIsNotOK", func(t *testing.T) {
		t.Parallel()
		addr := tlsListen(t, ca.leaf(t, in5days))
		p := Probe(probeCtx(t), nil, Site{TCP: true, URL: "tls://" + addr, Timeout: waitTimeout}, nil)
		if p.State != store.StateNotOK || p.Reason != "TLS handshake failed: certificate signed by unknown authority" {
			t.Errorf("probe = %+v, want notok for an unknown authority", p)
		}
	})

	t.Run("TLSInsecureReadsTheCertificate", func(t *testing.T) {
		t.Parallel()
		addr := tlsListen(t, ca.leaf(t, in5days))
		res := Check(probeCtx(t), nil, Site{TCP: true, URL: "tls://" + addr, Timeout: waitTimeout, Insecure: true}, nil)
		if res.Probe.State != store.StateOK || res.Cert == nil || res.Cert.Verified {
			t.Errorf("probe = %+v, cert = %+v: want ok and an unverified certificate", res.Probe, res.Cert)
		}
	})

	t.Run("CertCriticalTurnsNotOK", func(t *testing.T) {
		t.Parallel()
		addr := tlsListen(t, ca.leaf(t, time.Now().Add(24*time.Hour)))
		p := Probe(probeCtx(t), nil, Site{TCP: true, URL: "tls://" + addr, Timeout: waitTimeout, CA: ca.pem, CertCritical: 2 * 24 * time.Hour}, nil)
		if p.State != store.StateNotOK || p.Reason != "certificate expires in 1 day" {
			t.Errorf("probe = %+v, want notok \"certificate expires in 1 day\"", p)
		}
	})
}

func TestProbeHTTPSCert(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	tests := map[string]struct {
		expires    time.Duration
		status     int
		critical   time.Duration
		wantState  store.State
		wantReason string
	}{
		"FiveDaysIsOK":           {5 * 24 * time.Hour, 200, 2 * 24 * time.Hour, store.StateOK, ""},
		"OneDayIsNotOK":          {24 * time.Hour, 200, 2 * 24 * time.Hour, store.StateNotOK, "certificate expires in 1 day"},
		"OneDayCriticalOff":      {24 * time.Hour, 200, 0, store.StateOK, ""},
		"RecipeReasonComesFirst": {24 * time.Hour, 503, 2 * 24 * time.Hour, store.StateNotOK, "HTTP 503"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := newServerTLS(t, ca.leaf(t, time.Now().Add(tt.expires)), tt.status)
			res := Check(probeCtx(t), nil, Site{URL: url, Timeout: waitTimeout, CA: ca.pem, CertCritical: tt.critical}, nil)
			if res.Probe.State != tt.wantState || !strings.HasPrefix(res.Probe.Reason, tt.wantReason) {
				t.Errorf("probe = %+v, want %s %q", res.Probe, tt.wantState, tt.wantReason)
			}
			if res.Cert == nil || res.Cert.Issuer != "Walnut Test CA" || !res.Cert.Verified {
				t.Errorf("cert = %+v, want the leaf's, verified", res.Cert)
			}
		})
	}
}

// newServerTLS serves HTTPS on loopback with cert, answering status.
func newServerTLS(t *testing.T, cert tls.Certificate, status int) string {
	t.Helper()
	addr := listen(t, func(c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		if tc.Handshake() != nil {
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })}
		ln := &oneConn{conn: tc, done: make(chan struct{})}
		srv.Serve(ln) //nolint:errcheck // ends with the connection
	})
	return "https://" + addr + "/"
}

// oneConn is a listener that yields one connection, then blocks until it
// closes.
type oneConn struct {
	conn net.Conn
	once sync.Once
	done chan struct{}
}

func (l *oneConn) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = &closeNotify{Conn: l.conn, done: l.done} })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}
func (l *oneConn) Close() error   { return nil }
func (l *oneConn) Addr() net.Addr { return l.conn.LocalAddr() }

type closeNotify struct {
	net.Conn
	once sync.Once
	done chan struct{}
}

func (c *closeNotify) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}

func TestWarnThreshold(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	tests := []struct {
		left, warning time.Duration
		want          int
	}{
		{20 * day, 14 * day, 0},
		{14 * day, 14 * day, 14},
		{9 * day, 14 * day, 14},
		{5 * day, 14 * day, 7},
		{3 * day, 14 * day, 3},
		{20 * time.Hour, 14 * day, 1},
		{-day, 14 * day, 1},
		{20 * day, 21 * day, 21},
		{13 * day, 21 * day, 14},
		{4 * day, 5 * day, 5},
		{2 * day, 5 * day, 3},
		{day, 0, 0},
		{30 * time.Hour, 36 * time.Hour, 2},
	}
	for _, tt := range tests {
		if got := warnThreshold(tt.left, tt.warning); got != tt.want {
			t.Errorf("warnThreshold(%v, %v) = %d, want %d", tt.left, tt.warning, got, tt.want)
		}
	}
}

// fakeCerts is a CertStore that records what it is asked.
type fakeCerts struct {
	mu    sync.Mutex
	saves []store.Cert
	warns []int
	calls chan struct{}
}

func newFakeCerts() *fakeCerts { return &fakeCerts{calls: make(chan struct{}, 100)} }

func (f *fakeCerts) SiteCertSave(ctx context.Context, siteID int32, c store.Cert, at time.Time) error {
	f.mu.Lock()
	f.saves = append(f.saves, c)
	f.mu.Unlock()
	f.calls <- struct{}{}
	return nil
}

func (f *fakeCerts) SiteCertWarn(ctx context.Context, siteID int32, fingerprint string, days int) (bool, error) {
	f.mu.Lock()
	f.warns = append(f.warns, days)
	f.mu.Unlock()
	f.calls <- struct{}{}
	return true, nil
}

func TestRunnerKeepsCertOnlyWhenItChanges(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	addr := tlsListen(t, ca.leaf(t, time.Now().Add(5*24*time.Hour)))
	certs := newFakeCerts()
	sink := newChanSink(t)
	site := Site{ID: 9, Slug: "db", TCP: true, URL: "tls://" + addr, Interval: 20 * time.Millisecond, Timeout: waitTimeout,
		CA: ca.pem, CertWarning: 14 * 24 * time.Hour, CertCritical: 2 * 24 * time.Hour}
	r := NewRunner(site, sink, nil, Options{StaggerDisabled: true, Certs: certs})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	receive(t, certs.calls, "the certificate saved")
	receive(t, certs.calls, "the warning asked")
	for range 5 {
		if p := sink.next(t); p.State != store.StateOK {
			t.Fatalf("probe = %+v, want ok", p)
		}
	}
	cancel()
	<-done
	certs.mu.Lock()
	defer certs.mu.Unlock()
	if len(certs.saves) != 1 || len(certs.warns) != 1 || certs.warns[0] != 7 {
		t.Errorf("after 5 probes or more: %d saves, warnings %v; want 1 save and one warning at 7 days", len(certs.saves), certs.warns)
	}
}

// A site whose tls.ca cannot be read is notok saying so, without a request,
// from walnut check and from its runner alike (one prober builds both).
func TestBadCAIsNotOK(t *testing.T) {
	t.Parallel()
	for _, site := range []Site{
		{ID: 4, Slug: "db", TCP: true, URL: "tls://127.0.0.1:1", Timeout: waitTimeout, CA: []byte("not a PEM")},
		{ID: 5, Slug: "web", URL: "https://127.0.0.1:1/", Timeout: waitTimeout, CA: []byte("not a PEM")},
	} {
		const want = "the site's tls.ca holds no PEM certificate"
		if p := Check(probeCtx(t), nil, site, nil).Probe; p.State != store.StateNotOK || p.Reason != want || p.SiteID != site.ID {
			t.Errorf("%s: Check = %+v, want notok %q", site.Slug, p, want)
		}
		sink := newCountSink()
		NewRunner(site, sink, nil, Options{}).probeAndSend(probeCtx(t))
		sink.waitCount(t, site.ID, 1)
		if p := sink.last[site.ID]; p.State != store.StateNotOK || p.Reason != want {
			t.Errorf("%s: runner's probe = %+v, want notok %q", site.Slug, p, want)
		}
	}
}
