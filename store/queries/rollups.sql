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

-- RollupSeries returns each histogram as one text array, "{1,0,...}",
-- which Go parses faster than pgx decodes 40 columns or an int[].
-- name: RollupSeries :many
SELECT at, ok_ms, notok_ms, pending_ms, probes, timed, latency_sum, ttfb_sum, dns_sum,
       connect_sum, tls_sum, latency_max, ttfb_max,
       ARRAY[l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12, l13, l14, l15, l16, l17, l18, l19, l20, l21, l22, l23, l24, l25, l26, l27, l28, l29, l30, l31, l32, l33, l34, l35, l36, l37, l38, l39]::text AS latency_hist,
       ARRAY[t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16, t17, t18, t19, t20, t21, t22, t23, t24, t25, t26, t27, t28, t29, t30, t31, t32, t33, t34, t35, t36, t37, t38, t39]::text AS ttfb_hist
  FROM rollups
 WHERE site_id = @site_id AND res = @res AND at >= @from_at AND at < @to_at
 ORDER BY at;

-- name: RollupCursor :one
SELECT at, state, folded_until FROM rollup_cursor WHERE site_id = @site_id;

-- name: RollupFold :one
SELECT walnut_rollup_fold(@max_sites::integer)::integer AS folded;

-- name: RollupDeleteBefore :execrows
DELETE FROM rollups WHERE res = @res AND at < @before;

-- name: ProbePartitionsDrop :one
SELECT walnut_drop_probe_partitions(@before::date)::integer AS dropped;
