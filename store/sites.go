package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// SiteSpec is what the config says of a site, as the database keeps it.
type SiteSpec struct {
	Slug     string
	Name     string
	Group    string
	URL      string // redacted: scheme, host and path only
	Interval time.Duration
	Confirm  int
}

// Site is a site with its current state.
type Site struct {
	ID         int32
	Slug       string
	Name       string
	Group      string
	URL        string
	Interval   time.Duration
	Retired    bool
	State      State
	Reason     string
	Since      *time.Time // when the current state began; nil while unknown
	CheckedAt  *time.Time // the latest probe; nil before the first
	HTTPStatus int
	Latency    time.Duration
	TTFB       time.Duration
	// Cert is the certificate the site last presented (https:// and
	// tls:// sites); nil before one was recorded.
	Cert *Cert
}

// Transition is one change of a site's confirmed state.
type Transition struct {
	At     time.Time
	From   State
	To     State
	Reason string
}

// SiteSync makes the sites table match the config: sites are upserted by slug
// in order, and active sites missing from specs are retired (their history is
// kept; a retired site that comes back resumes it). It returns the id of each
// slug.
func (s *Store) SiteSync(ctx context.Context, specs []SiteSpec) (map[string]int32, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("sync sites: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	ids := make(map[string]int32, len(specs))
	slugs := make([]string, len(specs))
	for i, sp := range specs {
		if len(sp.Slug) > maxSlugBytes || clean(sp.Slug, maxSlugBytes, true) != sp.Slug {
			return nil, fmt.Errorf("sync site %.40q: a slug must be printable and at most %d bytes", sp.Slug, maxSlugBytes)
		}
		id, err := s.q.SiteUpsert(ctx, tx, dbsqlc.SiteUpsertParams{
			Slug:       sp.Slug,
			Name:       cleanName(sp.Name),
			Grp:        cleanName(sp.Group),
			Url:        cleanText(sp.URL, maxURLBytes),
			IntervalMs: intervalMs(sp.Interval),
			Confirm:    int32(min(max(sp.Confirm, 1), math.MaxInt32)),
			Position:   int32(i),
		})
		if err != nil {
			return nil, fmt.Errorf("sync site %s: %w", sp.Slug, err)
		}
		if err := s.q.SiteStateEnsure(ctx, tx, id); err != nil {
			return nil, fmt.Errorf("sync site %s: state row: %w", sp.Slug, err)
		}
		ids[sp.Slug] = id
		slugs[i] = sp.Slug
	}
	if _, err := s.q.SiteRetireOthers(ctx, tx, slugs); err != nil {
		return nil, fmt.Errorf("sync sites: retire removed sites: %w", err)
	}
	if err := s.q.SitesAnnounce(ctx, tx); err != nil {
		return nil, fmt.Errorf("sync sites: announce: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("sync sites: commit: %w", err)
	}
	return ids, nil
}

// SiteListActive returns the sites in the config, in config order.
func (s *Store) SiteListActive(ctx context.Context) ([]Site, error) {
	return s.siteList(ctx, nil)
}

// SiteListCheckedSince returns the active sites whose latest probe is at or
// after since: what changed since a walnut_checked notification
// (ChannelChecked).
func (s *Store) SiteListCheckedSince(ctx context.Context, since time.Time) ([]Site, error) {
	return s.siteList(ctx, &since)
}

func (s *Store) siteList(ctx context.Context, since *time.Time) ([]Site, error) {
	rows, err := s.q.SiteList(ctx, s.pool, since)
	if err != nil {
		if since != nil {
			return nil, fmt.Errorf("list sites checked since %s: %w", since.Format(time.RFC3339), err)
		}
		return nil, fmt.Errorf("list sites: %w", err)
	}
	out := make([]Site, len(rows))
	for i, r := range rows {
		out[i] = Site{
			ID: r.ID, Slug: r.Slug, Name: r.Name, Group: r.Grp, URL: r.Url,
			Interval: time.Duration(r.IntervalMs) * time.Millisecond,
			State:    State(r.State), Reason: r.Reason, Since: r.Since, CheckedAt: r.CheckedAt,
			HTTPStatus: int(r.HttpStatus), Latency: duration(r.LatencyUs), TTFB: duration(r.TtfbUs),
			Cert: joinedCert(r.CertFingerprint, r.CertIssuer, r.CertSubject, r.CertVerified, r.CertExpiresAt, r.CertWarnFrom, r.CertFirstSeen, r.CertLastSeen),
		}
	}
	return out, nil
}

// SiteGetBySlug returns one site, retired or not, or ErrNotFound.
//
// A slug PostgreSQL's text cannot hold (a NUL, bytes that are not UTF-8)
// names no site, so it is ErrNotFound without asking: the database would
// refuse the query, and every page, API and badge that takes a slug from
// a URL comes through here.
func (s *Store) SiteGetBySlug(ctx context.Context, slug string) (Site, error) {
	if !utf8.ValidString(slug) || strings.ContainsRune(slug, 0) {
		return Site{}, fmt.Errorf("get site %q: %w", slug, ErrNotFound)
	}
	r, err := s.q.SiteGetBySlug(ctx, s.pool, slug)
	if err != nil {
		return Site{}, fmt.Errorf("get site %q: %w", slug, interpretError(err))
	}
	site := Site{
		ID: r.ID, Slug: r.Slug, Name: r.Name, Group: r.Grp, URL: r.Url,
		Interval: time.Duration(r.IntervalMs) * time.Millisecond, Retired: r.RetiredAt != nil,
		State: State(r.State), Reason: r.Reason, Since: r.Since, CheckedAt: r.CheckedAt,
		HTTPStatus: int(r.HttpStatus), Latency: duration(r.LatencyUs), TTFB: duration(r.TtfbUs),
		Cert: joinedCert(r.CertFingerprint, r.CertIssuer, r.CertSubject, r.CertVerified, r.CertExpiresAt, r.CertWarnFrom, r.CertFirstSeen, r.CertLastSeen),
	}
	return site, nil
}

// TransitionListBySite returns a site's newest transitions, newest first.
func (s *Store) TransitionListBySite(ctx context.Context, siteID int32, limit int) ([]Transition, error) {
	rows, err := s.q.TransitionListBySite(ctx, s.pool, dbsqlc.TransitionListBySiteParams{SiteID: siteID, Max: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list transitions of site %d: %w", siteID, err)
	}
	out := make([]Transition, len(rows))
	for i, r := range rows {
		out[i] = Transition{At: r.At, From: State(r.FromState), To: State(r.ToState), Reason: r.Reason}
	}
	return out, nil
}

func pgDate(t time.Time) pgtype.Date {
	y, m, d := t.UTC().Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}
