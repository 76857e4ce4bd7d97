-- name: LeaseRenew :many
SELECT site_id::integer FROM walnut_lease(@owner::text, @ttl_ms::integer) AS site_id;

-- name: LeaseRelease :exec
DELETE FROM instances WHERE id = @owner;
