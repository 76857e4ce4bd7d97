-- +goose Up

-- rollups holds per-site aggregates at three resolutions: a minute (res 60),
-- an hour (3600) and a day (86400), so that any window's uptime and chart
-- reads a few hundred rows whatever the number of raw probes.
--
-- Time: a verdict holds from its probe until the next one, at most two of the
-- site's intervals (a longer gap is no data). A probe's held time is known
-- only when the next probe arrives, so each arriving probe credits the
-- previous one's state, split across the buckets it spans. The latest probe's
-- open span is added by readers from rollup_cursor.
--
-- Latency: probes that got a response (http_status <> 0) are counted in
-- timed, their phases summed (for means) and their latency and TTFB put in a
-- log histogram of 40 buckets, two per octave: bucket 0 is below 141 µs,
-- bucket i >= 1 is [100·2^(i/2), 100·2^((i+1)/2)) µs, bucket 39 is open
-- above. Histograms add up, so p50/p95 over any window come from the sum of
-- its rows' histograms, within a bucket's width (±19 %, interpolated).
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

-- A block range index on time lets a site's latest probes be read from a
-- few pages instead of all of the day's (the B-tree is on site_id alone).
-- Probes arrive in time order, so ranges are tight; the index costs a few
-- bytes per thousand probes.
CREATE INDEX probes_at_brin ON probes USING brin (at) WITH (pages_per_range = 16);

-- walnut_hist_bucket is the histogram bucket of a duration in microseconds.
-- +goose StatementBegin
CREATE FUNCTION walnut_hist_bucket(us integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(39, greatest(0, floor(2 * ln(greatest(us, 1)::float8 / 100) / ln(2::float8))))::integer
$$;
-- +goose StatementEnd

-- walnut_trunc is the start of the bucket of resolution res (60, 3600 or
-- 86400 seconds) holding t, in UTC whatever the session's time zone.
-- +goose StatementBegin
CREATE FUNCTION walnut_trunc(res integer, t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_trunc(CASE res WHEN 60 THEN 'minute' WHEN 3600 THEN 'hour' ELSE 'day' END,
                      t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;
-- +goose StatementEnd

-- walnut_rollup_probes takes a batch of probes, already written to probes in
-- the same transaction, into the rollups, and returns how many rollup rows it
-- wrote. The caller has locked the sites' site_state rows (walnut_apply_probes
-- does), so writers serialise per site. Like the state machine it ignores
-- probes not newer than the latest one taken in: a late probe is kept raw but
-- does not rewrite history.
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

-- Probes written before this migration are taken in, site by site in time
-- order, as if they had just arrived.
SELECT walnut_rollup_probes(
           array_agg(site_id ORDER BY site_id, at), array_agg(at ORDER BY site_id, at),
           array_agg(state ORDER BY site_id, at), array_agg(http_status ORDER BY site_id, at),
           array_agg(latency_us ORDER BY site_id, at), array_agg(ttfb_us ORDER BY site_id, at),
           array_agg(dns_us ORDER BY site_id, at), array_agg(connect_us ORDER BY site_id, at),
           array_agg(tls_us ORDER BY site_id, at))
  FROM probes
HAVING count(*) > 0;

-- walnut_drop_probe_partitions drops the daily probe partitions that end on
-- or before the day before (whole tables: no DELETE, no bloat) and deletes
-- older rows from the default partition. It returns how many partitions it
-- dropped.
-- +goose StatementBegin
CREATE FUNCTION walnut_drop_probe_partitions(before date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part    text;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.relname
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'probes'::regclass
           AND c.relname ~ '^probes_[0-9]{8}$'
           AND to_date(substr(c.relname, 8), 'YYYYMMDD') + 1 <= before
         ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I', part);
        dropped := dropped + 1;
    END LOOP;
    DELETE FROM probes_default WHERE at < before::timestamp AT TIME ZONE 'UTC';
    RETURN dropped;
END;
$$;
-- +goose StatementEnd

-- walnut_rollup_fold folds finished minute rows into hour and day rows, for
-- up to p_limit sites, and returns how many sites it folded. A site's minutes
-- before the one holding its latest probe are final: a new probe credits
-- time from the latest probe on. Sites whose cursor a writer holds are
-- skipped and folded next time.
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

-- +goose Down
DROP FUNCTION walnut_rollup_fold(integer);
DROP FUNCTION walnut_drop_probe_partitions(date);
DROP FUNCTION walnut_rollup_probes(integer[], timestamptz[], state[], smallint[], integer[], integer[], integer[], integer[], integer[]);
DROP FUNCTION walnut_trunc(integer, timestamptz);
DROP FUNCTION walnut_hist_bucket(integer);
DROP TABLE rollup_cursor;
DROP TABLE rollups;
DROP INDEX IF EXISTS probes_at_brin;
