// Package checker probes sites: the traced HTTP probe, one runner goroutine per
// site with its own ticker and supervision, and the scheduler that starts,
// restarts and stops the runners. It is the only package that knows both a
// recipe's verdict and a store probe.
package checker

import (
	"context"
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

const (
	// BodyLimit is how much of a response body a probe reads by default.
	BodyLimit = 1 << 20
)

// Site is what the checker needs to probe one site.
type Site struct {
	ID   int32
	Slug string
	// URL may carry secrets (query tokens); it is only ever sent upstream,
	// never logged nor put into a reason.
	URL string
	// RedactedURL is the scheme, host and path: what logs may show.
	RedactedURL string
	Method      string // default GET
	Headers     map[string]string
	Body        string
	// Interval is the time between probes; it must be positive. The
	// defaults a site's config leaves out are config's to fill in
	// (config.DefaultInterval, config.DefaultTimeout), so they have one home.
	Interval time.Duration
	// Timeout bounds the whole exchange, body included; 0 leaves the bound
	// to ctx, as an http.Client without a Timeout does.
	Timeout   time.Duration
	BodyLimit int64 // bytes of body read; 0 means BodyLimit
	Recipe    recipes.Recipe
	// MaxPending is how long the site may stay pending: once its pending
	// probes in a row span longer, they are notok, "pending for 2h10m".
	// 0 means no limit.
	MaxPending time.Duration
	// Secrets are the values that came from ${…} (in the URL, headers, body
	// or recipe), hidden from every reason like the URL's query values and
	// the headers' values: an upstream may echo them.
	Secrets []string

	// TCP is set for tcp:// and tls:// URLs (config.KindTCP): the probe
	// connects (and for tls:// shakes hands) and sends nothing. Otherwise
	// it makes a request.
	TCP bool
	// CA is PEM certificates trusted instead of the system's roots for the
	// site's TLS; Insecure skips verification (the certificate is still
	// read, for its expiry).
	CA       []byte
	Insecure bool
	// CertWarning is how long before the certificate expires a warning is
	// recorded (the board's line, Slack once per threshold); CertCritical
	// is when the probe turns notok. 0 is off.
	CertWarning, CertCritical time.Duration
	// Heartbeat, when set, makes the site one that calls in: it is not
	// probed, and its runner writes a notok probe when a call is overdue.
	Heartbeat *Heartbeat
}

// Sink receives finished probes; *store.Writer satisfies it.
type Sink interface {
	Add(p store.Probe)
}

// probeContext is ctx bounded by the site's timeout, if it has one.
func (s *Site) probeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.Timeout > 0 {
		return context.WithTimeout(ctx, s.Timeout)
	}
	return context.WithCancel(ctx)
}

func (s *Site) bodyLimit() int64 {
	if s.BodyLimit > 0 {
		return s.BodyLimit
	}
	return BodyLimit
}
