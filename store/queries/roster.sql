-- name: RosterDeleteAll :exec
DELETE FROM roster;

-- name: RosterInsert :exec
INSERT INTO roster (start_day, end_day, person, contact)
VALUES (@start_day, @end_day, @person, @contact);

-- name: RosterBetween :many
-- Shifts that cover any day from day_from to day_to, inclusive.
SELECT start_day, end_day, person, contact
  FROM roster
 WHERE start_day <= @day_to AND end_day >= @day_from
 ORDER BY start_day, end_day, id;
