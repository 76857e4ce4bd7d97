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
    latency_hist integer[]  NOT NULL,
    ttfb_hist    integer[]  NOT NULL,
    PRIMARY KEY (site_id, res, at)
);

-- rollup_cursor is the latest probe each site's rollups have taken in: its
-- time and state are what the next probe credits.
CREATE TABLE rollup_cursor (
    site_id integer     PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    at      timestamptz NOT NULL,
    state   state       NOT NULL
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

-- walnut_hist turns a list of bucket numbers into a dense histogram.
-- +goose StatementBegin
CREATE FUNCTION walnut_hist(buckets integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(c.n, 0)::integer ORDER BY i.i)
      FROM generate_series(0, 39) AS i(i)
      LEFT JOIN (SELECT b, count(*) AS n FROM unnest(buckets) AS b GROUP BY b) c ON c.b = i.i
$$;
-- +goose StatementEnd

-- walnut_hist_add adds two histograms element by element.
-- +goose StatementBegin
CREATE FUNCTION walnut_hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY n)
      FROM unnest(a, b) WITH ORDINALITY AS u(x, y, n)
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
               make_interval(secs => 2 * si.interval_ms / 1000.0) AS max_gap
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
    ), levels (res) AS (
        VALUES (60), (3600), (86400)
    ), held AS (
        SELECT p.site_id, l.res, walnut_trunc(l.res, p.minute) AS at,
               coalesce(sum(ms) FILTER (WHERE state = 'ok'), 0) AS ok_ms,
               coalesce(sum(ms) FILTER (WHERE state = 'notok'), 0) AS notok_ms,
               coalesce(sum(ms) FILTER (WHERE state = 'pending'), 0) AS pending_ms
          FROM pieces p, levels l
         GROUP BY 1, 2, 3
    ), stats AS (
        SELECT b.site_id, l.res, walnut_trunc(l.res, b.at) AS at,
               count(*) AS probes,
               count(*) FILTER (WHERE status <> 0) AS timed,
               coalesce(sum(latency) FILTER (WHERE status <> 0), 0) AS latency_sum,
               coalesce(sum(ttfb) FILTER (WHERE status <> 0), 0) AS ttfb_sum,
               coalesce(sum(dns) FILTER (WHERE status <> 0), 0) AS dns_sum,
               coalesce(sum(connect) FILTER (WHERE status <> 0), 0) AS connect_sum,
               coalesce(sum(tls) FILTER (WHERE status <> 0), 0) AS tls_sum,
               coalesce(max(latency) FILTER (WHERE status <> 0), 0) AS latency_max,
               coalesce(max(ttfb) FILTER (WHERE status <> 0), 0) AS ttfb_max,
               walnut_hist(array_agg(walnut_hist_bucket(latency)) FILTER (WHERE status <> 0)) AS latency_hist,
               walnut_hist(array_agg(walnut_hist_bucket(ttfb)) FILTER (WHERE status <> 0)) AS ttfb_hist
          FROM batch b, levels l
         GROUP BY 1, 2, 3
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
                              latency_max, ttfb_max, latency_hist, ttfb_hist)
    SELECT coalesce(h.site_id, st.site_id), coalesce(h.res, st.res), coalesce(h.at, st.at),
           coalesce(h.ok_ms, 0), coalesce(h.notok_ms, 0), coalesce(h.pending_ms, 0),
           coalesce(st.probes, 0), coalesce(st.timed, 0),
           coalesce(st.latency_sum, 0), coalesce(st.ttfb_sum, 0), coalesce(st.dns_sum, 0),
           coalesce(st.connect_sum, 0), coalesce(st.tls_sum, 0),
           coalesce(st.latency_max, 0), coalesce(st.ttfb_max, 0),
           coalesce(st.latency_hist, walnut_hist('{}')), coalesce(st.ttfb_hist, walnut_hist('{}'))
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
        latency_hist = walnut_hist_add(r.latency_hist, excluded.latency_hist),
        ttfb_hist = walnut_hist_add(r.ttfb_hist, excluded.ttfb_hist);

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

-- +goose Down
DROP FUNCTION walnut_drop_probe_partitions(date);
DROP FUNCTION walnut_rollup_probes(integer[], timestamptz[], state[], smallint[], integer[], integer[], integer[], integer[], integer[]);
DROP FUNCTION walnut_trunc(integer, timestamptz);
DROP FUNCTION walnut_hist_add(integer[], integer[]);
DROP FUNCTION walnut_hist(integer[]);
DROP FUNCTION walnut_hist_bucket(integer);
DROP TABLE rollup_cursor;
DROP TABLE rollups;
DROP INDEX IF EXISTS probes_at_brin;
