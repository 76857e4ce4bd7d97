-- +goose Up

-- heartbeats holds when each heartbeat site last called in, whichever
-- instance took the call. The probe itself goes through the batch writer
-- like any other; this row is what the instance that watches the site's
-- deadline reads, since its own probes ("no heartbeat for 7m") must not
-- count as calls, and what a restarted process starts its clock from.
CREATE TABLE heartbeats (
    site_id integer     PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    last_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE heartbeats;
