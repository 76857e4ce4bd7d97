package checker

import (
	"crypto/tls"
	"crypto/x509"
	"net/http/httptrace"
	"sync"
	"time"
)

// timings collects one probe's phase timestamps from httptrace hooks. The
// hooks may run concurrently (Happy Eyeballs dials several addresses at once)
// and even after the request has returned, so every field is guarded by mu
// and durations are computed only once the body has been read.
//
// Redirects reuse the request's context, so the hooks fire for every hop;
// newHop clears the per-hop stamps, so the phases describe the last hop.
type timings struct {
	mu           sync.Mutex
	start        time.Time
	dnsStart     time.Time
	dnsDone      time.Time
	connectStart time.Time
	connectDone  time.Time
	tlsStart     time.Time
	tlsDone      time.Time
	firstByte    time.Time
	// leaf is the certificate of the probe's first successful handshake:
	// the site's own host for an https:// URL, whatever a redirect leads
	// to; for an http:// URL that redirects to https://, the first https
	// hop's, since the site's own host had no handshake.
	leaf *x509.Certificate
}

// phases are a probe's durations; zero for a phase that did not happen.
type phases struct {
	DNS, Connect, TLS, TTFB time.Duration
}

func (t *timings) trace() *httptrace.ClientTrace {
	set := func(f *time.Time, ok bool) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if ok && f.IsZero() {
			*f = time.Now()
		}
	}
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { set(&t.dnsStart, true) },
		DNSDone:  func(httptrace.DNSDoneInfo) { set(&t.dnsDone, true) },
		// The first dial started, and the first that succeeded: with several
		// addresses, the losers' hooks are ignored.
		ConnectStart:      func(string, string) { set(&t.connectStart, true) },
		ConnectDone:       func(_, _ string, err error) { set(&t.connectDone, err == nil) },
		TLSHandshakeStart: func() { set(&t.tlsStart, true) },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			set(&t.tlsDone, err == nil)
			if err == nil && len(cs.PeerCertificates) > 0 {
				t.mu.Lock()
				defer t.mu.Unlock()
				if t.leaf == nil {
					t.leaf = cs.PeerCertificates[0]
				}
			}
		},
		GotFirstResponseByte: func() { set(&t.firstByte, true) },
	}
}

// begin stamps the start of the probe.
func (t *timings) begin() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start = time.Now()
	return t.start
}

// newHop forgets the previous hop's phases before a redirect is followed.
func (t *timings) newHop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dnsStart, t.dnsDone = time.Time{}, time.Time{}
	t.connectStart, t.connectDone = time.Time{}, time.Time{}
	t.tlsStart, t.tlsDone = time.Time{}, time.Time{}
	t.firstByte = time.Time{}
}

// phases computes the durations. TTFB is measured from the start of the probe,
// so after redirects it includes the earlier hops.
func (t *timings) phases() phases {
	t.mu.Lock()
	defer t.mu.Unlock()
	span := func(from, to time.Time) time.Duration {
		if from.IsZero() || to.IsZero() || to.Before(from) {
			return 0
		}
		return to.Sub(from)
	}
	return phases{
		DNS:     span(t.dnsStart, t.dnsDone),
		Connect: span(t.connectStart, t.connectDone),
		TLS:     span(t.tlsStart, t.tlsDone),
		TTFB:    span(t.start, t.firstByte),
	}
}

// stalled names the phase a request was in when it failed or timed out, for
// a reason such as "timed out after 10s connecting".
func (t *timings) stalled() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !t.dnsStart.IsZero() && t.dnsDone.IsZero():
		return "looking up the host"
	case !t.connectStart.IsZero() && t.connectDone.IsZero():
		return "connecting"
	case !t.tlsStart.IsZero() && t.tlsDone.IsZero():
		return "in the TLS handshake"
	case t.firstByte.IsZero():
		return "waiting for the response"
	}
	return ""
}

// cert is the leaf certificate of the first successful handshake, or nil.
func (t *timings) cert() *x509.Certificate {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leaf
}
