package checker

import (
	"net"
	"net/http"
	"time"
)

// MaxResponseHeaderBytes bounds the response headers a probe accepts.
const MaxResponseHeaderBytes = 64 << 10

// NewClient returns the HTTP client probes use. Share one between runners.
//
// Keep-alives are disabled: a reused connection has no DNS lookup, connect or
// TLS handshake, so a probe on a pooled connection would report those phases
// as zero and hide a slow resolver or a struggling TLS terminator, and a stale
// pooled connection would turn into spurious "connection reset" verdicts. A
// fresh connection per probe also means a thousand sites do not hold a
// thousand idle sockets between probes.
//
// The client sets no overall Timeout: each probe bounds itself with its
// site's timeout through the request context. Gzip is negotiated and decoded
// by the transport, as by default; proxies come from the environment.
func NewClient() *http.Client {
	dialer := &net.Dialer{
		Timeout:   30 * time.Second, // the probe's context usually ends it sooner
		KeepAlive: -1,               // no TCP keep-alive probes on single-use connections
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			DisableKeepAlives:      true,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  1 * time.Second,
			MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		},
	}
}
