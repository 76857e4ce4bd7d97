-- ProbeWriteDeadline has the server end each later statement of the write's
-- transaction once timeout_ms have passed. A client that gives up cannot
-- always cancel what it sent (its cancel request may reach the server before
-- the statement does), and a session left waiting on a lock holds one of the
-- server's few connections until the lock goes.
-- name: ProbeWriteDeadline :exec
SELECT set_config('statement_timeout', sqlc.arg(timeout_ms)::integer || 'ms', true);

-- name: ProbeExists :one
-- Whether a probe is stored: how the writer learns if a batch whose COMMIT
-- got no answer was written after all.
SELECT EXISTS (SELECT 1 FROM probes WHERE site_id = @site_id AND at = @at);

-- name: ProbeWrite :one
SELECT walnut_write_probes(
    @site_ids::integer[], @ats::timestamptz[], CAST(sqlc.arg(states)::text[] AS state[]),
    @statuses::smallint[], @latencies::integer[], @ttfbs::integer[],
    @dnss::integer[], @connects::integer[], @tlss::integer[], @reasons::text[]
)::integer AS transitions;

-- name: ProbeListBySite :many
SELECT at, state, http_status, latency_us, ttfb_us, dns_us, connect_us, tls_us, reason
  FROM probes
 WHERE site_id = @site_id AND at >= @since
 ORDER BY at DESC
 LIMIT @max;

-- ProbeListRange is the probes of sites in [from_at, to_at), late ones
-- too, in time order: what compaction packs and history reads raw.
-- name: ProbeListRange :many
SELECT site_id, at, state, http_status, latency_us, ttfb_us, dns_us, connect_us, tls_us, reason, late
  FROM probes
 WHERE site_id = ANY (@site_ids::integer[]) AND at >= @from_at AND at < @to_at
 ORDER BY site_id, at;

-- name: ProbeOldest :many
SELECT at FROM probes WHERE site_id = @site_id ORDER BY at LIMIT 1;

-- name: ProbePartitionsEnsure :one
SELECT walnut_probe_partitions(@day_from::date, @days::integer)::integer AS created;

-- ProbeUptime weighs each verdict by the time it held: from its probe to the
-- next, at most max_gap (beyond that the gap is no data), clipped to the
-- window [window_from, window_to).
-- name: ProbeUptime :one
WITH args AS (
    SELECT @window_from::timestamptz AS wfrom,
           @window_to::timestamptz AS wto,
           make_interval(0, 0, 0, 0, 0, 0, @max_gap_seconds::float8) AS gap
), p AS (
    SELECT probes.at, probes.state, lead(probes.at) OVER (ORDER BY probes.at) AS next_at
      FROM probes, args
     WHERE probes.site_id = @site_id
       AND probes.at >= args.wfrom - args.gap
       AND probes.at < args.wto
), spans AS (
    SELECT p.state,
           greatest(p.at, args.wfrom) AS s,
           least(coalesce(p.next_at, args.wto), p.at + args.gap, args.wto) AS e
      FROM p, args
)
SELECT coalesce(sum(extract(epoch FROM e - s)) FILTER (WHERE state = 'ok'), 0)::float8 AS ok_seconds,
       coalesce(sum(extract(epoch FROM e - s)) FILTER (WHERE state = 'notok'), 0)::float8 AS notok_seconds,
       coalesce(sum(extract(epoch FROM e - s)) FILTER (WHERE state = 'pending'), 0)::float8 AS pending_seconds
  FROM spans
 WHERE e > s;

-- name: ProbeListBySiteBefore :many
SELECT at, state, http_status, latency_us, ttfb_us, dns_us, connect_us, tls_us, reason
  FROM probes
 WHERE site_id = @site_id AND at < @before
 ORDER BY at DESC
 LIMIT @max;
