-- name: ProbeInsertCopy :copyfrom
INSERT INTO probes (at, site_id, latency_us, ttfb_us, dns_us, connect_us, tls_us, state, http_status, reason)
VALUES (@at, @site_id, @latency_us, @ttfb_us, @dns_us, @connect_us, @tls_us, @state, @http_status, @reason);

-- name: ProbeApply :one
SELECT walnut_apply_probes(
    @site_ids::integer[], @ats::timestamptz[], CAST(sqlc.arg(states)::text[] AS state[]),
    @statuses::smallint[], @latencies::integer[], @ttfbs::integer[], @reasons::text[]
)::integer AS transitions;

-- name: ProbeListBySite :many
SELECT at, state, http_status, latency_us, ttfb_us, dns_us, connect_us, tls_us, reason
  FROM probes
 WHERE site_id = @site_id
 ORDER BY at DESC
 LIMIT @max;

-- name: ProbePartitionsEnsure :one
SELECT walnut_probe_partitions(@day_from::date, @days::integer)::integer AS created;
