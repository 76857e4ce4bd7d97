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
		st.Listen(ctx, []string{store.ChannelProbes, store.ChannelTransition}, store.ListenOptions{
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
	if _, err := pool.Exec(ctx, "SELECT pg_notify($1, '7')", store.ChannelProbes); err != nil {
		t.Fatal(err)
	}
	expectNote(note{store.ChannelProbes, "7"})

	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	expectState(false)
	expectState(true)
	expectNote(note{"", ""})
	if _, err := pool.Exec(ctx, "SELECT pg_notify($1, 'again')", store.ChannelTransition); err != nil {
		t.Fatal(err)
	}
	expectNote(note{store.ChannelTransition, "again"})

	cancel()
	<-done
}
