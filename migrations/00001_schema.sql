-- +goose Up

-- The four states are the contract strings; an enum keeps them at four bytes
-- a row and rejects anything else.
CREATE TYPE state AS ENUM ('unknown', 'ok', 'notok', 'pending');

-- sites mirrors walnut.yaml, synced by slug. A site removed from the config is
-- retired rather than deleted so that its history stays readable.
CREATE TABLE sites (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    grp         text        NOT NULL DEFAULT '',
    -- scheme, host and path only: query values and headers may hold secrets.
    url         text        NOT NULL,
    interval_ms integer     NOT NULL CHECK (interval_ms >= 1000),
    confirm     integer     NOT NULL DEFAULT 1 CHECK (confirm >= 1),
    position    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

-- probes holds every probe, partitioned by day so that retention drops whole
-- partitions. Columns are ordered widest first and are all NOT NULL so that
-- rows carry no null bitmap: phases a probe did not go through are 0, a
-- transport failure has http_status 0, an ok probe has an empty reason.
-- Durations are microseconds in an integer (up to 35 minutes).
CREATE TABLE probes (
    at          timestamptz NOT NULL,
    site_id     integer     NOT NULL,
    latency_us  integer     NOT NULL,
    ttfb_us     integer     NOT NULL,
    dns_us      integer     NOT NULL,
    connect_us  integer     NOT NULL,
    tls_us      integer     NOT NULL,
    state       state       NOT NULL,
    http_status smallint    NOT NULL,
    reason      text        NOT NULL
) PARTITION BY RANGE (at);

-- Indexed by site alone: B-tree deduplication stores each site once per leaf
-- page with a list of row pointers, about 7 bytes a probe where (site_id, at)
-- costs over 30. Reads of raw probes are per site within a time range, and
-- the range prunes partitions down to a day or a few.
CREATE INDEX probes_site ON probes (site_id);

-- The default partition catches probes outside the prepared days (a clock far
-- off, partitions not yet created) so that no probe is ever refused.
CREATE TABLE probes_default PARTITION OF probes DEFAULT;

-- site_state is the current, confirmed state of each site plus what the state
-- machine needs: the state of the latest probes and how many agreed in a row.
CREATE TABLE site_state (
    site_id      integer     PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    state        state       NOT NULL DEFAULT 'unknown',
    reason       text        NOT NULL DEFAULT '',
    since        timestamptz,
    checked_at   timestamptz,
    last_state   state       NOT NULL DEFAULT 'unknown',
    streak       integer     NOT NULL DEFAULT 0,
    streak_start timestamptz,
    http_status  smallint    NOT NULL DEFAULT 0,
    latency_us   integer     NOT NULL DEFAULT 0,
    ttfb_us      integer     NOT NULL DEFAULT 0
);

CREATE TABLE transitions (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id    integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    from_state state       NOT NULL,
    to_state   state       NOT NULL,
    reason     text        NOT NULL
);

CREATE INDEX transitions_site_at ON transitions (site_id, at DESC);

-- walnut_probe_partitions creates the daily partitions of probes from the day
-- of day_from for days days. It is idempotent; serve runs it on start and daily.
-- +goose StatementBegin
CREATE FUNCTION walnut_probe_partitions(day_from date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d       date;
    created integer := 0;
    name    text;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        d := day_from + i;
        name := 'probes_' || to_char(d, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF probes FOR VALUES FROM (%L) TO (%L)',
                name, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;
-- +goose StatementEnd

-- walnut_apply_probes runs the state machine of each site over a batch of
-- probes already written to probes, in the same transaction. The arrays are
-- parallel, one element per probe. It locks the sites' state rows in id order,
-- so several writers serialise per site without deadlocking, and it ignores
-- probes not newer than the latest one applied, so a late batch cannot rewind
-- a site. Each transition is inserted once and announced with pg_notify on
-- the channel walnut_transition, and the batch on walnut_probes. It returns
-- the number of transitions.
--
-- The loop only computes: state rows are read in one query and written back
-- in one UPDATE, so the cost per probe is a few assignments.
-- +goose StatementBegin
CREATE FUNCTION walnut_apply_probes(
    p_site     integer[],
    p_at       timestamptz[],
    p_state    state[],
    p_status   smallint[],
    p_latency  integer[],
    p_ttfb     integer[],
    p_reason   text[]
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p          record;
    cur_site   integer := NULL;
    v_state    state;
    v_reason   text;
    v_since    timestamptz;
    v_checked  timestamptz;
    v_last     state;
    v_streak   integer;
    v_start    timestamptz;
    v_status   smallint;
    v_latency  integer;
    v_ttfb     integer;
    v_confirm  integer;
    v_slug     text;
    -- the new state rows, one element per site
    o_site     integer[] := '{}';
    o_state    state[] := '{}';
    o_reason   text[] := '{}';
    o_since    timestamptz[] := '{}';
    o_checked  timestamptz[] := '{}';
    o_last     state[] := '{}';
    o_streak   integer[] := '{}';
    o_start    timestamptz[] := '{}';
    o_status   smallint[] := '{}';
    o_latency  integer[] := '{}';
    o_ttfb     integer[] := '{}';
    -- the transitions, one element each
    t_site     integer[] := '{}';
    t_at       timestamptz[] := '{}';
    t_from     state[] := '{}';
    t_to       state[] := '{}';
    t_reason   text[] := '{}';
BEGIN
    PERFORM 1 FROM site_state
     WHERE site_id = ANY (p_site)
     ORDER BY site_id
       FOR UPDATE;

    FOR p IN
        SELECT b.site, b.at, b.state AS p_state, b.status, b.latency, b.ttfb, b.reason AS p_reason,
               st.state, st.reason, st.since, st.checked_at, st.last_state, st.streak,
               st.streak_start, st.http_status, st.latency_us, st.ttfb_us, si.confirm, si.slug
          FROM unnest(p_site, p_at, p_state, p_status, p_latency, p_ttfb, p_reason)
               AS b(site, at, state, status, latency, ttfb, reason)
          JOIN site_state st ON st.site_id = b.site
          JOIN sites si ON si.id = b.site
         ORDER BY b.site, b.at
    LOOP
        IF cur_site IS DISTINCT FROM p.site THEN
            IF cur_site IS NOT NULL THEN
                o_site := o_site || cur_site; o_state := o_state || v_state;
                o_reason := o_reason || v_reason; o_since := o_since || v_since;
                o_checked := o_checked || v_checked; o_last := o_last || v_last;
                o_streak := o_streak || v_streak; o_start := o_start || v_start;
                o_status := o_status || v_status; o_latency := o_latency || v_latency;
                o_ttfb := o_ttfb || v_ttfb;
            END IF;
            cur_site := p.site;
            v_state := p.state; v_reason := p.reason; v_since := p.since;
            v_checked := p.checked_at; v_last := p.last_state; v_streak := p.streak;
            v_start := p.streak_start; v_status := p.http_status;
            v_latency := p.latency_us; v_ttfb := p.ttfb_us;
            v_confirm := p.confirm; v_slug := p.slug;
        END IF;
        IF v_checked IS NOT NULL AND p.at <= v_checked THEN
            CONTINUE;
        END IF;

        IF p.p_state = v_last AND v_streak > 0 THEN
            v_streak := v_streak + 1;
        ELSE
            v_last := p.p_state;
            v_streak := 1;
            v_start := p.at;
        END IF;
        v_checked := p.at;
        v_status := p.status;
        v_latency := p.latency;
        v_ttfb := p.ttfb;

        IF v_last <> v_state AND v_streak >= v_confirm THEN
            -- The change dates from the first probe of the agreeing run:
            -- that is when the site changed, confirm only delays the verdict.
            t_site := t_site || cur_site; t_at := t_at || v_start;
            t_from := t_from || v_state; t_to := t_to || v_last;
            t_reason := t_reason || p.p_reason;
            PERFORM pg_notify('walnut_transition', json_build_object(
                'slug', v_slug, 'from', v_state, 'to', v_last,
                'at', v_start, 'reason', p.p_reason)::text);
            v_state := v_last;
            v_since := v_start;
        END IF;
        IF v_last = v_state THEN
            v_reason := p.p_reason;
        END IF;
    END LOOP;

    -- One cheap notice per batch, so that live boards learn of fresh probes
    -- (a site's last probe time) and not only of transitions.
    PERFORM pg_notify('walnut_probes', coalesce(array_length(p_site, 1), 0)::text);

    IF cur_site IS NULL THEN
        RETURN 0;
    END IF;
    o_site := o_site || cur_site; o_state := o_state || v_state;
    o_reason := o_reason || v_reason; o_since := o_since || v_since;
    o_checked := o_checked || v_checked; o_last := o_last || v_last;
    o_streak := o_streak || v_streak; o_start := o_start || v_start;
    o_status := o_status || v_status; o_latency := o_latency || v_latency;
    o_ttfb := o_ttfb || v_ttfb;

    UPDATE site_state st
       SET state = o.state, reason = o.reason, since = o.since, checked_at = o.checked,
           last_state = o.last, streak = o.streak, streak_start = o.start,
           http_status = o.status, latency_us = o.latency, ttfb_us = o.ttfb
      FROM unnest(o_site, o_state, o_reason, o_since, o_checked, o_last, o_streak,
                  o_start, o_status, o_latency, o_ttfb)
           AS o(site, state, reason, since, checked, last, streak, start, status, latency, ttfb)
     WHERE st.site_id = o.site;

    INSERT INTO transitions (site_id, at, from_state, to_state, reason)
    SELECT * FROM unnest(t_site, t_at, t_from, t_to, t_reason);

    RETURN coalesce(array_length(t_site, 1), 0);
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION walnut_apply_probes(integer[], timestamptz[], state[], smallint[], integer[], integer[], text[]);
DROP FUNCTION walnut_probe_partitions(date, integer);
DROP TABLE transitions;
DROP TABLE site_state;
DROP TABLE probes;
DROP TABLE sites;
DROP TYPE state;
