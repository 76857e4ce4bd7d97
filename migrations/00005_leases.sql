-- +goose Up

-- Several walnut serve processes on one database split the sites between
-- them. An instance is alive while it renews its heartbeat; a site is probed
-- by the instance holding its lease. Leases hang off their instance, so one
-- heartbeat a few seconds is all the renewing there is, whatever the number
-- of sites, and a dead instance's leases go with it.
CREATE TABLE instances (
    id           text        PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE site_leases (
    site_id integer PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    owner   text    NOT NULL REFERENCES instances (id) ON DELETE CASCADE
);

CREATE INDEX site_leases_owner ON site_leases (owner);

-- walnut_lease renews p_owner's heartbeat, forgets instances silent for
-- longer than p_ttl_ms (their sites become free), and brings p_owner's share
-- to its fair part of the active sites: releasing the excess when others
-- have joined, claiming free sites when it holds too few. It returns the
-- ids of the sites p_owner holds. Concurrent claims of one free site are
-- settled by the primary key: one wins, the other tries again next round.
-- +goose StatementBegin
CREATE FUNCTION walnut_lease(p_owner text, p_ttl_ms integer) RETURNS SETOF integer
LANGUAGE plpgsql AS $$
DECLARE
    n_live  integer;
    n_sites integer;
    target  integer;
    held    integer;
BEGIN
    INSERT INTO instances (id) VALUES (p_owner)
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = now();
    DELETE FROM instances
     WHERE heartbeat_at < now() - p_ttl_ms * interval '1 millisecond';

    DELETE FROM site_leases l USING sites s
     WHERE l.site_id = s.id AND s.retired_at IS NOT NULL;

    SELECT count(*) INTO n_live FROM instances;
    SELECT count(*) INTO n_sites FROM sites WHERE retired_at IS NULL;
    target := ceil(n_sites::numeric / greatest(n_live, 1));
    SELECT count(*) INTO held FROM site_leases WHERE owner = p_owner;

    IF held > target THEN
        DELETE FROM site_leases
         WHERE site_id IN (SELECT site_id FROM site_leases WHERE owner = p_owner
                            ORDER BY site_id DESC LIMIT held - target);
    ELSIF held < target THEN
        INSERT INTO site_leases (site_id, owner)
        SELECT s.id, p_owner
          FROM sites s
         WHERE s.retired_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM site_leases l WHERE l.site_id = s.id)
         ORDER BY s.id
         LIMIT target - held
        ON CONFLICT (site_id) DO NOTHING;
    END IF;

    RETURN QUERY SELECT site_id FROM site_leases WHERE owner = p_owner ORDER BY site_id;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION walnut_lease(text, integer);
DROP TABLE site_leases;
DROP TABLE instances;
