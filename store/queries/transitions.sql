-- name: TransitionListBySite :many
SELECT at, from_state, to_state, reason
  FROM transitions
 WHERE site_id = @site_id
 ORDER BY at DESC, id DESC
 LIMIT @max;

-- TransitionListThisTx returns the transitions inserted by the current
-- transaction among the batch's sites and times, for the writer's log; the
-- site and time bounds let it use the index rather than scan the table.
-- name: TransitionListThisTx :many
SELECT s.slug, t.at, t.from_state, t.to_state, t.reason
  FROM transitions t
  JOIN sites s ON s.id = t.site_id
 WHERE t.site_id = ANY (@site_ids::integer[])
   AND t.at >= @since
   AND t.xmin = pg_current_xact_id()::xid
 ORDER BY t.id;
