package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// TestMaintainerDoesNotQueueBehindALongTransaction: a reader holding a raw
// partition makes the pass's DROP give up after its lock_timeout, rather
// than wait with every later query on the table queued behind it; the
// next pass drops it.
func TestMaintainerDoesNotQueueBehindALongTransaction(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, time.Minute)
	ctx := context.Background()
	if _, err := b.st.ProbePartitionsEnsure(ctx, b.t0, 2); err != nil {
		t.Fatal(err)
	}
	b.write(t, probe(b.at(0), store.StateOK), probe(b.at(time.Minute), store.StateOK))
	long, err := b.st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Rollback(ctx) //nolint:errcheck // ends the test's long transaction
	if _, err := long.Exec(ctx, `SELECT count(*) FROM probes_20261120`); err != nil {
		t.Fatal(err)
	}
	m := store.NewMaintainer(b.st, discardLogger(), store.MaintainerOptions{
		Now: func() time.Time { return b.at(72 * time.Hour) }, LockTimeout: 50 * time.Millisecond,
	})
	res, err := m.RunOnce(ctx)
	if err == nil || !strings.Contains(err.Error(), "drop raw partitions") || !strings.Contains(err.Error(), "55P03") {
		t.Fatalf("pass beside a long transaction: %+v, %v; want the drop to fail on its lock timeout", res, err)
	}
	if res.HoursCompacted != 1 {
		t.Errorf("compacted %d hours, want 1: the other steps go on", res.HoursCompacted)
	}
	if err := long.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = m.RunOnce(ctx)
	if err != nil || res.RawDaysDropped == 0 {
		t.Errorf("next pass: %+v, %v; want the raw day dropped", res, err)
	}
}

// TestMaintainerBudget: over the budget, the oldest day of packed probes
// goes first; hours, and the raw probes of today and yesterday, stay.
func TestMaintainerBudget(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, 10*time.Second)
	ctx := context.Background()
	if _, err := b.st.ProbePartitionsEnsure(ctx, b.t0.Truncate(24*time.Hour), 6); err != nil {
		t.Fatal(err)
	}
	var ps []store.Probe
	for at := b.t0; at.Before(b.t0.Add(5 * 24 * time.Hour)); at = at.Add(10 * time.Second) {
		ps = append(ps, store.Probe{At: at, State: store.StateOK, HTTPStatus: 200, Latency: time.Duration(at.Unix()%997) * time.Millisecond})
	}
	b.write(t, ps...)
	now := b.t0.Add(5*24*time.Hour + time.Hour)
	b.maintain(t, now)
	raw := b.rawCount(t)
	days := func(from, to time.Duration) store.Uptime { return b.uptime(t, from, to) }
	before := days(14*time.Hour, 86*time.Hour)
	size, err := b.st.DatabaseSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := store.NewMaintainer(b.st, discardLogger(), store.MaintainerOptions{Now: func() time.Time { return now }, Budget: size - 1})
	res, err := m.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.BudgetDrops == 0 || res.DetailDaysDropped == 0 || res.HistoryMonthsDropped != 0 {
		t.Errorf("result %+v: want a day of blocks dropped for the budget, no hours", res)
	}
	var left int
	if err := b.st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname = 'probe_blocks_20261120'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Error("the oldest day of blocks is still there")
	}
	if n := b.rawCount(t); n != raw {
		t.Errorf("%d raw probes, want %d: the budget never takes today's or yesterday's", n, raw)
	}
	if after := days(14*time.Hour, 86*time.Hour); after != before {
		t.Errorf("uptime over whole hours %+v, want %+v as before", after, before)
	}
}

// TestMaintainerPrunes: transitions older than the hourly history and
// delivered notifications older than four weeks go; pending ones stay.
func TestMaintainerPrunes(t *testing.T) {
	t.Parallel()
	b := setupRollups(t, time.Minute)
	ctx := context.Background()
	pool := b.st.Pool()
	now := b.t0
	var oldT, newT int64
	for _, tr := range []struct {
		at time.Time
		id *int64
	}{{now.Add(-401 * 24 * time.Hour), &oldT}, {now.Add(-10 * 24 * time.Hour), &newT}} {
		if err := pool.QueryRow(ctx, `INSERT INTO transitions (site_id, at, from_state, to_state, reason) VALUES ($1, $2, 'ok', 'notok', '') RETURNING id`,
			b.site.ID, tr.at).Scan(tr.id); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []struct {
		sink string
		done *time.Time
	}{{"old-delivered", ptr(now.Add(-30 * 24 * time.Hour))}, {"new-delivered", ptr(now.Add(-24 * time.Hour))}, {"pending", nil}} {
		if _, err := pool.Exec(ctx, `INSERT INTO notifications (site_id, sink, transition_id, done_at) VALUES ($1, $2, $3, $4)`,
			b.site.ID, n.sink, newT, n.done); err != nil {
			t.Fatal(err)
		}
	}
	res := b.maintain(t, now)
	if res.TransitionsPruned != 1 || res.NotificationsPruned != 1 {
		t.Errorf("result %+v: want one transition and one notification pruned", res)
	}
	var sinks string
	if err := pool.QueryRow(ctx, `SELECT string_agg(sink, ',' ORDER BY sink) FROM notifications`).Scan(&sinks); err != nil {
		t.Fatal(err)
	}
	if sinks != "new-delivered,pending" {
		t.Errorf("notifications left: %s", sinks)
	}
	var ids string
	if err := pool.QueryRow(ctx, `SELECT string_agg(id::text, ',') FROM transitions`).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if ids == "" || strings.Contains(","+ids+",", ","+itoa(oldT)+",") {
		t.Errorf("transitions left: %s; want %d gone", ids, oldT)
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
