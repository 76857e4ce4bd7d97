-- HistoryCursorGet is how far a site's history is compacted, with the last
-- compacted probe, and the site's latest probe (site_state): the one
-- verdict no probe has ended.
-- name: HistoryCursorGet :one
SELECT hc.compacted_until, hc.carry_at, hc.carry_state, st.checked_at, coalesce(st.last_state, 'unknown')::state AS last_state
  FROM sites si
  LEFT JOIN site_state st ON st.site_id = si.id
  LEFT JOIN history_cursor hc ON hc.site_id = si.id
 WHERE si.id = @site_id;

-- name: HistoryHoursHeld :one
SELECT coalesce(sum(ok_ms), 0)::bigint AS ok_ms,
       coalesce(sum(notok_ms), 0)::bigint AS notok_ms,
       coalesce(sum(pending_ms), 0)::bigint AS pending_ms
  FROM history_hours
 WHERE site_id = @site_id AND at >= @from_at AND at < @to_at;

-- name: HistoryHourList :many
SELECT at, ok_ms, notok_ms, pending_ms, probes, timed, latency_sum, ttfb_sum, dns_sum,
       connect_sum, tls_sum, latency_max, ttfb_max, hist
  FROM history_hours
 WHERE site_id = @site_id AND at >= @from_at AND at < @to_at
 ORDER BY at;

-- name: ProbeBlockList :many
SELECT at, block FROM probe_blocks
 WHERE site_id = @site_id AND at >= @from_at AND at < @to_at
 ORDER BY at;

-- ProbeBlockQuarterList is a site's blocks of the hours in [from_at,
-- to_at): their quarter-hour sums before quarters_to, and the block itself
-- where those are missing or not wanted, so that a block TOAST keeps out of
-- line is fetched only when it is unpacked.
-- name: ProbeBlockQuarterList :many
SELECT at,
       (CASE WHEN at < @quarters_to::timestamptz THEN quarters END)::bytea AS quarters,
       (CASE WHEN quarters IS NULL OR at >= @quarters_to::timestamptz THEN block END)::bytea AS block
  FROM probe_blocks
 WHERE site_id = @site_id AND at >= @from_at AND at < @to_at
 ORDER BY at;

-- name: ProbeBlockListBefore :many
SELECT at, block FROM probe_blocks
 WHERE site_id = @site_id AND at < @before
 ORDER BY at DESC
 LIMIT @max;

-- HistoryCompactSites is every site with what compaction needs: its
-- interval, its latest probe and its cursor.
-- name: HistoryCompactSites :many
SELECT si.id, si.interval_ms, st.checked_at, hc.compacted_until, hc.carry_at, coalesce(hc.carry_state::text, '')::text AS carry_state
  FROM sites si
  LEFT JOIN site_state st ON st.site_id = si.id
  LEFT JOIN history_cursor hc ON hc.site_id = si.id
 ORDER BY si.id;

-- name: HistoryCursorLock :many
SELECT site_id, compacted_until FROM history_cursor
 WHERE site_id = ANY (@site_ids::integer[])
 ORDER BY site_id
   FOR UPDATE;

-- name: HistoryCursorSet :exec
INSERT INTO history_cursor AS c (site_id, compacted_until, carry_at, carry_state)
SELECT u.site_id, u.until,
       CASE WHEN u.carry_state = '' THEN NULL ELSE u.carry_at END,
       CAST(nullif(u.carry_state, '') AS state)
  FROM (SELECT unnest(@site_ids::integer[]) AS site_id, unnest(@untils::timestamptz[]) AS until,
               unnest(@carry_ats::timestamptz[]) AS carry_at, unnest(@carry_states::text[]) AS carry_state) u
ON CONFLICT (site_id) DO UPDATE
   SET compacted_until = excluded.compacted_until, carry_at = excluded.carry_at, carry_state = excluded.carry_state;

-- name: HistoryCursorOldest :many
SELECT compacted_until FROM history_cursor ORDER BY compacted_until LIMIT 1;

-- name: HistoryHourInsert :copyfrom
INSERT INTO history_hours (at, latency_sum, ttfb_sum, dns_sum, connect_sum, tls_sum, site_id,
                           ok_ms, notok_ms, pending_ms, probes, timed, latency_max, ttfb_max, hist)
VALUES (@at, @latency_sum, @ttfb_sum, @dns_sum, @connect_sum, @tls_sum, @site_id,
        @ok_ms, @notok_ms, @pending_ms, @probes, @timed, @latency_max, @ttfb_max, @hist);

-- name: ProbeBlockInsert :copyfrom
INSERT INTO probe_blocks (at, site_id, block, quarters) VALUES (@at, @site_id, @block, @quarters);

-- name: HistoryPartitionsEnsure :one
SELECT walnut_history_partitions(@day_from::date, @days::integer)::integer AS created;

-- name: HistoryPartitionsDrop :one
SELECT walnut_drop_history_partitions(sqlc.arg(parent)::text::regclass, @before::timestamptz, @max::integer)::integer AS dropped;

-- name: ProbePartitionsDrop :one
SELECT walnut_drop_probe_partitions(@before::date)::integer AS dropped;

-- name: ProbeBlockOldestDay :one
-- The day of the oldest partition of probe_blocks, or null.
SELECT min(to_date(substr(relname, 14), 'YYYYMMDD'))::date AS oldest
  FROM pg_catalog.pg_class
 WHERE relkind = 'r' AND relname ~ '^probe_blocks_[0-9]{8}$';

-- name: HistoryHourOldestMonth :one
-- The month of the oldest partition of history_hours, or null.
SELECT min(to_date(substr(relname, 15), 'YYYYMM'))::date AS oldest
  FROM pg_catalog.pg_class
 WHERE relkind = 'r' AND relname ~ '^history_hours_[0-9]{6}$';

-- name: MaintenanceLock :one
-- One instance maintains at a time; the lock goes with the transaction.
SELECT pg_try_advisory_xact_lock(hashtext('walnut_maintenance'))::boolean AS locked;

-- name: MaintenanceTimeouts :exec
SELECT set_config('lock_timeout', sqlc.arg(lock_ms)::integer || 'ms', true),
       set_config('statement_timeout', sqlc.arg(statement_ms)::integer || 'ms', true);

-- name: TransitionPrune :execrows
DELETE FROM transitions WHERE at < @before;

-- name: NotificationPrune :execrows
DELETE FROM notifications WHERE done_at IS NOT NULL AND done_at < @before;

-- name: HistoryPackList :many
SELECT hc.site_id, si.interval_ms, hc.pack_from::timestamptz AS pack_from, hc.pack_to::timestamptz AS pack_to
  FROM history_cursor hc
  JOIN sites si ON si.id = hc.site_id
 WHERE hc.pack_from IS NOT NULL AND hc.pack_to IS NOT NULL
 ORDER BY hc.site_id;

-- name: HistoryPackSet :exec
UPDATE history_cursor
   SET pack_from = CASE WHEN @packed_to::timestamptz < pack_to THEN @packed_to::timestamptz END,
       pack_to = CASE WHEN @packed_to::timestamptz < pack_to THEN pack_to END
 WHERE site_id = @site_id;
