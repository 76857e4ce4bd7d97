-- name: SiteCertUpsert :exec
-- The same certificate keeps its first_seen and the warnings already sent;
-- a different one starts afresh.
INSERT INTO site_certs AS c (site_id, fingerprint, expires_at, issuer, subject, verified, warn_from, first_seen, last_seen)
VALUES (@site_id, @fingerprint, @expires_at, @issuer, @subject, @verified, sqlc.narg('warn_from'), @seen, @seen)
ON CONFLICT (site_id) DO UPDATE
   SET fingerprint = excluded.fingerprint, expires_at = excluded.expires_at,
       issuer = excluded.issuer, subject = excluded.subject,
       verified = excluded.verified, warn_from = excluded.warn_from,
       first_seen = CASE WHEN c.fingerprint = excluded.fingerprint THEN c.first_seen ELSE excluded.first_seen END,
       last_seen = excluded.last_seen,
       warned_days = CASE WHEN c.fingerprint = excluded.fingerprint THEN c.warned_days END;

-- name: SiteCertWarn :execrows
-- Records a threshold crossed by the site's current certificate, once, and
-- queues a notice for the site's Slack: the rows inserted.
WITH warned AS (
    UPDATE site_certs c
       SET warned_days = @days::integer
     WHERE c.site_id = @site_id::integer AND c.fingerprint = @fingerprint::text
       AND (c.warned_days IS NULL OR c.warned_days > @days::integer)
    RETURNING c.site_id, c.expires_at
)
INSERT INTO notifications (site_id, sink, cert_days, cert_expires_at)
SELECT w.site_id, 'slack', @days::integer, w.expires_at
  FROM warned w
  JOIN notify_routes r ON r.site_id = w.site_id
 WHERE 'slack' = ANY (r.sinks);

-- name: SiteCertGet :one
SELECT site_id, fingerprint, expires_at, issuer, subject, verified, warn_from, first_seen, last_seen
  FROM site_certs
 WHERE site_id = @site_id;


