package checker

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/walnut-board/walnut/store"
)

// tlsConfig is the TLS configuration a site asks for: its own CA, or no
// verification. Nil when it asks for neither, so the shared client serves.
func (s *Site) tlsConfig() (*tls.Config, error) {
	if len(s.CA) == 0 && !s.Insecure {
		return nil, nil
	}
	conf := &tls.Config{InsecureSkipVerify: s.Insecure} //nolint:gosec // the site's own choice, shown on its page
	if len(s.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(s.CA) {
			return nil, errors.New("the site's tls.ca holds no PEM certificate")
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// prober is how one site is probed, made once for `walnut check` and for a
// runner alike: the client (base, or a copy of its transport with the
// site's TLS settings: tls.ca, insecure), the TLS configuration a tls://
// probe uses, or why they could not be made.
type prober struct {
	client *http.Client
	conf   *tls.Config
	err    error
}

func newProber(base *http.Client, site Site) prober {
	conf, err := site.tlsConfig()
	if err != nil {
		return prober{err: err}
	}
	return prober{client: withTLS(base, conf), conf: conf}
}

// run probes site; a site whose TLS settings could not be made is notok,
// saying why, without a request.
func (pr prober) run(ctx context.Context, site Site, now func() time.Time, scrub scrubber) outcome {
	if pr.err != nil {
		if now == nil {
			now = time.Now
		}
		return outcome{probe: store.Probe{SiteID: site.ID, Slug: site.Slug, At: now(), State: store.StateNotOK, Reason: scrub.clean(pr.err.Error())}}
	}
	return probe(ctx, pr.client, pr.conf, site, now, scrub)
}

// withTLS is base, or with conf a copy of base whose transport uses it.
func withTLS(base *http.Client, conf *tls.Config) *http.Client {
	if conf == nil {
		return base
	}
	tr, ok := base.Transport.(*http.Transport)
	if !ok {
		if base.Transport != nil {
			return base // a test's round tripper: it knows its TLS
		}
		tr = http.DefaultTransport.(*http.Transport)
	}
	tr = tr.Clone()
	tr.TLSClientConfig = conf
	c := *base
	c.Transport = tr
	return &c
}

// leafCert is what Walnut keeps of the certificate a site presented.
func leafCert(leaf *x509.Certificate, site Site) *store.Cert {
	if leaf == nil {
		return nil
	}
	sum := sha256.Sum256(leaf.Raw)
	c := &store.Cert{
		ExpiresAt:   leaf.NotAfter.UTC(),
		Issuer:      nameOf(leaf.Issuer.CommonName, leaf.Issuer.Organization, leaf.Issuer.String),
		Subject:     nameOf(leaf.Subject.CommonName, leaf.DNSNames, nil),
		Fingerprint: hex.EncodeToString(sum[:]),
		Verified:    !site.Insecure,
	}
	if site.CertWarning > 0 {
		from := c.ExpiresAt.Add(-site.CertWarning)
		c.WarnFrom = &from
	}
	return c
}

// nameOf is a certificate's name as a person reads it: the common name,
// else the first alternative, else last (called only then: formatting a
// whole distinguished name costs more than the rest of a probe's reading).
func nameOf(cn string, alts []string, last func() string) string {
	switch {
	case cn != "":
		return cn
	case len(alts) > 0:
		return alts[0]
	case last != nil:
		return last()
	}
	return ""
}

// applyCertCritical turns a probe notok when its certificate expires within
// the site's CertCritical: "certificate expires in 1 day". A probe already
// notok keeps its own reason, which says more.
func applyCertCritical(p *store.Probe, cert *store.Cert, site Site) {
	if cert == nil || site.CertCritical <= 0 || p.State == store.StateNotOK {
		return
	}
	if left := cert.Left(p.At); left <= site.CertCritical {
		p.State = store.StateNotOK
		p.Reason = store.ExpiryText(left)
	}
}

// warnThresholds are the days before expiry at which Slack hears of a
// certificate, below the site's cert_warning, which is a threshold too.
var warnThresholds = []int{14, 7, 3, 1}

// warnThreshold is the smallest threshold, in days, that a certificate
// with left to live has crossed under a warning of warning; 0 for none.
// cert_warning itself counts, rounded up to whole days.
func warnThreshold(left, warning time.Duration) int {
	if warning <= 0 || left > warning {
		return 0
	}
	const day = 24 * time.Hour
	t := int((warning + day - 1) / day)
	for _, d := range warnThresholds {
		if time.Duration(d)*day < warning && left <= time.Duration(d)*day {
			t = d
		}
	}
	return t
}
