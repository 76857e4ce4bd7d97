-- +goose Up

-- History is kept in two shapes. Recent probes are rows of probes (daily
-- partitions, written with one statement per batch). Once an hour is over,
-- the maintenance service (store/maintainer.go) compacts each site's hour
-- into one row of history_hours (what every window, chart and percentile
-- needs: time in each verdict, counts, timing sums and maxima, histograms)
-- and one row of probe_blocks (the hour's probes, packed by store/block.go
-- to a few bytes each). Raw partitions are dropped two days later; blocks
-- after the raw retention, hours after the history retention. There are no
-- minute rollups and nothing but the state machine besides the probe rows in
-- the write transaction.
--
-- Time: a verdict holds from its probe until the next one, at most two of the
-- site's intervals, as before. An hour's row holds the pieces of those spans
-- that fall inside it, whichever hour the probe was in.

-- Before the minute rollups go, every finished minute is folded into its
-- hour, so that the hours converted below are complete.
SELECT walnut_rollup_fold(2147483647);

-- A late probe (not newer than the latest one the state machine took in, or
-- older than the compacted history) is kept and listed, but takes no part in
-- history, as late probes took no part in the rollups. Adding a column with
-- a constant default rewrites nothing.
ALTER TABLE probes ADD COLUMN late boolean NOT NULL DEFAULT false;

-- Raw probes are now read by site and time range (the last hour or so of a
-- window, an hour to compact) and kept two days, not 30: the index on
-- (site_id, at) costs little for so short a life, and spares reading a
-- site's whole day to find its last hour.
CREATE INDEX probes_site_at ON probes (site_id, at);
DROP INDEX probes_site;

-- history_hours: one row per site and hour with anything in it. Times in
-- each verdict are milliseconds; timings are microseconds of the probes
-- that got a response (timed), summed for means. hist is the sparse latency
-- and TTFB histogram: 5-byte entries, the bucket (0-39 latency, 40-79 TTFB;
-- the buckets of 00003) then the count as a big-endian uint32, for the
-- nonzero buckets only. Monthly partitions: retention drops whole months.
CREATE TABLE history_hours (
    at          timestamptz NOT NULL,
    latency_sum bigint      NOT NULL,
    ttfb_sum    bigint      NOT NULL,
    dns_sum     bigint      NOT NULL,
    connect_sum bigint      NOT NULL,
    tls_sum     bigint      NOT NULL,
    site_id     integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    ok_ms       integer     NOT NULL,
    notok_ms    integer     NOT NULL,
    pending_ms  integer     NOT NULL,
    probes      integer     NOT NULL,
    timed       integer     NOT NULL,
    latency_max integer     NOT NULL,
    ttfb_max    integer     NOT NULL,
    hist        bytea       NOT NULL,
    PRIMARY KEY (site_id, at)
) PARTITION BY RANGE (at);

-- probe_blocks: one row per site and hour of history_hours while the raw
-- retention lasts, holding the hour's probes (late ones too, marked) packed
-- column by column, and what the probe before the hour credits into it.
-- Daily partitions: the raw retention and the budget drop whole days.
CREATE TABLE probe_blocks (
    at      timestamptz NOT NULL,
    site_id integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    block   bytea       NOT NULL,
    PRIMARY KEY (site_id, at)
) PARTITION BY RANGE (at);

-- history_cursor: how far each site's history is compacted. Readers take
-- history_hours and probe_blocks before compacted_until and raw probes from
-- it on. carry is the site's last probe before compacted_until (not late),
-- whose verdict may hold past it. [pack_from, pack_to) are hours whose rows
-- came from the rollups of an upgraded database and whose raw probes are
-- still to be packed into blocks.
CREATE TABLE history_cursor (
    site_id         integer     PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    compacted_until timestamptz NOT NULL,
    carry_at        timestamptz,
    carry_state     state,
    pack_from       timestamptz,
    pack_to         timestamptz
);

-- walnut_history_partitions creates the daily partitions of probe_blocks
-- and the monthly ones of history_hours that hold the days day_from to
-- day_from + days - 1. Idempotent; it returns how many it created. Blocks
-- come DEFLATEd (store/block.go): storage EXTERNAL spares the server a
-- second compression that could not gain, when a block (a site probed every
-- few seconds) is long enough to be moved out of line.
-- +goose StatementBegin
CREATE FUNCTION walnut_history_partitions(day_from date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d       date;
    m       date;
    name    text;
    created integer := 0;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        d := day_from + i;
        name := 'probe_blocks_' || to_char(d, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF probe_blocks FOR VALUES FROM (%L) TO (%L)',
                name, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
            EXECUTE format('ALTER TABLE %I ALTER COLUMN block SET STORAGE EXTERNAL', name);
            created := created + 1;
        END IF;
        m := date_trunc('month', d)::date;
        name := 'history_hours_' || to_char(m, 'YYYYMM');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF history_hours FOR VALUES FROM (%L) TO (%L)',
                name, m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;
-- +goose StatementEnd

-- walnut_drop_history_partitions drops the partitions of parent (probe_blocks
-- or history_hours) that end on or before before, oldest first, at most
-- p_limit of them, and returns how many it dropped.
-- +goose StatementBegin
CREATE FUNCTION walnut_drop_history_partitions(parent regclass, before timestamptz, p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part    record;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.relname,
               CASE WHEN c.relname ~ '^probe_blocks_[0-9]{8}$'
                    THEN (to_date(substr(c.relname, 14), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC'
                    ELSE (to_date(substr(c.relname, 15), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC'
               END AS ends
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = parent
           AND c.relname ~ '^(probe_blocks_[0-9]{8}|history_hours_[0-9]{6})$'
         ORDER BY 2
    LOOP
        EXIT WHEN part.ends > before OR dropped >= p_limit;
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END;
$$;
-- +goose StatementEnd

-- walnut_write_probes writes a batch of probes and runs each site's state
-- machine over them, in one statement: the batch leaves Go once, as ten
-- parallel arrays. The state machine is walnut_apply_probes's (00001), minus
-- its two pg_notify calls, which nothing listened to: live boards hear of
-- every batch through walnut_checked (00007). It locks the sites' state rows
-- in id order, so writers serialise per site without deadlocking, marks late
-- probes (see probes.late), inserts each transition once, and returns the
-- number of transitions.
-- +goose StatementBegin
CREATE FUNCTION walnut_write_probes(
    p_site     integer[],
    p_at       timestamptz[],
    p_state    state[],
    p_status   smallint[],
    p_latency  integer[],
    p_ttfb     integer[],
    p_dns      integer[],
    p_connect  integer[],
    p_tls      integer[],
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

    INSERT INTO probes (at, site_id, latency_us, ttfb_us, dns_us, connect_us, tls_us, state, http_status, reason, late)
    SELECT b.at, b.site, b.latency, b.ttfb, b.dns, b.connect, b.tls, b.state, b.status, b.reason,
           coalesce(b.at <= st.checked_at, false)
           OR coalesce(b.at < hc.compacted_until, false)
           OR row_number() OVER (PARTITION BY b.site, b.at ORDER BY b.n) > 1
      FROM unnest(p_site, p_at, p_state, p_status, p_latency, p_ttfb, p_dns, p_connect, p_tls, p_reason)
           WITH ORDINALITY AS b(site, at, state, status, latency, ttfb, dns, connect, tls, reason, n)
      LEFT JOIN site_state st ON st.site_id = b.site
      LEFT JOIN history_cursor hc ON hc.site_id = b.site;

    FOR p IN
        SELECT b.site, b.at, b.state AS p_state, b.status, b.latency, b.ttfb, b.reason AS p_reason,
               st.state, st.reason, st.since, st.checked_at, st.last_state, st.streak,
               st.streak_start, st.http_status, st.latency_us, st.ttfb_us, si.confirm
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
            v_confirm := p.confirm;
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
            v_state := v_last;
            v_since := v_start;
        END IF;
        IF v_last = v_state THEN
            v_reason := p.p_reason;
        END IF;
    END LOOP;

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

-- The upgrade keeps every answer. Every finished hour of the hour rollups
-- becomes a history_hours row, as they hold it (the hours of the oldest raw
-- day included: the raw retention had dropped the probes before it, and
-- with them what its first probes were credited from the last probe of the
-- day before). The cursor starts after them, the last raw probe before it as
-- the carry; the raw probes from then on are compacted as new ones are. The
-- raw probes of the converted hours are packed into blocks by the
-- maintenance service (pack_from, pack_to), so that the probe list and the
-- hours cut by a window read them as before. A site with no raw probe left
-- keeps all its hours.
CREATE TEMPORARY TABLE upgrade_bounds ON COMMIT DROP AS
SELECT c.site_id,
       CASE WHEN r.oldest IS NULL THEN walnut_trunc(3600, c.folded_until) + interval '1 hour'
            ELSE walnut_trunc(3600, c.folded_until)
       END AS bound,
       walnut_trunc(3600, r.oldest) AS oldest
  FROM rollup_cursor c
  LEFT JOIN (SELECT site_id, min(at) AS oldest FROM probes GROUP BY site_id) r ON r.site_id = c.site_id
 WHERE c.folded_until IS NOT NULL;

-- +goose StatementBegin
DO $$
DECLARE
    m date;
BEGIN
    FOR m IN
        SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date
          FROM rollups
         WHERE res = 3600
    LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF history_hours FOR VALUES FROM (%L) TO (%L)',
                       'history_hours_' || to_char(m, 'YYYYMM'), m::timestamp AT TIME ZONE 'UTC',
                       (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END;
$$;
-- +goose StatementEnd

INSERT INTO history_hours (at, latency_sum, ttfb_sum, dns_sum, connect_sum, tls_sum, site_id,
                           ok_ms, notok_ms, pending_ms, probes, timed, latency_max, ttfb_max, hist)
SELECT r.at, r.latency_sum, r.ttfb_sum, r.dns_sum, r.connect_sum, r.tls_sum, r.site_id,
       r.ok_ms, r.notok_ms, r.pending_ms, r.probes, r.timed, r.latency_max, r.ttfb_max,
       (SELECT coalesce(string_agg(decode(lpad(to_hex(h.i - 1), 2, '0') || lpad(to_hex(h.n), 8, '0'), 'hex'), ''::bytea ORDER BY h.i), ''::bytea)
          FROM unnest(ARRAY[r.l0, r.l1, r.l2, r.l3, r.l4, r.l5, r.l6, r.l7, r.l8, r.l9, r.l10, r.l11, r.l12, r.l13, r.l14, r.l15, r.l16, r.l17, r.l18, r.l19,
                            r.l20, r.l21, r.l22, r.l23, r.l24, r.l25, r.l26, r.l27, r.l28, r.l29, r.l30, r.l31, r.l32, r.l33, r.l34, r.l35, r.l36, r.l37, r.l38, r.l39,
                            r.t0, r.t1, r.t2, r.t3, r.t4, r.t5, r.t6, r.t7, r.t8, r.t9, r.t10, r.t11, r.t12, r.t13, r.t14, r.t15, r.t16, r.t17, r.t18, r.t19,
                            r.t20, r.t21, r.t22, r.t23, r.t24, r.t25, r.t26, r.t27, r.t28, r.t29, r.t30, r.t31, r.t32, r.t33, r.t34, r.t35, r.t36, r.t37, r.t38, r.t39])
               WITH ORDINALITY AS h(n, i)
         WHERE h.n > 0)
  FROM rollups r
  JOIN upgrade_bounds b ON b.site_id = r.site_id
 WHERE r.res = 3600 AND r.at < b.bound;

-- The carry is the last probe before the bound, if it may hold past it.
INSERT INTO history_cursor (site_id, compacted_until, carry_at, carry_state, pack_from, pack_to)
SELECT b.site_id, b.bound, p.at, p.state,
       CASE WHEN b.oldest < b.bound THEN b.oldest END, CASE WHEN b.oldest < b.bound THEN b.bound END
  FROM upgrade_bounds b
  LEFT JOIN LATERAL (SELECT at, state FROM probes
                      WHERE site_id = b.site_id AND at < b.bound
                      ORDER BY at DESC LIMIT 1) p ON true;

DROP FUNCTION walnut_rollup_fold(integer);
DROP FUNCTION walnut_rollup_probes(integer[], timestamptz[], state[], smallint[], integer[], integer[], integer[], integer[], integer[]);
DROP FUNCTION walnut_apply_probes(integer[], timestamptz[], state[], smallint[], integer[], integer[], text[]);
DROP TABLE rollup_cursor;
DROP TABLE rollups;

-- +goose Down
-- The minute, hour and day rollups of 00003 come back empty: history
-- compacted since the upgrade is not carried back.
DROP FUNCTION walnut_write_probes(integer[], timestamptz[], state[], smallint[], integer[], integer[], integer[], integer[], integer[], text[]);
DROP FUNCTION walnut_drop_history_partitions(regclass, timestamptz, integer);
DROP FUNCTION walnut_history_partitions(date, integer);
DROP TABLE history_cursor;
DROP TABLE probe_blocks;
DROP TABLE history_hours;
CREATE INDEX probes_site ON probes (site_id);
DROP INDEX probes_site_at;
ALTER TABLE probes DROP COLUMN late;

CREATE TABLE rollups (
    site_id     integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    res         integer     NOT NULL CHECK (res IN (60, 3600, 86400)),
    at          timestamptz NOT NULL,
    ok_ms       bigint      NOT NULL DEFAULT 0,
    notok_ms    bigint      NOT NULL DEFAULT 0,
    pending_ms  bigint      NOT NULL DEFAULT 0,
    probes      integer     NOT NULL DEFAULT 0,
    timed       integer     NOT NULL DEFAULT 0,
    latency_sum bigint      NOT NULL DEFAULT 0,
    ttfb_sum    bigint      NOT NULL DEFAULT 0,
    dns_sum     bigint      NOT NULL DEFAULT 0,
    connect_sum bigint      NOT NULL DEFAULT 0,
    tls_sum     bigint      NOT NULL DEFAULT 0,
    latency_max integer     NOT NULL DEFAULT 0,
    ttfb_max    integer     NOT NULL DEFAULT 0,
    -- latency histogram, l0 to l39, then TTFB's, t0 to t39: columns rather
    -- than arrays so that adding a batch is plain arithmetic.
    l0 integer NOT NULL DEFAULT 0, l1 integer NOT NULL DEFAULT 0, l2 integer NOT NULL DEFAULT 0, l3 integer NOT NULL DEFAULT 0, l4 integer NOT NULL DEFAULT 0, l5 integer NOT NULL DEFAULT 0, l6 integer NOT NULL DEFAULT 0, l7 integer NOT NULL DEFAULT 0,
    l8 integer NOT NULL DEFAULT 0, l9 integer NOT NULL DEFAULT 0, l10 integer NOT NULL DEFAULT 0, l11 integer NOT NULL DEFAULT 0, l12 integer NOT NULL DEFAULT 0, l13 integer NOT NULL DEFAULT 0, l14 integer NOT NULL DEFAULT 0, l15 integer NOT NULL DEFAULT 0,
    l16 integer NOT NULL DEFAULT 0, l17 integer NOT NULL DEFAULT 0, l18 integer NOT NULL DEFAULT 0, l19 integer NOT NULL DEFAULT 0, l20 integer NOT NULL DEFAULT 0, l21 integer NOT NULL DEFAULT 0, l22 integer NOT NULL DEFAULT 0, l23 integer NOT NULL DEFAULT 0,
    l24 integer NOT NULL DEFAULT 0, l25 integer NOT NULL DEFAULT 0, l26 integer NOT NULL DEFAULT 0, l27 integer NOT NULL DEFAULT 0, l28 integer NOT NULL DEFAULT 0, l29 integer NOT NULL DEFAULT 0, l30 integer NOT NULL DEFAULT 0, l31 integer NOT NULL DEFAULT 0,
    l32 integer NOT NULL DEFAULT 0, l33 integer NOT NULL DEFAULT 0, l34 integer NOT NULL DEFAULT 0, l35 integer NOT NULL DEFAULT 0, l36 integer NOT NULL DEFAULT 0, l37 integer NOT NULL DEFAULT 0, l38 integer NOT NULL DEFAULT 0, l39 integer NOT NULL DEFAULT 0,
    t0 integer NOT NULL DEFAULT 0, t1 integer NOT NULL DEFAULT 0, t2 integer NOT NULL DEFAULT 0, t3 integer NOT NULL DEFAULT 0, t4 integer NOT NULL DEFAULT 0, t5 integer NOT NULL DEFAULT 0, t6 integer NOT NULL DEFAULT 0, t7 integer NOT NULL DEFAULT 0,
    t8 integer NOT NULL DEFAULT 0, t9 integer NOT NULL DEFAULT 0, t10 integer NOT NULL DEFAULT 0, t11 integer NOT NULL DEFAULT 0, t12 integer NOT NULL DEFAULT 0, t13 integer NOT NULL DEFAULT 0, t14 integer NOT NULL DEFAULT 0, t15 integer NOT NULL DEFAULT 0,
    t16 integer NOT NULL DEFAULT 0, t17 integer NOT NULL DEFAULT 0, t18 integer NOT NULL DEFAULT 0, t19 integer NOT NULL DEFAULT 0, t20 integer NOT NULL DEFAULT 0, t21 integer NOT NULL DEFAULT 0, t22 integer NOT NULL DEFAULT 0, t23 integer NOT NULL DEFAULT 0,
    t24 integer NOT NULL DEFAULT 0, t25 integer NOT NULL DEFAULT 0, t26 integer NOT NULL DEFAULT 0, t27 integer NOT NULL DEFAULT 0, t28 integer NOT NULL DEFAULT 0, t29 integer NOT NULL DEFAULT 0, t30 integer NOT NULL DEFAULT 0, t31 integer NOT NULL DEFAULT 0,
    t32 integer NOT NULL DEFAULT 0, t33 integer NOT NULL DEFAULT 0, t34 integer NOT NULL DEFAULT 0, t35 integer NOT NULL DEFAULT 0, t36 integer NOT NULL DEFAULT 0, t37 integer NOT NULL DEFAULT 0, t38 integer NOT NULL DEFAULT 0, t39 integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, res, at)
) WITH (fillfactor = 70); -- room for HOT updates: every batch adds to its rows

-- rollup_cursor is the latest probe each site's rollups have taken in: its
-- time and state are what the next probe credits. folded_until is how far the
-- site's minute rows have been folded into its hour and day rows: readers
-- take hours and days before it and minutes after it.
CREATE TABLE rollup_cursor (
    site_id      integer     PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    state        state       NOT NULL,
    folded_until timestamptz
);

-- +goose StatementBegin
CREATE FUNCTION walnut_rollup_probes(
    p_site     integer[],
    p_at       timestamptz[],
    p_state    state[],
    p_status   smallint[],
    p_latency  integer[],
    p_ttfb     integer[],
    p_dns      integer[],
    p_connect  integer[],
    p_tls      integer[]
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    PERFORM 1 FROM rollup_cursor WHERE site_id = ANY (p_site) ORDER BY site_id FOR UPDATE;

    WITH batch AS (
        SELECT b.site AS site_id, b.at, b.state, b.status, b.latency, b.ttfb, b.dns, b.connect, b.tls,
               coalesce(lag(b.at) OVER w, c.at) AS prev_at,
               coalesce(lag(b.state) OVER w, c.state) AS prev_state,
               make_interval(secs => 2 * si.interval_ms / 1000.0) AS max_gap,
               CASE WHEN b.status <> 0 THEN walnut_hist_bucket(b.latency) END AS lb,
               CASE WHEN b.status <> 0 THEN walnut_hist_bucket(b.ttfb) END AS tb
          FROM unnest(p_site, p_at, p_state, p_status, p_latency, p_ttfb, p_dns, p_connect, p_tls)
               AS b(site, at, state, status, latency, ttfb, dns, connect, tls)
          JOIN sites si ON si.id = b.site
          LEFT JOIN rollup_cursor c ON c.site_id = b.site
         WHERE c.at IS NULL OR b.at > c.at
        WINDOW w AS (PARTITION BY b.site ORDER BY b.at)
    ), spans AS (
        -- the previous probe's verdict, held until this one, at most max_gap
        SELECT site_id, prev_state AS state, prev_at AS s, least(at, prev_at + max_gap) AS e
          FROM batch
         WHERE prev_at IS NOT NULL AND at > prev_at
    ), pieces AS (
        SELECT sp.site_id, sp.state, m AS minute,
               (extract(epoch FROM least(sp.e, m + interval '1 minute') - greatest(sp.s, m)) * 1000)::bigint AS ms
          FROM spans sp,
               generate_series(walnut_trunc(60, sp.s), sp.e - interval '1 microsecond', interval '1 minute') AS m
    ), held AS (
        -- Minutes only: walnut_rollup_fold makes the hours and days out of
        -- finished minutes, so that a probe writes one rollup row, not three.
        SELECT p.site_id, 60 AS res, p.minute AS at,
               coalesce(sum(ms) FILTER (WHERE state = 'ok'), 0) AS ok_ms,
               coalesce(sum(ms) FILTER (WHERE state = 'notok'), 0) AS notok_ms,
               coalesce(sum(ms) FILTER (WHERE state = 'pending'), 0) AS pending_ms
          FROM pieces p
         GROUP BY 1, 3
    ), stats AS (
        SELECT b.site_id, 60 AS res, walnut_trunc(60, b.at) AS at,
               count(*) AS probes,
               count(*) FILTER (WHERE status <> 0) AS timed,
               coalesce(sum(latency) FILTER (WHERE status <> 0), 0) AS latency_sum,
               coalesce(sum(ttfb) FILTER (WHERE status <> 0), 0) AS ttfb_sum,
               coalesce(sum(dns) FILTER (WHERE status <> 0), 0) AS dns_sum,
               coalesce(sum(connect) FILTER (WHERE status <> 0), 0) AS connect_sum,
               coalesce(sum(tls) FILTER (WHERE status <> 0), 0) AS tls_sum,
               coalesce(max(latency) FILTER (WHERE status <> 0), 0) AS latency_max,
               coalesce(max(ttfb) FILTER (WHERE status <> 0), 0) AS ttfb_max,
               count(*) FILTER (WHERE lb = 0) AS l0,
               count(*) FILTER (WHERE lb = 1) AS l1,
               count(*) FILTER (WHERE lb = 2) AS l2,
               count(*) FILTER (WHERE lb = 3) AS l3,
               count(*) FILTER (WHERE lb = 4) AS l4,
               count(*) FILTER (WHERE lb = 5) AS l5,
               count(*) FILTER (WHERE lb = 6) AS l6,
               count(*) FILTER (WHERE lb = 7) AS l7,
               count(*) FILTER (WHERE lb = 8) AS l8,
               count(*) FILTER (WHERE lb = 9) AS l9,
               count(*) FILTER (WHERE lb = 10) AS l10,
               count(*) FILTER (WHERE lb = 11) AS l11,
               count(*) FILTER (WHERE lb = 12) AS l12,
               count(*) FILTER (WHERE lb = 13) AS l13,
               count(*) FILTER (WHERE lb = 14) AS l14,
               count(*) FILTER (WHERE lb = 15) AS l15,
               count(*) FILTER (WHERE lb = 16) AS l16,
               count(*) FILTER (WHERE lb = 17) AS l17,
               count(*) FILTER (WHERE lb = 18) AS l18,
               count(*) FILTER (WHERE lb = 19) AS l19,
               count(*) FILTER (WHERE lb = 20) AS l20,
               count(*) FILTER (WHERE lb = 21) AS l21,
               count(*) FILTER (WHERE lb = 22) AS l22,
               count(*) FILTER (WHERE lb = 23) AS l23,
               count(*) FILTER (WHERE lb = 24) AS l24,
               count(*) FILTER (WHERE lb = 25) AS l25,
               count(*) FILTER (WHERE lb = 26) AS l26,
               count(*) FILTER (WHERE lb = 27) AS l27,
               count(*) FILTER (WHERE lb = 28) AS l28,
               count(*) FILTER (WHERE lb = 29) AS l29,
               count(*) FILTER (WHERE lb = 30) AS l30,
               count(*) FILTER (WHERE lb = 31) AS l31,
               count(*) FILTER (WHERE lb = 32) AS l32,
               count(*) FILTER (WHERE lb = 33) AS l33,
               count(*) FILTER (WHERE lb = 34) AS l34,
               count(*) FILTER (WHERE lb = 35) AS l35,
               count(*) FILTER (WHERE lb = 36) AS l36,
               count(*) FILTER (WHERE lb = 37) AS l37,
               count(*) FILTER (WHERE lb = 38) AS l38,
               count(*) FILTER (WHERE lb = 39) AS l39,
               count(*) FILTER (WHERE tb = 0) AS t0,
               count(*) FILTER (WHERE tb = 1) AS t1,
               count(*) FILTER (WHERE tb = 2) AS t2,
               count(*) FILTER (WHERE tb = 3) AS t3,
               count(*) FILTER (WHERE tb = 4) AS t4,
               count(*) FILTER (WHERE tb = 5) AS t5,
               count(*) FILTER (WHERE tb = 6) AS t6,
               count(*) FILTER (WHERE tb = 7) AS t7,
               count(*) FILTER (WHERE tb = 8) AS t8,
               count(*) FILTER (WHERE tb = 9) AS t9,
               count(*) FILTER (WHERE tb = 10) AS t10,
               count(*) FILTER (WHERE tb = 11) AS t11,
               count(*) FILTER (WHERE tb = 12) AS t12,
               count(*) FILTER (WHERE tb = 13) AS t13,
               count(*) FILTER (WHERE tb = 14) AS t14,
               count(*) FILTER (WHERE tb = 15) AS t15,
               count(*) FILTER (WHERE tb = 16) AS t16,
               count(*) FILTER (WHERE tb = 17) AS t17,
               count(*) FILTER (WHERE tb = 18) AS t18,
               count(*) FILTER (WHERE tb = 19) AS t19,
               count(*) FILTER (WHERE tb = 20) AS t20,
               count(*) FILTER (WHERE tb = 21) AS t21,
               count(*) FILTER (WHERE tb = 22) AS t22,
               count(*) FILTER (WHERE tb = 23) AS t23,
               count(*) FILTER (WHERE tb = 24) AS t24,
               count(*) FILTER (WHERE tb = 25) AS t25,
               count(*) FILTER (WHERE tb = 26) AS t26,
               count(*) FILTER (WHERE tb = 27) AS t27,
               count(*) FILTER (WHERE tb = 28) AS t28,
               count(*) FILTER (WHERE tb = 29) AS t29,
               count(*) FILTER (WHERE tb = 30) AS t30,
               count(*) FILTER (WHERE tb = 31) AS t31,
               count(*) FILTER (WHERE tb = 32) AS t32,
               count(*) FILTER (WHERE tb = 33) AS t33,
               count(*) FILTER (WHERE tb = 34) AS t34,
               count(*) FILTER (WHERE tb = 35) AS t35,
               count(*) FILTER (WHERE tb = 36) AS t36,
               count(*) FILTER (WHERE tb = 37) AS t37,
               count(*) FILTER (WHERE tb = 38) AS t38,
               count(*) FILTER (WHERE tb = 39) AS t39
          FROM batch b
         GROUP BY 1, 3
    ), cursor_moved AS (
        -- runs to completion though nothing reads it
        INSERT INTO rollup_cursor AS c (site_id, at, state)
        SELECT DISTINCT ON (site_id) site_id, at, state
          FROM batch
         ORDER BY site_id, at DESC
        ON CONFLICT (site_id) DO UPDATE SET at = excluded.at, state = excluded.state
        RETURNING 1
    )
    INSERT INTO rollups AS r (site_id, res, at, ok_ms, notok_ms, pending_ms, probes, timed,
                              latency_sum, ttfb_sum, dns_sum, connect_sum, tls_sum,
                              latency_max, ttfb_max,
                              l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12, l13, l14, l15, l16, l17, l18, l19, l20, l21, l22, l23, l24, l25, l26, l27, l28, l29, l30, l31, l32, l33, l34, l35, l36, l37, l38, l39,
                              t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16, t17, t18, t19, t20, t21, t22, t23, t24, t25, t26, t27, t28, t29, t30, t31, t32, t33, t34, t35, t36, t37, t38, t39)
    SELECT coalesce(h.site_id, st.site_id), coalesce(h.res, st.res), coalesce(h.at, st.at),
           coalesce(h.ok_ms, 0), coalesce(h.notok_ms, 0), coalesce(h.pending_ms, 0),
           coalesce(st.probes, 0), coalesce(st.timed, 0),
           coalesce(st.latency_sum, 0), coalesce(st.ttfb_sum, 0), coalesce(st.dns_sum, 0),
           coalesce(st.connect_sum, 0), coalesce(st.tls_sum, 0),
           coalesce(st.latency_max, 0), coalesce(st.ttfb_max, 0),
           coalesce(st.l0, 0), coalesce(st.l1, 0), coalesce(st.l2, 0), coalesce(st.l3, 0), coalesce(st.l4, 0), coalesce(st.l5, 0), coalesce(st.l6, 0), coalesce(st.l7, 0), coalesce(st.l8, 0), coalesce(st.l9, 0), coalesce(st.l10, 0), coalesce(st.l11, 0), coalesce(st.l12, 0), coalesce(st.l13, 0), coalesce(st.l14, 0), coalesce(st.l15, 0), coalesce(st.l16, 0), coalesce(st.l17, 0), coalesce(st.l18, 0), coalesce(st.l19, 0), coalesce(st.l20, 0), coalesce(st.l21, 0), coalesce(st.l22, 0), coalesce(st.l23, 0), coalesce(st.l24, 0), coalesce(st.l25, 0), coalesce(st.l26, 0), coalesce(st.l27, 0), coalesce(st.l28, 0), coalesce(st.l29, 0), coalesce(st.l30, 0), coalesce(st.l31, 0), coalesce(st.l32, 0), coalesce(st.l33, 0), coalesce(st.l34, 0), coalesce(st.l35, 0), coalesce(st.l36, 0), coalesce(st.l37, 0), coalesce(st.l38, 0), coalesce(st.l39, 0),
           coalesce(st.t0, 0), coalesce(st.t1, 0), coalesce(st.t2, 0), coalesce(st.t3, 0), coalesce(st.t4, 0), coalesce(st.t5, 0), coalesce(st.t6, 0), coalesce(st.t7, 0), coalesce(st.t8, 0), coalesce(st.t9, 0), coalesce(st.t10, 0), coalesce(st.t11, 0), coalesce(st.t12, 0), coalesce(st.t13, 0), coalesce(st.t14, 0), coalesce(st.t15, 0), coalesce(st.t16, 0), coalesce(st.t17, 0), coalesce(st.t18, 0), coalesce(st.t19, 0), coalesce(st.t20, 0), coalesce(st.t21, 0), coalesce(st.t22, 0), coalesce(st.t23, 0), coalesce(st.t24, 0), coalesce(st.t25, 0), coalesce(st.t26, 0), coalesce(st.t27, 0), coalesce(st.t28, 0), coalesce(st.t29, 0), coalesce(st.t30, 0), coalesce(st.t31, 0), coalesce(st.t32, 0), coalesce(st.t33, 0), coalesce(st.t34, 0), coalesce(st.t35, 0), coalesce(st.t36, 0), coalesce(st.t37, 0), coalesce(st.t38, 0), coalesce(st.t39, 0)
      FROM held h
      FULL JOIN stats st ON st.site_id = h.site_id AND st.res = h.res AND st.at = h.at
     ORDER BY 1, 2, 3
    ON CONFLICT (site_id, res, at) DO UPDATE SET
        ok_ms = r.ok_ms + excluded.ok_ms,
        notok_ms = r.notok_ms + excluded.notok_ms,
        pending_ms = r.pending_ms + excluded.pending_ms,
        probes = r.probes + excluded.probes,
        timed = r.timed + excluded.timed,
        latency_sum = r.latency_sum + excluded.latency_sum,
        ttfb_sum = r.ttfb_sum + excluded.ttfb_sum,
        dns_sum = r.dns_sum + excluded.dns_sum,
        connect_sum = r.connect_sum + excluded.connect_sum,
        tls_sum = r.tls_sum + excluded.tls_sum,
        latency_max = greatest(r.latency_max, excluded.latency_max),
        ttfb_max = greatest(r.ttfb_max, excluded.ttfb_max),
        l0 = r.l0 + excluded.l0,
        l1 = r.l1 + excluded.l1,
        l2 = r.l2 + excluded.l2,
        l3 = r.l3 + excluded.l3,
        l4 = r.l4 + excluded.l4,
        l5 = r.l5 + excluded.l5,
        l6 = r.l6 + excluded.l6,
        l7 = r.l7 + excluded.l7,
        l8 = r.l8 + excluded.l8,
        l9 = r.l9 + excluded.l9,
        l10 = r.l10 + excluded.l10,
        l11 = r.l11 + excluded.l11,
        l12 = r.l12 + excluded.l12,
        l13 = r.l13 + excluded.l13,
        l14 = r.l14 + excluded.l14,
        l15 = r.l15 + excluded.l15,
        l16 = r.l16 + excluded.l16,
        l17 = r.l17 + excluded.l17,
        l18 = r.l18 + excluded.l18,
        l19 = r.l19 + excluded.l19,
        l20 = r.l20 + excluded.l20,
        l21 = r.l21 + excluded.l21,
        l22 = r.l22 + excluded.l22,
        l23 = r.l23 + excluded.l23,
        l24 = r.l24 + excluded.l24,
        l25 = r.l25 + excluded.l25,
        l26 = r.l26 + excluded.l26,
        l27 = r.l27 + excluded.l27,
        l28 = r.l28 + excluded.l28,
        l29 = r.l29 + excluded.l29,
        l30 = r.l30 + excluded.l30,
        l31 = r.l31 + excluded.l31,
        l32 = r.l32 + excluded.l32,
        l33 = r.l33 + excluded.l33,
        l34 = r.l34 + excluded.l34,
        l35 = r.l35 + excluded.l35,
        l36 = r.l36 + excluded.l36,
        l37 = r.l37 + excluded.l37,
        l38 = r.l38 + excluded.l38,
        l39 = r.l39 + excluded.l39,
        t0 = r.t0 + excluded.t0,
        t1 = r.t1 + excluded.t1,
        t2 = r.t2 + excluded.t2,
        t3 = r.t3 + excluded.t3,
        t4 = r.t4 + excluded.t4,
        t5 = r.t5 + excluded.t5,
        t6 = r.t6 + excluded.t6,
        t7 = r.t7 + excluded.t7,
        t8 = r.t8 + excluded.t8,
        t9 = r.t9 + excluded.t9,
        t10 = r.t10 + excluded.t10,
        t11 = r.t11 + excluded.t11,
        t12 = r.t12 + excluded.t12,
        t13 = r.t13 + excluded.t13,
        t14 = r.t14 + excluded.t14,
        t15 = r.t15 + excluded.t15,
        t16 = r.t16 + excluded.t16,
        t17 = r.t17 + excluded.t17,
        t18 = r.t18 + excluded.t18,
        t19 = r.t19 + excluded.t19,
        t20 = r.t20 + excluded.t20,
        t21 = r.t21 + excluded.t21,
        t22 = r.t22 + excluded.t22,
        t23 = r.t23 + excluded.t23,
        t24 = r.t24 + excluded.t24,
        t25 = r.t25 + excluded.t25,
        t26 = r.t26 + excluded.t26,
        t27 = r.t27 + excluded.t27,
        t28 = r.t28 + excluded.t28,
        t29 = r.t29 + excluded.t29,
        t30 = r.t30 + excluded.t30,
        t31 = r.t31 + excluded.t31,
        t32 = r.t32 + excluded.t32,
        t33 = r.t33 + excluded.t33,
        t34 = r.t34 + excluded.t34,
        t35 = r.t35 + excluded.t35,
        t36 = r.t36 + excluded.t36,
        t37 = r.t37 + excluded.t37,
        t38 = r.t38 + excluded.t38,
        t39 = r.t39 + excluded.t39;

    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION walnut_rollup_fold(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH todo AS (
        SELECT site_id, coalesce(folded_until, '-infinity') AS f, walnut_trunc(60, at) AS u
          FROM rollup_cursor
         WHERE folded_until IS NULL OR folded_until < walnut_trunc(60, at)
         ORDER BY site_id
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), folded AS (
        INSERT INTO rollups AS r (site_id, res, at, ok_ms, notok_ms, pending_ms, probes, timed,
                                  latency_sum, ttfb_sum, dns_sum, connect_sum, tls_sum,
                                  latency_max, ttfb_max, l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12, l13, l14, l15, l16, l17, l18, l19, l20, l21, l22, l23, l24, l25, l26, l27, l28, l29, l30, l31, l32, l33, l34, l35, l36, l37, l38, l39, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16, t17, t18, t19, t20, t21, t22, t23, t24, t25, t26, t27, t28, t29, t30, t31, t32, t33, t34, t35, t36, t37, t38, t39)
        SELECT m.site_id, l.res, walnut_trunc(l.res, m.at),
               sum(ok_ms), sum(notok_ms), sum(pending_ms), sum(probes), sum(timed),
               sum(latency_sum), sum(ttfb_sum), sum(dns_sum), sum(connect_sum), sum(tls_sum),
               max(latency_max), max(ttfb_max), sum(l0), sum(l1), sum(l2), sum(l3), sum(l4), sum(l5), sum(l6), sum(l7), sum(l8), sum(l9), sum(l10), sum(l11), sum(l12), sum(l13), sum(l14), sum(l15), sum(l16), sum(l17), sum(l18), sum(l19), sum(l20), sum(l21), sum(l22), sum(l23), sum(l24), sum(l25), sum(l26), sum(l27), sum(l28), sum(l29), sum(l30), sum(l31), sum(l32), sum(l33), sum(l34), sum(l35), sum(l36), sum(l37), sum(l38), sum(l39), sum(t0), sum(t1), sum(t2), sum(t3), sum(t4), sum(t5), sum(t6), sum(t7), sum(t8), sum(t9), sum(t10), sum(t11), sum(t12), sum(t13), sum(t14), sum(t15), sum(t16), sum(t17), sum(t18), sum(t19), sum(t20), sum(t21), sum(t22), sum(t23), sum(t24), sum(t25), sum(t26), sum(t27), sum(t28), sum(t29), sum(t30), sum(t31), sum(t32), sum(t33), sum(t34), sum(t35), sum(t36), sum(t37), sum(t38), sum(t39)
          FROM rollups m
          JOIN todo t ON t.site_id = m.site_id
         CROSS JOIN (VALUES (3600), (86400)) AS l(res)
         WHERE m.res = 60 AND m.at >= t.f AND m.at < t.u
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (site_id, res, at) DO UPDATE SET
            ok_ms = r.ok_ms + excluded.ok_ms,
            notok_ms = r.notok_ms + excluded.notok_ms,
            pending_ms = r.pending_ms + excluded.pending_ms,
            probes = r.probes + excluded.probes,
            timed = r.timed + excluded.timed,
            latency_sum = r.latency_sum + excluded.latency_sum,
            ttfb_sum = r.ttfb_sum + excluded.ttfb_sum,
            dns_sum = r.dns_sum + excluded.dns_sum,
            connect_sum = r.connect_sum + excluded.connect_sum,
            tls_sum = r.tls_sum + excluded.tls_sum,
            latency_max = greatest(r.latency_max, excluded.latency_max),
            ttfb_max = greatest(r.ttfb_max, excluded.ttfb_max),
            l0 = r.l0 + excluded.l0,
            l1 = r.l1 + excluded.l1,
            l2 = r.l2 + excluded.l2,
            l3 = r.l3 + excluded.l3,
            l4 = r.l4 + excluded.l4,
            l5 = r.l5 + excluded.l5,
            l6 = r.l6 + excluded.l6,
            l7 = r.l7 + excluded.l7,
            l8 = r.l8 + excluded.l8,
            l9 = r.l9 + excluded.l9,
            l10 = r.l10 + excluded.l10,
            l11 = r.l11 + excluded.l11,
            l12 = r.l12 + excluded.l12,
            l13 = r.l13 + excluded.l13,
            l14 = r.l14 + excluded.l14,
            l15 = r.l15 + excluded.l15,
            l16 = r.l16 + excluded.l16,
            l17 = r.l17 + excluded.l17,
            l18 = r.l18 + excluded.l18,
            l19 = r.l19 + excluded.l19,
            l20 = r.l20 + excluded.l20,
            l21 = r.l21 + excluded.l21,
            l22 = r.l22 + excluded.l22,
            l23 = r.l23 + excluded.l23,
            l24 = r.l24 + excluded.l24,
            l25 = r.l25 + excluded.l25,
            l26 = r.l26 + excluded.l26,
            l27 = r.l27 + excluded.l27,
            l28 = r.l28 + excluded.l28,
            l29 = r.l29 + excluded.l29,
            l30 = r.l30 + excluded.l30,
            l31 = r.l31 + excluded.l31,
            l32 = r.l32 + excluded.l32,
            l33 = r.l33 + excluded.l33,
            l34 = r.l34 + excluded.l34,
            l35 = r.l35 + excluded.l35,
            l36 = r.l36 + excluded.l36,
            l37 = r.l37 + excluded.l37,
            l38 = r.l38 + excluded.l38,
            l39 = r.l39 + excluded.l39,
            t0 = r.t0 + excluded.t0,
            t1 = r.t1 + excluded.t1,
            t2 = r.t2 + excluded.t2,
            t3 = r.t3 + excluded.t3,
            t4 = r.t4 + excluded.t4,
            t5 = r.t5 + excluded.t5,
            t6 = r.t6 + excluded.t6,
            t7 = r.t7 + excluded.t7,
            t8 = r.t8 + excluded.t8,
            t9 = r.t9 + excluded.t9,
            t10 = r.t10 + excluded.t10,
            t11 = r.t11 + excluded.t11,
            t12 = r.t12 + excluded.t12,
            t13 = r.t13 + excluded.t13,
            t14 = r.t14 + excluded.t14,
            t15 = r.t15 + excluded.t15,
            t16 = r.t16 + excluded.t16,
            t17 = r.t17 + excluded.t17,
            t18 = r.t18 + excluded.t18,
            t19 = r.t19 + excluded.t19,
            t20 = r.t20 + excluded.t20,
            t21 = r.t21 + excluded.t21,
            t22 = r.t22 + excluded.t22,
            t23 = r.t23 + excluded.t23,
            t24 = r.t24 + excluded.t24,
            t25 = r.t25 + excluded.t25,
            t26 = r.t26 + excluded.t26,
            t27 = r.t27 + excluded.t27,
            t28 = r.t28 + excluded.t28,
            t29 = r.t29 + excluded.t29,
            t30 = r.t30 + excluded.t30,
            t31 = r.t31 + excluded.t31,
            t32 = r.t32 + excluded.t32,
            t33 = r.t33 + excluded.t33,
            t34 = r.t34 + excluded.t34,
            t35 = r.t35 + excluded.t35,
            t36 = r.t36 + excluded.t36,
            t37 = r.t37 + excluded.t37,
            t38 = r.t38 + excluded.t38,
            t39 = r.t39 + excluded.t39
        RETURNING 1
    )
    UPDATE rollup_cursor c SET folded_until = t.u
      FROM todo t
     WHERE c.site_id = t.site_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;
-- +goose StatementEnd

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
