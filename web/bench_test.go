package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// BenchmarkBoardPage1000 serves GET / for 1,000 sites: the query and the
// render.
func BenchmarkBoardPage1000(b *testing.B) {
	ctx := context.Background()
	st := store.New(storetest.Pool(b))
	specs := make([]store.SiteSpec, 1000)
	for i := range specs {
		specs[i] = store.SiteSpec{Slug: fmt.Sprintf("site-%d", i), Name: fmt.Sprintf("Site %d", i), Group: fmt.Sprintf("Group %d", i/100), URL: "https://example.com/", Interval: 30 * time.Second}
	}
	ids, err := st.SiteSync(ctx, specs)
	if err != nil {
		b.Fatal(err)
	}
	var probes []store.Probe
	for slug, id := range ids {
		state := store.StateOK
		if strings.HasSuffix(slug, "7") {
			state = store.StateNotOK
		}
		probes = append(probes, store.Probe{SiteID: id, At: time.Now(), State: state, HTTPStatus: 503, Reason: "HTTP 503"})
	}
	if _, err := st.WriteProbes(ctx, probes); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: slog.New(slog.DiscardHandler), Roster: st}))
	defer srv.Close()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(srv.URL + "/")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the time counts
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// fakeBoard is an in-memory HubStore, so that the fan-out benchmark
// measures the hub and the streams, not PostgreSQL.
type fakeBoard struct {
	mu    sync.Mutex
	sites []store.Site
}

func (f *fakeBoard) SiteListActive(context.Context) ([]store.Site, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.Site(nil), f.sites...), nil
}

func (f *fakeBoard) SiteListCheckedSince(ctx context.Context, since time.Time) ([]store.Site, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Site
	for _, s := range f.sites {
		if s.CheckedAt != nil && !s.CheckedAt.Before(since) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeBoard) RosterBetween(context.Context, time.Time, time.Time) ([]store.Shift, error) {
	return nil, nil
}

func (f *fakeBoard) Listen(ctx context.Context, _ []string, opts store.ListenOptions) {
	opts.OnState(true)
	<-ctx.Done()
}

func (f *fakeBoard) flip() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sites[0].State == store.StateOK {
		f.sites[0].State = store.StateNotOK
	} else {
		f.sites[0].State = store.StateOK
	}
}

// BenchmarkFanOut200 measures one tile change reaching 200 open /events
// streams: refresh, render, broadcast, and every client reading it.
func BenchmarkFanOut200(b *testing.B) {
	const clients = 200
	fake := &fakeBoard{}
	for i := range 200 {
		fake.sites = append(fake.sites, store.Site{ID: int32(i), Slug: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("Site %d", i), State: store.StateOK, Interval: 30 * time.Second})
	}
	hub := web.NewHub(web.HubOptions{Store: fake, Logger: slog.New(slog.DiscardHandler), Refresh: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	srv := httptest.NewServer(web.New(web.Options{Logger: slog.New(slog.DiscardHandler), Hub: hub}))
	defer srv.Close()

	ready := make(chan struct{}, clients)
	got := make(chan struct{}, clients)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer hub.Close()
	for range clients {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			event := ""
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "event: "):
					event = line[len("event: "):]
				case event == "synced" && strings.HasPrefix(line, "data: "):
					ready <- struct{}{}
				case event == "tile" && strings.Contains(line, `data-slug="s0"`):
					got <- struct{}{}
				}
			}
		})
	}
	for range clients {
		<-ready
	}
	// Drain the tiles of the initial state.
	for len(got) > 0 {
		<-got
	}
	b.ResetTimer()
	for b.Loop() {
		fake.flip()
		hub.Poke()
		for range clients {
			<-got
		}
	}
}
