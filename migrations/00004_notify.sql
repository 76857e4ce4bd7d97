-- +goose Up

-- notify_routes says which sinks hear about each site, as resolved from the
-- config and the environment at start-up (walnut serve rewrites it). A site
-- without a row notifies nobody.
CREATE TABLE notify_routes (
    site_id  integer PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    sinks    text[]  NOT NULL,
    severity text    NOT NULL DEFAULT 'critical'
);

-- notifications is the outbox: one row per transition and sink, written by a
-- trigger in the transaction that records the transition. River jobs wake the
-- dispatcher; this table keeps the order per site and sink, and what became
-- of each notice (done_at and outcome).
CREATE TABLE notifications (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id       integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    sink          text        NOT NULL,
    transition_id bigint      NOT NULL REFERENCES transitions (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    attempts      integer     NOT NULL DEFAULT 0,
    done_at       timestamptz,
    -- sent, failed (a 4xx: not retried), skipped (nothing to say to this
    -- sink), held (flapping), maintenance, flapping (sent as the flapping notice)
    outcome       text        NOT NULL DEFAULT '',
    detail        text        NOT NULL DEFAULT ''
);

-- The pending set is small (empty when every sink is healthy), so the queue
-- and the enqueue step read a partial index.
CREATE INDEX notifications_pending ON notifications (site_id, sink, id) WHERE done_at IS NULL;
CREATE INDEX notifications_sink_done ON notifications (sink, done_at DESC) WHERE done_at IS NOT NULL;

-- notify_streams is the dispatcher's memory per site and sink: what the sink
-- was last told, and whether notices are held (flapping, maintenance).
CREATE TABLE notify_streams (
    site_id    integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    sink       text        NOT NULL,
    told       state       NOT NULL DEFAULT 'unknown',
    held       text        NOT NULL DEFAULT '',
    held_since timestamptz,
    PRIMARY KEY (site_id, sink)
);

-- walnut_notify_transitions writes the outbox rows of the transitions an
-- INSERT added, in the same transaction. A site's first verdict (from
-- unknown) notifies nobody: it is Walnut starting, not the site changing.
-- +goose StatementBegin
CREATE FUNCTION walnut_notify_transitions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (site_id, sink, transition_id)
    SELECT n.site_id, s.sink, n.id
      FROM new_transitions n
      JOIN notify_routes r ON r.site_id = n.site_id
     CROSS JOIN LATERAL unnest(r.sinks) AS s (sink)
     WHERE n.from_state <> 'unknown'
     ORDER BY n.id, s.sink;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER transitions_notify
    AFTER INSERT ON transitions
    REFERENCING NEW TABLE AS new_transitions
    FOR EACH STATEMENT EXECUTE FUNCTION walnut_notify_transitions();

-- +goose Down
DROP TRIGGER transitions_notify ON transitions;
DROP FUNCTION walnut_notify_transitions();
DROP TABLE notify_streams;
DROP TABLE notifications;
DROP TABLE notify_routes;
