package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// TestListenReconnects kills the LISTEN connection from the server side and
// checks that Listen says so, comes back, asks for a re-read, and hears
// notifications again.
func TestListenReconnects(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := storetest.Pool(t)
	st := store.New(pool)

	type note struct{ channel, payload string }
	notes := make(chan note, 100)
	states := make(chan bool, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.Listen(ctx, []string{store.ChannelChecked, store.ChannelSites}, store.ListenOptions{
			Logger:   discardLogger(),
			Backoff:  func(int) time.Duration { return 10 * time.Millisecond },
			OnNotify: func(c, p string) { notes <- note{c, p} },
			OnState:  func(up bool) { states <- up },
		})
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	expectState := func(want bool) {
		t.Helper()
		select {
		case got := <-states:
			if got != want {
				t.Fatalf("state %v, want %v", got, want)
			}
		case <-timeout.C:
			t.Fatalf("no state %v within 30s", want)
		}
	}
	expectNote := func(want note) {
		t.Helper()
		for {
			select {
			case got := <-notes:
				if got == want {
					return
				}
			case <-timeout.C:
				t.Fatalf("no notification %+v within 30s", want)
			}
		}
	}

	expectState(true)
	expectNote(note{"", ""}) // a re-read is asked for on connecting
	if _, err := pool.Exec(ctx, "SELECT pg_notify($1, '7')", store.ChannelChecked); err != nil {
		t.Fatal(err)
	}
	expectNote(note{store.ChannelChecked, "7"})

	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	expectState(false)
	expectState(true)
	expectNote(note{"", ""})
	if _, err := pool.Exec(ctx, "SELECT pg_notify($1, 'again')", store.ChannelSites); err != nil {
		t.Fatal(err)
	}
	expectNote(note{store.ChannelSites, "again"})

	cancel()
	<-done
}

// TestListenNoticesHalfOpenConnection freezes the network path of the
// LISTEN connection (a proxy stops forwarding without closing anything):
// Listen's ping goes unanswered, it says the connection is lost, and it
// listens again once the path carries bytes.
func TestListenNoticesHalfOpenConnection(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dbURL := storetest.NewDatabase(t)
	directStore, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(directStore.Close)
	direct := directStore.Pool()
	proxy := storetest.NewProxy(t, dbURL)
	st, err := store.Open(ctx, proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	notes := make(chan string, 100)
	states := make(chan bool, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.Listen(ctx, []string{store.ChannelChecked}, store.ListenOptions{
			Logger:       discardLogger(),
			Backoff:      func(int) time.Duration { return 10 * time.Millisecond },
			OnNotify:     func(c, p string) { notes <- c + ":" + p },
			OnState:      func(up bool) { states <- up },
			PingInterval: 20 * time.Millisecond,
			Timeout:      2 * time.Second,
		})
	}()
	defer func() { cancel(); <-done }()
	// A hang guard, not a measure: the ping notices within PingInterval
	// plus Timeout.
	guard := time.NewTimer(30 * time.Second)
	defer guard.Stop()
	expectState := func(want bool) {
		t.Helper()
		select {
		case got := <-states:
			if got != want {
				t.Fatalf("state %v, want %v", got, want)
			}
		case <-guard.C:
			t.Fatalf("no state %v within 30s", want)
		}
	}
	expectNote := func(want string) {
		t.Helper()
		for {
			select {
			case got := <-notes:
				if got == want {
					return
				}
			case <-guard.C:
				t.Fatalf("no notification %q within 30s", want)
			}
		}
	}

	expectState(true)
	// The quiet connection is pinged, and survives it: its backend's last
	// statement is the ping, and it still hears notifications.
	var pid int32
	for {
		err := direct.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND query = '-- ping'`).Scan(&pid)
		if err == nil {
			break
		}
		select {
		case <-guard.C:
			t.Fatalf("the listening connection was never pinged: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := direct.Exec(ctx, "SELECT pg_notify($1, 'before')", store.ChannelChecked); err != nil {
		t.Fatal(err)
	}
	expectNote(store.ChannelChecked + ":before")
	select {
	case up := <-states:
		t.Fatalf("state changed to %v on a healthy connection", up)
	default:
	}

	proxy.Freeze()
	expectState(false)
	proxy.Resume()
	expectState(true)
	if _, err := direct.Exec(ctx, "SELECT pg_notify($1, 'after')", store.ChannelChecked); err != nil {
		t.Fatal(err)
	}
	expectNote(store.ChannelChecked + ":after")
}
