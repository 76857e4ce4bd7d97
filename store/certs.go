package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walnut-board/walnut/store/dbsqlc"
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
		return "certificate expired " + ExpirySpan(-left) + " ago"
	}
	return "certificate expires in " + ExpirySpan(left)
}

// ExpirySpan is a certificate's time left in words: "9 days", "3 hours".
func ExpirySpan(d time.Duration) string {
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

// SiteCertSave records the certificate a site presented at seen: a
// different one from the recorded starts afresh (first seen, warnings
// sent), the same one moves its last seen. The checker calls it only when
// the certificate changed, or hourly.
func (s *Store) SiteCertSave(ctx context.Context, siteID int32, c Cert, seen time.Time) error {
	err := s.q.SiteCertUpsert(ctx, s.pool, dbsqlc.SiteCertUpsertParams{
		SiteID: siteID, Fingerprint: cleanName(c.Fingerprint), ExpiresAt: c.ExpiresAt,
		// A certificate's names are the server's to choose: the one
		// boundary makes them storable (text.go).
		Issuer: cleanName(c.Issuer), Subject: cleanName(c.Subject),
		Verified: c.Verified, WarnFrom: c.WarnFrom, Seen: seen,
	})
	if err != nil {
		return fmt.Errorf("save certificate of site %d: %w", siteID, err)
	}
	return nil
}

// SiteCertWarn records that the site's certificate with this fingerprint
// has crossed the threshold of days, and the first time queues a notice to
// the site's Slack (if it has Slack) with its job, in one transaction: a
// restart, or another instance, never sends it twice. It reports whether a
// notice was queued.
func (s *Store) SiteCertWarn(ctx context.Context, siteID int32, fingerprint string, days int) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("certificate warning of site %d: begin: %w", siteID, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	n, err := s.q.SiteCertWarn(ctx, tx, dbsqlc.SiteCertWarnParams{SiteID: siteID, Fingerprint: fingerprint, Days: int32(days)})
	if err != nil {
		return false, fmt.Errorf("certificate warning of site %d: %w", siteID, err)
	}
	if n > 0 {
		if err := s.enqueueNotifyTx(ctx, tx); err != nil {
			return false, fmt.Errorf("certificate warning of site %d: queue: %w", siteID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("certificate warning of site %d: commit: %w", siteID, err)
	}
	return n > 0, nil
}

// SiteCert returns the certificate recorded for a site, or ErrNotFound.
func (s *Store) SiteCert(ctx context.Context, siteID int32) (Cert, error) {
	r, err := s.q.SiteCertGet(ctx, s.pool, siteID)
	if err != nil {
		return Cert{}, fmt.Errorf("certificate of site %d: %w", siteID, interpretError(err))
	}
	return certFromRow(r), nil
}

// joinedCert is a site's certificate from the columns a site query joins
// (site_certs, LEFT JOIN), or nil when the site has none.
func joinedCert(fingerprint, issuer, subject pgtype.Text, verified pgtype.Bool, expiresAt, warnFrom, firstSeen, lastSeen *time.Time) *Cert {
	if !fingerprint.Valid || expiresAt == nil || firstSeen == nil || lastSeen == nil {
		return nil
	}
	return &Cert{
		ExpiresAt: *expiresAt, Issuer: issuer.String, Subject: subject.String, Fingerprint: fingerprint.String,
		Verified: verified.Bool, WarnFrom: warnFrom, FirstSeen: *firstSeen, LastSeen: *lastSeen,
	}
}

func certFromRow(r dbsqlc.SiteCertGetRow) Cert {
	return Cert{
		ExpiresAt: r.ExpiresAt, Issuer: r.Issuer, Subject: r.Subject, Fingerprint: r.Fingerprint,
		Verified: r.Verified, WarnFrom: r.WarnFrom, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen,
	}
}
