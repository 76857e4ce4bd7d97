-- name: TransitionListBySite :many
SELECT at, from_state, to_state, reason
  FROM transitions
 WHERE site_id = @site_id
 ORDER BY at DESC, id DESC
 LIMIT @max;
