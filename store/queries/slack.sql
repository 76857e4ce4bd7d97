-- name: SlackThreadOpen :one
-- The site's open outage message, if any.
SELECT t.id, t.channel, t.ts, t.down_since, t.reason
  FROM slack_threads t
  JOIN sites s ON s.id = t.site_id
 WHERE s.slug = @slug AND t.ended_at IS NULL;

-- name: SlackThreadInsert :one
INSERT INTO slack_threads (site_id, channel, ts, down_since, reason)
SELECT s.id, @channel, @ts, @down_since, @reason
  FROM sites s
 WHERE s.slug = @slug
RETURNING id;

-- name: SlackThreadMove :exec
-- A fresh parent message replaces one that was deleted.
UPDATE slack_threads SET channel = @channel, ts = @ts WHERE id = @id;

-- name: SlackThreadEnd :exec
UPDATE slack_threads SET ended_at = @ended_at::timestamptz WHERE id = @id AND ended_at IS NULL;
