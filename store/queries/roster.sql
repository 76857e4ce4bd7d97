-- name: RosterDeleteSource :exec
DELETE FROM roster WHERE source = @source;

-- name: RosterInsertFrom :exec
INSERT INTO roster (start_day, end_day, person, contact, source)
VALUES (@start_day, @end_day, @person, @contact, @source);

-- name: RosterBetween :many
-- Shifts that cover any day from day_from to day_to, inclusive.
SELECT start_day, end_day, person, contact
  FROM roster
 WHERE start_day <= @day_to AND end_day >= @day_from
 ORDER BY start_day, end_day, id;

-- name: RosterDeleteSourceFrom :exec
-- The rows of a sync from its first day on: it writes them again.
DELETE FROM roster WHERE source = @source AND end_day >= @day_from;

-- name: RosterCSVSplitAround :exec
-- A CSV shift running past both ends of a synced window keeps its days
-- after the window as a row of its own (the next statement cuts the rest).
INSERT INTO roster (start_day, end_day, person, contact, source)
SELECT sqlc.arg(day_to)::date + 1, r.end_day, r.person, r.contact, r.source
  FROM roster r
 WHERE r.source = 'csv' AND r.start_day < sqlc.arg(day_from)::date AND r.end_day > sqlc.arg(day_to)::date;

-- name: RosterCSVTrimBefore :exec
-- CSV shifts that start before the window end the day before it.
UPDATE roster SET end_day = sqlc.arg(day_from)::date - 1
 WHERE source = 'csv' AND start_day < sqlc.arg(day_from)::date AND end_day >= sqlc.arg(day_from)::date;

-- name: RosterCSVTrimAfter :exec
-- CSV shifts that start in the window and end after it start the day after.
UPDATE roster SET start_day = sqlc.arg(day_to)::date + 1
 WHERE source = 'csv' AND start_day >= sqlc.arg(day_from)::date AND start_day <= sqlc.arg(day_to)::date AND end_day > sqlc.arg(day_to)::date;

-- name: RosterCSVDeleteWithin :exec
DELETE FROM roster WHERE source = 'csv' AND start_day >= @day_from AND end_day <= @day_to;

-- name: RosterSyncDone :exec
INSERT INTO roster_sync (source, synced_at, day_from, day_to, attempted_at, error)
VALUES (@source, @at, @day_from, @day_to, @at, '')
ON CONFLICT (source) DO UPDATE
   SET synced_at = EXCLUDED.synced_at, day_from = EXCLUDED.day_from, day_to = EXCLUDED.day_to,
       attempted_at = EXCLUDED.attempted_at, error = '';

-- name: RosterSyncFailed :exec
INSERT INTO roster_sync (source, attempted_at, error)
VALUES (@source, @at, @error)
ON CONFLICT (source) DO UPDATE SET attempted_at = EXCLUDED.attempted_at, error = EXCLUDED.error;

-- name: RosterSyncList :many
SELECT source, synced_at, day_from, day_to, attempted_at, error FROM roster_sync ORDER BY source;

-- name: RosterSyncForget :exec
DELETE FROM roster_sync WHERE source = @source;
