package checker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store/storetest"
)

// fakeLeases hands out the ids it is set to, and counts renewals.
type fakeLeases struct {
	mu       sync.Mutex
	ids      []int32
	err      error
	released []string
	renewals int
	renewed  chan struct{} // signalled after each renewal
}

func newFakeLeases(ids ...int32) *fakeLeases {
	return &fakeLeases{ids: ids, renewed: make(chan struct{}, 1)}
}

func (f *fakeLeases) set(err error, ids ...int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids, f.err = ids, err
}

func (f *fakeLeases) LeaseRenew(_ context.Context, owner string, ttl time.Duration) ([]int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renewals++
	select {
	case f.renewed <- struct{}{}:
	default: // already signalled
	}
	return slices.Clone(f.ids), f.err
}

func (f *fakeLeases) LeaseRelease(_ context.Context, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, owner)
	return nil
}

func (f *fakeLeases) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.renewals
}

// waitRenewals waits for n renewals that begin after the call, and so see
// whatever was set before it.
func (f *fakeLeases) waitRenewals(t *testing.T, n int) {
	t.Helper()
	want := f.count() + n
	timeout := time.After(waitTimeout)
	for f.count() < want {
		select {
		case <-f.renewed:
		case <-timeout:
			t.Fatalf("%d lease renewals, want %d", f.count(), want)
		}
	}
}

func slugsOf(sites []Site) []string {
	var out []string
	for _, s := range sites {
		out = append(out, s.Slug)
	}
	slices.Sort(out)
	return out
}

// runnerSlugs is what the checker runs.
func runnerSlugs(c *Checker) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for slug := range c.runners {
		out = append(out, slug)
	}
	slices.Sort(out)
	return out
}

// TestPlacerProbesItsShare: an instance probes the sites it holds a lease
// on; when its share changes the checker follows, a renewal that fails
// keeps what it holds, and at the end every lease is released for the
// others to take.
func TestPlacerProbesItsShare(t *testing.T) {
	t.Parallel()
	// Heartbeat sites: their runners only wait, so the test probes nothing.
	site := func(id int32, slug string) Site {
		s := heartbeatSite(time.Hour, time.Hour)
		s.ID, s.Slug = id, slug
		return s
	}
	sites := []Site{site(1, "a"), site(2, "b"), site(3, "c")}
	leases := newFakeLeases(1)
	chk := New(newCountSink(), nil, Options{})
	p := NewPlacer(leases, chk, PlacerOptions{Owner: "one", Every: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	mine, err := p.Start(ctx, sites)
	if err != nil {
		t.Fatal(err)
	}
	if got := slugsOf(mine); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Start = %v, want [a]", got)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { chk.Run(ctx, mine) })
	// Before Run a checker takes no update: the placer must find it running.
	storetest.WaitFor(t, "the checker to run a", func() bool { return slices.Equal(runnerSlugs(chk), []string{"a"}) })

	leases.set(nil, 2, 3) // another instance took a; this one takes b and c
	placed := make(chan struct{})
	wg.Go(func() { defer close(placed); p.Run(ctx) })
	// A renewal after the one that saw the change means the checker has
	// been updated: Run updates it before its next tick.
	leases.waitRenewals(t, 3)
	if got := runnerSlugs(chk); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("runners = %v, want [b c]", got)
	}

	leases.set(errors.New("database away"))
	leases.waitRenewals(t, 3)
	if got := runnerSlugs(chk); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("after failed renewals, runners = %v, want [b c] still", got)
	}

	// A reload's new site is claimed at once.
	leases.set(nil, 2, 3, 4)
	p.SetSites(ctx, append(sites, site(4, "d")))
	if got := runnerSlugs(chk); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Errorf("after SetSites, runners = %v, want [b c d]", got)
	}

	cancel()
	<-placed
	leases.mu.Lock()
	defer leases.mu.Unlock()
	if !slices.Equal(leases.released, []string{"one"}) {
		t.Errorf("released %v, want [one]", leases.released)
	}
}
