package checker

import (
	"context"
	"crypto/tls"
	"net"
	"net/http/httptrace"
	"net/url"
	"time"

	"github.com/walnut-board/walnut/store"
)

// probeTCP connects to a tcp:// or tls:// site: the connect time is the
// probe's latency (and its connect phase), and for tls:// the handshake
// follows (the TLS phase) and its certificate is checked like an https://
// site's. Nothing is sent: a database, Redis or SMTP server that accepts a
// connection is up. A refusal or a timeout is notok with a short reason.
// HTTPStatus stays 0: there is no HTTP here; TTFB is the latency.
func probeTCP(ctx context.Context, conf *tls.Config, site Site, now func() time.Time, scrub scrubber) outcome {
	p := store.Probe{SiteID: site.ID, Slug: site.Slug, At: now()}
	notOK := func(reason string) outcome {
		p.State = store.StateNotOK
		p.Reason = scrub.clean(reason)
		return outcome{probe: p}
	}
	u, err := url.Parse(site.URL)
	if err != nil || u.Port() == "" {
		return notOK("invalid URL: want tcp://host:port or tls://host:port")
	}

	timeout := site.Timeout
	probeCtx, cancel := site.probeContext(ctx)
	defer cancel()
	var tm timings
	trace := tm.trace()
	// The dialer reports DNS and connect to the same hooks as an HTTP
	// probe's, through the context.
	traced := httptrace.WithClientTrace(probeCtx, trace)
	var start time.Time
	fail := func(err error) outcome {
		p.Latency = time.Since(start)
		setPhases(&p, tm.phases())
		p.TTFB = 0
		return notOK(classify(failure{err: err, parent: ctx, probe: probeCtx, timeout: timeout, stage: tm.stalled()}))
	}

	start = tm.begin()
	dialer := net.Dialer{KeepAlive: -1}
	conn, err := dialer.DialContext(traced, "tcp", u.Host)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()

	var cert *store.Cert
	if u.Scheme == "tls" {
		c := &tls.Config{}
		if conf != nil {
			c = conf.Clone()
		}
		c.ServerName = u.Hostname()
		tc := tls.Client(conn, c)
		trace.TLSHandshakeStart()
		err := tc.HandshakeContext(probeCtx)
		trace.TLSHandshakeDone(tc.ConnectionState(), err)
		if err != nil {
			return fail(err)
		}
		cert = leafCert(tm.cert(), site)
	}
	p.Latency = time.Since(start)
	setPhases(&p, tm.phases())
	// The server's answer is the connection (and handshake) itself: TTFB is
	// the whole probe. A TTFB with no HTTP status is what marks a timed TCP
	// probe for the latency charts (store.Probe.Answered).
	p.TTFB = p.Latency
	p.State = store.StateOK
	applyCertCritical(&p, cert, site)
	return outcome{probe: p, cert: cert}
}
