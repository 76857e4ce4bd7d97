-- name: HeartbeatTouch :exec
-- Calls may arrive out of order across instances: the latest wins.
INSERT INTO heartbeats (site_id, last_at)
VALUES (@site_id, @at)
ON CONFLICT (site_id) DO UPDATE SET last_at = GREATEST(heartbeats.last_at, EXCLUDED.last_at);

-- name: HeartbeatLast :one
SELECT last_at FROM heartbeats WHERE site_id = @site_id;
