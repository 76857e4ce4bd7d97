package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// oldWrite writes a batch as the code of migration 00007 did: COPY, then
// walnut_apply_probes, then walnut_rollup_probes, in one transaction.
func oldWrite(ctx context.Context, pool *pgxpool.Pool, batch []store.Probe) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	n := len(batch)
	site, at, st, status := make([]int32, n), make([]time.Time, n), make([]string, n), make([]int16, n)
	lat, ttfb, dns, conn, tls, reason := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]string, n)
	for i, p := range batch {
		site[i], at[i], st[i], status[i] = p.SiteID, p.At, string(p.State), int16(p.HTTPStatus)
		lat[i], ttfb[i], dns[i] = int32(p.Latency.Microseconds()), int32(p.TTFB.Microseconds()), int32(p.DNS.Microseconds())
		conn[i], tls[i], reason[i] = int32(p.Connect.Microseconds()), int32(p.TLS.Microseconds()), p.Reason
	}
	rows := make([][]any, n)
	for i := range batch {
		rows[i] = []any{at[i], site[i], lat[i], ttfb[i], dns[i], conn[i], tls[i], st[i], status[i], reason[i]}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"probes"},
		[]string{"at", "site_id", "latency_us", "ttfb_us", "dns_us", "connect_us", "tls_us", "state", "http_status", "reason"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT walnut_apply_probes($1, $2, $3::text[]::state[], $4, $5, $6, $7)`,
		site, at, st, status, lat, ttfb, reason); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT walnut_rollup_probes($1, $2, $3::text[]::state[], $4, $5, $6, $7, $8, $9)`,
		site, at, st, status, lat, ttfb, dns, conn, tls); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	return tx.Commit(ctx)
}

type oldHour struct {
	site                   int32
	at                     time.Time
	ok, notok, pending     int64
	probes, timed, latMax  int32
	latencySum, ttfbSumAll int64
}

// TestMigrateUpgradeKeepsHistory writes three days of history with the
// write path of 00007 (the first day's raw probes then dropped by the old
// retention, so only its hour rollups hold it), migrates up and compacts,
// and reads the same answers: every hour's figures as the old hour rollups
// had them, uptime over windows as the raw probes give it, the probe list.
func TestMigrateUpgradeKeepsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	if err := store.MigrateDownToZero(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := store.MigrateUpTo(ctx, pool, 7); err != nil {
		t.Fatal(err)
	}
	day0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `SELECT walnut_probe_partitions($1::date, 3)`, day0); err != nil {
		t.Fatal(err)
	}
	intervals := []time.Duration{time.Minute, 45 * time.Second}
	var ids []int32
	for i, iv := range intervals {
		var id int32
		if err := pool.QueryRow(ctx, `INSERT INTO sites (slug, name, url, interval_ms) VALUES ($1, $1, 'https://example.com/', $2) RETURNING id`,
			fmt.Sprintf("s%d", i), iv.Milliseconds()).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO site_state (site_id) VALUES ($1)`, id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	end := day0.Add(72 * time.Hour)
	var all []store.Probe
	for i, iv := range intervals {
		s := store.StateOK
		for at := day0.Add(time.Duration(rng.IntN(30_000)) * time.Millisecond); at.Before(end); {
			if rng.IntN(10) == 0 {
				s = []store.State{store.StateOK, store.StateOK, store.StateNotOK, store.StatePending}[rng.IntN(4)]
			}
			p := store.Probe{SiteID: ids[i], At: at, State: s, HTTPStatus: 200,
				Latency: time.Duration(1+rng.IntN(900_000)) * time.Microsecond, DNS: time.Millisecond}
			p.TTFB = p.Latency / 2
			if s == store.StateNotOK && rng.IntN(2) == 0 {
				p.HTTPStatus, p.TTFB, p.Reason = 0, 0, "connection refused"
			}
			all = append(all, p)
			gap := iv + time.Duration(rng.IntN(2000)-1000)*time.Millisecond
			if rng.IntN(60) == 0 {
				gap = time.Duration(3+rng.IntN(40)) * iv
			}
			at = at.Add(gap)
		}
	}
	// Written in time order across sites, in batches, folded now and then,
	// as serve did.
	sortProbes(all)
	for len(all) > 0 {
		n := min(len(all), 1+rng.IntN(200))
		if err := oldWrite(ctx, pool, all[:n]); err != nil {
			t.Fatal(err)
		}
		all = all[n:]
		if rng.IntN(5) == 0 {
			if _, err := pool.Exec(ctx, `SELECT walnut_rollup_fold(1000)`); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := pool.Exec(ctx, `SELECT walnut_rollup_fold(1000)`); err != nil {
		t.Fatal(err)
	}
	// The old retention drops the first day's probes and minutes.
	if _, err := pool.Exec(ctx, `SELECT walnut_drop_probe_partitions($1::date)`, day0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM rollups WHERE res = 60 AND at < $1`, day0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}

	// What the old schema answered: its hour rows (complete ones: before
	// the hour of each site's latest probe), uptime over windows the raw
	// probes cover (the brute force the old property test held the rollups
	// to), and the probe list.
	st := store.New(pool)
	rows, err := pool.Query(ctx, `SELECT r.site_id, r.at, r.ok_ms, r.notok_ms, r.pending_ms, r.probes, r.timed, r.latency_max, r.latency_sum, r.ttfb_sum
		FROM rollups r JOIN rollup_cursor c USING (site_id)
		WHERE r.res = 3600 AND r.at < date_trunc('hour', c.at) ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var hours []oldHour
	for rows.Next() {
		var h oldHour
		if err := rows.Scan(&h.site, &h.at, &h.ok, &h.notok, &h.pending, &h.probes, &h.timed, &h.latMax, &h.latencySum, &h.ttfbSumAll); err != nil {
			t.Fatal(err)
		}
		hours = append(hours, h)
	}
	if rows.Err() != nil || len(hours) < 2*70 {
		t.Fatalf("%d old hours, %v", len(hours), rows.Err())
	}
	type window struct{ from, to time.Time }
	var windows []window
	for range 20 {
		from := day0.Add(24*time.Hour + 10*time.Minute + time.Duration(rng.IntN(46*60))*time.Minute)
		windows = append(windows, window{from, minTimeTest(end.Add(-time.Hour), from.Add(time.Duration(1+rng.IntN(20*60))*time.Minute))})
	}
	wantUptime := map[int32][]store.Uptime{}
	wantList := map[int32][]store.Probe{}
	for i, id := range ids {
		for _, w := range windows {
			u, err := st.ProbeUptime(ctx, id, intervals[i], w.from, w.to)
			if err != nil {
				t.Fatal(err)
			}
			wantUptime[id] = append(wantUptime[id], u)
		}
		site := store.Site{ID: id, Slug: fmt.Sprintf("s%d", i), Interval: intervals[i]}
		last := end
		site.CheckedAt = &last
		// ProbeListBySite at 00007 read probes alone, as this query does.
		list, err := pool.Query(ctx, `SELECT at, state, http_status, latency_us, reason FROM probes WHERE site_id = $1 ORDER BY at DESC LIMIT 300`, id)
		if err != nil {
			t.Fatal(err)
		}
		for list.Next() {
			var p store.Probe
			var status int16
			var lat int32
			if err := list.Scan(&p.At, &p.State, &status, &lat, &p.Reason); err != nil {
				t.Fatal(err)
			}
			p.HTTPStatus, p.Latency = int(status), time.Duration(lat)*time.Microsecond
			wantList[id] = append(wantList[id], p)
		}
	}

	if err := store.Migrate(ctx, pool, discardLogger()); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	check := func(pass string) {
		t.Helper()
		for i, id := range ids {
			site, err := st.SiteGetBySlug(ctx, fmt.Sprintf("s%d", i))
			if err != nil {
				t.Fatal(err)
			}
			buckets, err := st.SiteSeries(ctx, site, day0, end, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			compared := 0
			for _, h := range hours {
				if h.site != id {
					continue
				}
				b := buckets[int(h.at.Sub(day0)/time.Hour)]
				got := oldHour{site: id, at: b.At, ok: b.OK.Milliseconds(), notok: b.NotOK.Milliseconds(), pending: b.Pending.Milliseconds(),
					probes: int32(b.Probes), timed: int32(b.Timed), latMax: int32(b.LatencyMax.Microseconds())}
				want := h
				want.latencySum, want.ttfbSumAll = 0, 0
				if got.at.Equal(want.at) {
					got.at = want.at
				}
				if got != want {
					t.Errorf("%s: site %d hour %s: %+v, want %+v", pass, id, h.at.Format(time.RFC3339), got, want)
				}
				compared++
			}
			if compared < 70 {
				t.Errorf("%s: site %d: %d hours compared", pass, id, compared)
			}
			for k, w := range windows {
				if pass == "upgraded, not compacted" {
					// Hours cut by the window read their blocks, which the
					// maintenance service packs after the upgrade.
					continue
				}
				got, err := st.SiteUptime(ctx, site, w.from, w.to)
				if err != nil {
					t.Fatal(err)
				}
				want := wantUptime[id][k]
				near := func(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }
				if !near(got.OK, want.OK) || !near(got.NotOK, want.NotOK) || !near(got.Pending, want.Pending) {
					t.Errorf("%s: site %d window %s to %s: %+v, want %+v", pass, id, w.from.Format(time.RFC3339), w.to.Format(time.RFC3339), got, want)
				}
			}
			list, err := st.ProbeListBySite(ctx, site, 300)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(wantList[id]) {
				t.Fatalf("%s: site %d: %d probes listed, want %d", pass, id, len(list), len(wantList[id]))
			}
			for k, want := range wantList[id] {
				got := list[k]
				if !got.At.Equal(want.At) || got.State != want.State || got.HTTPStatus != want.HTTPStatus || got.Latency != want.Latency || got.Reason != want.Reason {
					t.Fatalf("%s: site %d probe %d: %+v, want %+v", pass, id, k, got, want)
				}
			}
		}
	}
	check("upgraded, not compacted")
	if _, err := st.Compact(ctx, end.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("compacted")
	m := store.NewMaintainer(st, discardLogger(), store.MaintainerOptions{Now: func() time.Time { return end.Add(72 * time.Hour) }})
	if res, err := m.RunOnce(ctx); err != nil || res.RawDaysDropped < 2 {
		t.Fatalf("maintain: %+v, %v", res, err)
	}
	check("compacted")
}

func minTimeTest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func sortProbes(ps []store.Probe) {
	slices.SortStableFunc(ps, func(a, b store.Probe) int { return a.At.Compare(b.At) })
}
