-- name: RollupApply :one
SELECT walnut_rollup_probes(
    @site_ids::integer[], @ats::timestamptz[], CAST(sqlc.arg(states)::text[] AS state[]),
    @statuses::smallint[], @latencies::integer[], @ttfbs::integer[],
    @dnss::integer[], @connects::integer[], @tlss::integer[]
)::integer AS rows;

-- RollupHeld reads the rows that tile a window: whole days, then whole hours
-- outside those days, then minutes outside those hours (the caller prorates
-- the minutes cut by the window's ends).
-- name: RollupHeld :many
SELECT res, at, ok_ms, notok_ms, pending_ms, probes
  FROM rollups
 WHERE site_id = @site_id
   AND ((res = 86400 AND at >= @day_from AND at < @day_to)
     OR (res = 3600 AND at >= @hour_from AND at < @hour_to
         AND NOT (at >= @day_from AND at < @day_to))
     OR (res = 60 AND at >= @minute_from AND at < @minute_to
         AND NOT (at >= @hour_from AND at < @hour_to)));

-- RollupSeries returns the histograms as text: pgx decodes a day's minute
-- rows' arrays several times slower than Go parses "{1,0,...}".
-- name: RollupSeries :many
SELECT at, ok_ms, notok_ms, pending_ms, probes, timed, latency_sum, ttfb_sum, dns_sum,
       connect_sum, tls_sum, latency_max, ttfb_max,
       latency_hist::text AS latency_hist, ttfb_hist::text AS ttfb_hist
  FROM rollups
 WHERE site_id = @site_id AND res = @res AND at >= @from_at AND at < @to_at
 ORDER BY at;

-- name: RollupCursor :one
SELECT at, state FROM rollup_cursor WHERE site_id = @site_id;

-- name: RollupDeleteBefore :execrows
DELETE FROM rollups WHERE res = @res AND at < @before;

-- name: ProbePartitionsDrop :one
SELECT walnut_drop_probe_partitions(@before::date)::integer AS dropped;
