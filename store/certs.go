package store

import (
	"fmt"
	"time"
)

// Cert is the leaf certificate a site's TLS handshake presented, as the
// site_certs table keeps it: one row a site, rewritten only when the
// certificate changes (migrations/00020_site_certs.sql).
type Cert struct {
	ExpiresAt   time.Time
	Issuer      string // the issuer's common name, else its organisation
	Subject     string // the leaf's common name, else its first DNS name
	Fingerprint string // SHA-256 of the certificate, hex: what "changed" means
	// Verified is false when the site skips verification (tls: {insecure:
	// true}): the page says so.
	Verified bool
	// WarnFrom is when the site's cert_warning starts: ExpiresAt less the
	// warning. Nil when cert_warning is off.
	WarnFrom *time.Time

	FirstSeen, LastSeen time.Time // of this certificate; zero before it is saved
}

// Left is how long until the certificate expires; negative once it has.
func (c Cert) Left(now time.Time) time.Duration { return c.ExpiresAt.Sub(now) }

// Warning reports whether the site's cert_warning has begun at now.
func (c Cert) Warning(now time.Time) bool {
	return c.WarnFrom != nil && !now.Before(*c.WarnFrom)
}

// ExpiryText says when a certificate expires, as tiles, reasons and Slack
// put it: "certificate expires in 9 days", "… in 20 hours", "… in 1 day",
// "certificate expired 2 days ago". The span is rounded to the hour, then
// whole days are counted down: 23h59m is "1 day", 47h is "1 day".
func ExpiryText(left time.Duration) string {
	if left < 0 {
		return "certificate expired " + span(-left) + " ago"
	}
	return "certificate expires in " + span(left)
}

func span(d time.Duration) string {
	if d >= time.Hour {
		d = d.Round(time.Hour)
	}
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(max(int64(d/time.Minute), 1), "minute")
}
