package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// TestNotifyStreamHeldWithoutATransaction: a stream is one dispatcher's at a
// time (a second open waits until the first closes), no transaction is
// open while it is held, and a notice's outcome is recorded, for every
// other connection to see, as Done returns rather than at Close.
func TestNotifyStreamHeldWithoutATransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	st := store.New(pool)
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute, Confirm: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.NotifyRoutesSync(ctx, []store.NotifyRoute{{Slug: "api", Sinks: []string{"pagerduty"}, Severity: "critical"}}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i, state := range []store.State{store.StateOK, store.StateNotOK} {
		if _, err := st.WriteProbes(ctx, []store.Probe{{SiteID: ids["api"], At: at.Add(time.Duration(i) * time.Minute), State: state}}); err != nil {
			t.Fatal(err)
		}
	}

	first, err := st.NotifyStreamOpen(ctx, ids["api"], "pagerduty")
	if err != nil {
		t.Fatal(err)
	}
	n, err := first.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var open int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("%d sessions idle in a transaction while the stream is held, want none", open)
	}

	// A second dispatcher waits for the stream.
	type opened struct {
		st  *store.NotifyStream
		err error
	}
	second := make(chan opened, 1)
	go func() {
		s, err := st.NotifyStreamOpen(ctx, ids["api"], "pagerduty")
		second <- opened{s, err}
	}()
	// A failed test still gives both streams back, or the pool's Close
	// would wait for their connections.
	firstClosed, secondTaken := false, false
	t.Cleanup(func() {
		if !firstClosed {
			first.Close(ctx) //nolint:errcheck // the test has failed already
		}
		if !secondTaken {
			if o := <-second; o.err == nil {
				o.st.Close(ctx) //nolint:errcheck // the test has failed already
			}
		}
	})
	storetest.WaitFor(t, "the second open waiting for the stream", func() bool {
		var waiting int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`).Scan(&waiting)
		return err == nil && waiting == 1
	})

	first.Told = store.StateNotOK
	if err := first.Done(ctx, n.ID, "sent", ""); err != nil {
		t.Fatal(err)
	}
	var doneAt *time.Time
	var told string
	if err := pool.QueryRow(ctx, `SELECT n.done_at, s.told::text FROM notifications n
		JOIN notify_streams s ON s.site_id = n.site_id AND s.sink = n.sink WHERE n.id = $1`, n.ID).Scan(&doneAt, &told); err != nil {
		t.Fatal(err)
	}
	if doneAt == nil || told != string(store.StateNotOK) {
		t.Errorf("after Done, before Close: done_at %v, told %q; want the notice and what the sink was told recorded", doneAt, told)
	}
	select {
	case o := <-second:
		secondTaken = true
		if o.err == nil {
			o.st.Close(ctx) //nolint:errcheck // the test fails anyway
		}
		t.Fatalf("the second open returned while the first held the stream: %v", o.err)
	default:
	}

	firstClosed = true
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	secondTaken = true
	o := <-second
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.st.Told != store.StateNotOK {
		t.Errorf("the second open reads told %q, want notok", o.st.Told)
	}
	if _, err := o.st.Next(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("next after the first delivered: %v, want ErrNotFound", err)
	}
	if err := o.st.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
