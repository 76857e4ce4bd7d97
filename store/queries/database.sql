-- name: DatabaseSize :one
-- The disk the whole database takes, free space in its tables included: what
-- a hosted plan's storage limit counts.
SELECT pg_database_size(current_database())::bigint AS bytes;
