-- name: SiteUpsert :one
INSERT INTO sites (slug, name, grp, url, interval_ms, confirm, position, retired_at, updated_at)
VALUES (@slug, @name, @grp, @url, @interval_ms, @confirm, @position, NULL, now())
ON CONFLICT (slug) DO UPDATE
   SET name = excluded.name, grp = excluded.grp, url = excluded.url,
       interval_ms = excluded.interval_ms, confirm = excluded.confirm,
       position = excluded.position, retired_at = NULL, updated_at = now()
RETURNING id;

-- name: SiteStateEnsure :exec
INSERT INTO site_state (site_id) VALUES (@site_id) ON CONFLICT DO NOTHING;

-- name: SiteRetireOthers :execrows
UPDATE sites SET retired_at = now(), updated_at = now()
 WHERE retired_at IS NULL AND NOT (slug = ANY (@keep::text[]));

-- name: SiteList :many
-- The active sites in config order; with since, only those probed at or
-- after it: the live board's incremental read of the sites a write
-- announced on walnut_checked. site_state is one row a site and is not
-- indexed on checked_at (an index would cost every probe's update its HOT
-- path), so that read scans it; what it saves is sending every row.
SELECT si.id, si.slug, si.name, si.grp, si.url, si.interval_ms,
       st.state, st.reason, st.since, st.checked_at, st.http_status,
       st.latency_us, st.ttfb_us,
       sc.fingerprint AS cert_fingerprint, sc.expires_at AS cert_expires_at, sc.issuer AS cert_issuer,
       sc.subject AS cert_subject, sc.verified AS cert_verified, sc.warn_from AS cert_warn_from,
       sc.first_seen AS cert_first_seen, sc.last_seen AS cert_last_seen
  FROM sites si
  JOIN site_state st ON st.site_id = si.id
  LEFT JOIN site_certs sc ON sc.site_id = si.id
 WHERE si.retired_at IS NULL
   AND (sqlc.narg(since)::timestamptz IS NULL OR st.checked_at >= sqlc.narg(since))
 ORDER BY si.position, si.id;

-- name: SiteGetBySlug :one
SELECT si.id, si.slug, si.name, si.grp, si.url, si.interval_ms, si.retired_at,
       st.state, st.reason, st.since, st.checked_at, st.http_status,
       st.latency_us, st.ttfb_us,
       sc.fingerprint AS cert_fingerprint, sc.expires_at AS cert_expires_at, sc.issuer AS cert_issuer,
       sc.subject AS cert_subject, sc.verified AS cert_verified, sc.warn_from AS cert_warn_from,
       sc.first_seen AS cert_first_seen, sc.last_seen AS cert_last_seen
  FROM sites si
  JOIN site_state st ON st.site_id = si.id
  LEFT JOIN site_certs sc ON sc.site_id = si.id
 WHERE si.slug = @slug;

-- name: SitesAnnounce :exec
-- Tells live boards the set of sites or their names changed (ChannelSites):
-- a board reads incrementally only the sites it knows.
SELECT pg_notify('walnut_sites', '');

-- name: SiteSlugByID :one
SELECT slug FROM sites WHERE id = @id;
