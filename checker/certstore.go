package checker

import (
	"context"
	"sync"
	"time"

	"github.com/walnut-board/walnut/store"
)

// CertStore keeps sites' certificates; *store.Store has it.
type CertStore interface {
	// SiteCertSave records the certificate a site presented at at. A
	// different certificate from the one recorded starts afresh (first
	// seen, warnings sent); the same one only moves its last seen.
	SiteCertSave(ctx context.Context, siteID int32, c store.Cert, at time.Time) error
	// SiteCertWarn records that the certificate with this fingerprint has
	// crossed the threshold of days and, the first time, queues a Slack
	// notice of it; it reports whether it did.
	SiteCertWarn(ctx context.Context, siteID int32, fingerprint string, days int) (bool, error)
}

const (
	// certRefresh is how often an unchanged certificate's last seen is
	// moved: a probe costs nothing, and the page still says it is current.
	certRefresh = time.Hour
	// certRetry is the pause after a failed save: a database outage must
	// not have every TLS probe try again.
	certRetry = time.Minute
	// certTimeout bounds one save.
	certTimeout = 10 * time.Second
)

// certMemo is what a runner has saved of its site's certificate, so that
// it writes only when something changed. A save runs on its own goroutine,
// one at a time, so a slow database never holds a probe up.
type certMemo struct {
	mu       sync.Mutex
	busy     bool
	saved    certKey
	savedAt  time.Time
	warnedFP string // the certificate the warning below is for
	warned   int    // the smallest threshold asked for, in days; 0 none
	failedAt time.Time
	bg       sync.WaitGroup
}

// certKey is what makes a saved record out of date.
type certKey struct {
	fingerprint string
	verified    bool
	warnFrom    time.Time
}

func keyOfCert(c *store.Cert) certKey {
	k := certKey{fingerprint: c.Fingerprint, verified: c.Verified}
	if c.WarnFrom != nil {
		k.warnFrom = *c.WarnFrom
	}
	return k
}

// keepCert saves the probe's certificate when it differs from the one
// saved, and records each warning threshold crossed, in the background.
func (r *Runner) keepCert(ctx context.Context, c *store.Cert, at time.Time) {
	if c == nil || r.opts.Certs == nil {
		return
	}
	m := &r.certs
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.busy || !m.failedAt.IsZero() && at.Sub(m.failedAt) < certRetry {
		return
	}
	key := keyOfCert(c)
	save := key != m.saved || at.Sub(m.savedAt) >= certRefresh
	warn := warnThreshold(c.Left(at), r.site.CertWarning)
	ask := warn > 0 && (m.warnedFP != c.Fingerprint || warn < m.warned)
	if !save && !ask {
		return
	}
	m.busy = true
	cert := *c
	m.bg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, certTimeout)
		defer cancel()
		var err error
		if save {
			err = r.opts.Certs.SiteCertSave(ctx, r.site.ID, cert, at)
		}
		sent := false
		if err == nil && ask {
			sent, err = r.opts.Certs.SiteCertWarn(ctx, r.site.ID, cert.Fingerprint, warn)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.busy = false
		if err != nil {
			m.failedAt = at
			if ctx.Err() == nil || ctx.Err() == context.DeadlineExceeded {
				r.logger.Warn("save certificate", "error", err)
			}
			return
		}
		m.failedAt = time.Time{}
		if save {
			m.saved, m.savedAt = key, at
		}
		if ask {
			m.warnedFP, m.warned = cert.Fingerprint, warn
		}
		if sent {
			r.logger.Info("certificate warning queued", "days", warn, "expires_at", cert.ExpiresAt)
		}
	})
}
