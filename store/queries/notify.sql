-- name: NotifyRoutesDelete :exec
DELETE FROM notify_routes;

-- name: NotifyRouteInsert :exec
INSERT INTO notify_routes (site_id, sinks, severity)
SELECT id, @sinks::text[], @severity::text FROM sites WHERE slug = @slug;

-- name: NotifyWakeList :many
-- The streams that the current transaction gave new notifications: rows it
-- inserted carry its transaction id in xmin (the trigger runs no
-- subtransaction), and the pending index keeps the scan small.
SELECT DISTINCT site_id, sink
  FROM notifications
 WHERE done_at IS NULL AND xmin = pg_current_xact_id()::xid;

-- name: NotifyStreamLock :exec
-- Waits for a site's sink and takes it, so that one dispatcher at a time
-- works the stream, in order. A session's lock, not a transaction's: no
-- transaction stays open while a sink answers. NotifyStreamUnlock releases
-- it, and the server does when the session ends.
SELECT pg_advisory_lock(@site_id::integer, hashtext('walnut_notify/' || @sink::text));

-- name: NotifyStreamUnlock :one
SELECT pg_advisory_unlock(@site_id::integer, hashtext('walnut_notify/' || @sink::text));

-- name: NotifyStreamGet :one
-- Creates the stream if needed and returns what its sink was last told.
INSERT INTO notify_streams (site_id, sink) VALUES (@site_id, @sink)
ON CONFLICT (site_id, sink) DO UPDATE SET sink = excluded.sink
RETURNING told, held, held_since;

-- name: NotifyStreamSet :exec
UPDATE notify_streams SET told = @told, held = @held, held_since = sqlc.narg('held_since')
 WHERE site_id = @site_id AND sink = @sink;

-- name: NotificationNext :one
-- A certificate warning (cert_days set) has no transition: its time is
-- when it was queued, and its states unknown.
SELECT n.id, n.attempts,
       coalesce(t.at, n.created_at)::timestamptz AS at,
       coalesce(t.from_state, 'unknown')::state AS from_state,
       coalesce(t.to_state, 'unknown')::state AS to_state,
       coalesce(t.reason, '')::text AS reason,
       n.cert_days, n.cert_expires_at,
       coalesce(p.http_status, 0)::smallint AS http_status,
       coalesce(p.latency_us, 0)::integer AS latency_us,
       coalesce(p.ttfb_us, 0)::integer AS ttfb_us,
       coalesce(p.dns_us, 0)::integer AS dns_us,
       coalesce(p.connect_us, 0)::integer AS connect_us,
       coalesce(p.tls_us, 0)::integer AS tls_us
  FROM notifications n
  LEFT JOIN transitions t ON t.id = n.transition_id
  LEFT JOIN LATERAL (
        SELECT pr.http_status, pr.latency_us, pr.ttfb_us, pr.dns_us, pr.connect_us, pr.tls_us
          FROM probes pr
         WHERE pr.site_id = n.site_id AND pr.at = t.at
         LIMIT 1) p ON true
 WHERE n.site_id = @site_id AND n.sink = @sink AND n.done_at IS NULL
 ORDER BY n.id
 LIMIT 1;

-- name: NotificationDone :exec
UPDATE notifications SET done_at = now(), outcome = @outcome, detail = @detail
 WHERE id = @id;

-- name: NotificationAttempt :exec
UPDATE notifications SET attempts = attempts + 1, detail = @detail
 WHERE id = @id;

-- name: NotifySite :one
SELECT si.slug, si.name, si.url, coalesce(r.severity, 'critical')::text AS severity,
       st.state, st.reason, st.since, st.http_status, st.latency_us, st.ttfb_us
  FROM sites si
  JOIN site_state st ON st.site_id = si.id
  LEFT JOIN notify_routes r ON r.site_id = si.id
 WHERE si.id = @site_id;

-- name: TransitionCountBetween :one
SELECT count(*)::integer
  FROM transitions
 WHERE site_id = @site_id AND at > @after AND at <= @until AND from_state <> 'unknown';

-- name: TransitionLastAt :one
SELECT at FROM transitions WHERE site_id = @site_id ORDER BY at DESC, id DESC LIMIT 1;

-- name: NotifyHealth :many
-- One statement, so that a notice going from pending to done between two
-- reads cannot vanish from both.
WITH last AS (
    SELECT DISTINCT ON (sink) sink, outcome, detail, done_at
      FROM notifications
     WHERE done_at IS NOT NULL AND outcome IN ('sent', 'failed', 'flapping')
     ORDER BY sink, done_at DESC
), pend AS (
    SELECT sink, count(*) AS pending, min(created_at) AS oldest
      FROM notifications
     WHERE done_at IS NULL
     GROUP BY sink
)
SELECT coalesce(l.sink, p.sink)::text AS sink,
       coalesce(l.outcome, '')::text AS outcome,
       coalesce(l.detail, '')::text AS detail,
       -- epoch stands for none: sqlc cannot see the full join's nulls
       coalesce(l.done_at, 'epoch')::timestamptz AS done_at,
       coalesce(p.pending, 0)::integer AS pending,
       coalesce(p.oldest, 'epoch')::timestamptz AS oldest
  FROM last l
  FULL JOIN pend p ON p.sink = l.sink
 ORDER BY 1;

-- name: NotifyPendingStreams :many
SELECT DISTINCT site_id, sink
  FROM notifications
 WHERE done_at IS NULL AND created_at <= @created_before;
