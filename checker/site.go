// Package checker probes sites: the traced HTTP probe, one runner goroutine per
// site with its own ticker and supervision, and the scheduler that starts,
// restarts and stops the runners. It is the only package that knows both a
// recipe's verdict and a store probe.
package checker

import (
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

const (
	// BodyLimit is how much of a response body a probe reads by default.
	BodyLimit = 1 << 20
	// DefaultInterval is the time between probes when a site sets none.
	DefaultInterval = 30 * time.Second
	// DefaultTimeout bounds a whole probe, body included, when a site sets none.
	DefaultTimeout = 10 * time.Second
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
	Interval    time.Duration // default DefaultInterval
	Timeout     time.Duration // the whole exchange, body included; default DefaultTimeout
	BodyLimit   int64         // bytes of body read; 0 means BodyLimit
	Recipe      recipes.Recipe
	// MaxPending is how long the site may stay pending: once its pending
	// probes in a row span longer, they are notok, "pending for 2h10m".
	// 0 means no limit.
	MaxPending time.Duration
	// Secrets are the values that came from ${…} (in the URL, headers, body
	// or recipe), hidden from every reason like the URL's query values and
	// the headers' values: an upstream may echo them.
	Secrets []string

	// Kind is KindTCP for tcp:// and tls:// URLs: the probe connects (and
	// for tls:// shakes hands) and sends nothing. "" or KindHTTP: a request.
	Kind string
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

// Site kinds.
const (
	KindHTTP = "http"
	KindTCP  = "tcp"
)

// Sink receives finished probes; *store.Writer satisfies it.
type Sink interface {
	Add(p store.Probe)
}

func (s *Site) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultInterval
}

func (s *Site) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Site) bodyLimit() int64 {
	if s.BodyLimit > 0 {
		return s.BodyLimit
	}
	return BodyLimit
}
