package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

type healthDatabase struct {
	Bytes       int64    `json:"bytes"`
	BudgetBytes int64    `json:"budget_bytes"`
	Percent     *float64 `json:"percent"`
	Status      string   `json:"status"`
	Message     string   `json:"message"`
}

// storageBoard is a board and /healthz over a real database whose size is
// read against a budget of budget(size) bytes: a test database is a few
// megabytes, so a budget made from its size puts it where a test wants.
func storageBoard(t *testing.T, budget func(size int64) int64) (*httptest.Server, int64) {
	t.Helper()
	return storageBoardTrimming(t, budget, true)
}

func storageBoardTrimming(t *testing.T, budget func(size int64) int64, trimming bool) (*httptest.Server, int64) {
	t.Helper()
	st := store.New(storetest.Pool(t))
	size, err := st.DatabaseSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if size < 1_000_000 {
		t.Fatalf("a database of %d bytes: the size is not the whole database's", size)
	}
	watch := web.NewStorageWatch(web.StorageWatchOptions{Sizer: st, Budget: budget(size), Trimming: trimming})
	if err := watch.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: slog.New(slog.DiscardHandler), Storage: watch}))
	t.Cleanup(srv.Close)
	return srv, size
}

func healthDB(t *testing.T, srv *httptest.Server) *healthDatabase {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d; a database near its budget is a warning, not an outage", resp.StatusCode)
	}
	var got struct {
		Database *healthDatabase `json:"database"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got.Database
}

func TestDatabaseBudget(t *testing.T) {
	t.Parallel()

	t.Run("NearBudgetWarns", func(t *testing.T) {
		t.Parallel()
		// The database at about 85 % of its budget.
		srv, size := storageBoard(t, func(size int64) int64 { return size * 100 / 85 })
		db := healthDB(t, srv)
		if db == nil || db.Status != "near_budget" || db.Bytes < size/2 || db.BudgetBytes != size*100/85 {
			t.Fatalf("/healthz database = %+v, want near_budget with the size and budget", db)
		}
		if db.Percent == nil || *db.Percent < 80 || *db.Percent >= 100 {
			t.Errorf("percent = %v, want about 85", db.Percent)
		}
		if !regexp.MustCompile(`^database [\d.]+ MB of its [\d.]+ MB budget \(8\d %\) — past it, the oldest probes are dropped$`).MatchString(db.Message) {
			t.Errorf("message %q", db.Message)
		}

		f, _ := footer(t, srv.Client(), srv.URL+"/")
		if _, hidden := f.Attr("hidden"); hidden {
			t.Fatal("footer hidden while the database is near its budget")
		}
		a := f.Find(`[data-testid=alert][data-sink=database]`)
		if a.Length() != 1 || a.AttrOr("data-status", "") != "near_budget" {
			t.Fatalf("footer: %q, want one database line near_budget", f.Text())
		}
		text := strings.Join(strings.Fields(a.Text()), " ")
		if !regexp.MustCompile(`^⚠ Database [\d.]+ MB of its [\d.]+ MB budget \(8\d %\) — past it, the oldest probes are dropped$`).MatchString(text) {
			t.Errorf("footer line %q", text)
		}
	})

	t.Run("OverBudgetSaysTrimming", func(t *testing.T) {
		t.Parallel()
		srv, _ := storageBoard(t, func(int64) int64 { return 1_000_000 })
		db := healthDB(t, srv)
		if db == nil || db.Status != "over_budget" || !strings.Contains(db.Message, "of its 1 MB budget") || !strings.Contains(db.Message, "being dropped") {
			t.Fatalf("/healthz database = %+v", db)
		}
		f, _ := footer(t, srv.Client(), srv.URL+"/")
		if a := f.Find(`[data-sink=database]`); a.AttrOr("data-status", "") != "over_budget" || !strings.Contains(a.Text(), "being dropped") {
			t.Errorf("footer: %q", f.Text())
		}
	})

	t.Run("WithoutTrimmingSaysWhatToDo", func(t *testing.T) {
		t.Parallel()
		srv, _ := storageBoardTrimming(t, func(size int64) int64 { return size * 100 / 90 }, false)
		db := healthDB(t, srv)
		if db == nil || db.Status != "near_budget" || strings.Contains(db.Message, "dropped") || !strings.Contains(db.Message, "a larger plan") {
			t.Fatalf("/healthz database = %+v", db)
		}
	})

	t.Run("UnderEightyPercentIsQuiet", func(t *testing.T) {
		t.Parallel()
		srv, _ := storageBoard(t, func(size int64) int64 { return size * 100 / 75 })
		db := healthDB(t, srv)
		if db == nil || db.Status != "ok" || db.Message != "" || db.Percent == nil || *db.Percent >= 80 {
			t.Fatalf("/healthz database = %+v, want ok at about 75 %%", db)
		}
		f, _ := footer(t, srv.Client(), srv.URL+"/")
		if _, hidden := f.Attr("hidden"); !hidden {
			t.Errorf("footer shows at 75 %%: %q", f.Text())
		}
	})

	t.Run("NoBudgetReportsSize", func(t *testing.T) {
		t.Parallel()
		srv, size := storageBoard(t, func(int64) int64 { return 0 })
		db := healthDB(t, srv)
		if db == nil || db.Status != "ok" || db.Bytes < size/2 || db.BudgetBytes != 0 || db.Percent != nil {
			t.Fatalf("/healthz database = %+v, want its size alone", db)
		}
		f, _ := footer(t, srv.Client(), srv.URL+"/")
		if _, hidden := f.Attr("hidden"); !hidden {
			t.Errorf("footer shows without a budget: %q", f.Text())
		}
	})
}

// fakeSizer is a database whose size a test sets.
type fakeSizer struct{ bytes atomic.Int64 }

func (f *fakeSizer) DatabaseSize(context.Context) (int64, error) { return f.bytes.Load(), nil }

// TestEventsDatabaseFooter checks that the live board swaps the database's
// line into the footer when it nears its budget, with no alert sink
// configured, and out again when it is back under 80 %.
func TestEventsDatabaseFooter(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))
	sizer := &fakeSizer{}
	sizer.bytes.Store(900_000_000)
	watch := web.NewStorageWatch(web.StorageWatchOptions{Sizer: sizer, Budget: 1_000_000_000, Trimming: true})
	if err := watch.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	hub := web.NewHub(web.HubOptions{Store: st, Storage: watch, Logger: logger, AlertsEvery: 20 * time.Millisecond})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: logger, Hub: hub, Storage: watch}))
	t.Cleanup(func() { stop(); <-done; srv.Close() })

	events := openStream(t, srv.URL)
	ev := waitFor(t, events, "the database's line", named("swap", `id="alerts"`, `data-sink="database"`, "near_budget"))
	if !strings.Contains(ev.data, "900 MB of its 1 GB budget (90 %)") {
		t.Errorf("footer: %s", ev.data)
	}

	sizer.bytes.Store(500_000_000)
	if err := watch.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, events, "the footer going quiet", func(e sse) bool {
		return named("swap", `id="alerts"`, "hidden")(e) && !strings.Contains(e.data, "data-sink")
	})
}

// TestHealthzMaintenance: /healthz carries the maintenance object, and a
// maintenance failing for a while is a warning in a 200.
func TestHealthzMaintenance(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	watch := web.NewMaintenanceWatch(clock)
	srv := httptest.NewServer(web.New(web.Options{Store: st, Logger: slog.New(slog.DiscardHandler), Maintenance: watch}))
	t.Cleanup(srv.Close)
	get := func() (int, map[string]string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Maintenance map[string]string `json:"maintenance"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, got.Maintenance
	}
	if code, m := get(); code != 200 || m["status"] != "starting" {
		t.Errorf("before a pass: %d %v", code, m)
	}
	watch.Passed(store.MaintainResult{CompactedUntil: clock().Add(-time.Hour)}, nil)
	if code, m := get(); code != 200 || m["status"] != "ok" || m["history_behind"] != "1h 0m" || m["last_pass_at"] != "2026-11-25T12:30:00Z" {
		t.Errorf("after a pass: %d %v", code, m)
	}
	now.Add(int64(20 * time.Minute))
	watch.Passed(store.MaintainResult{}, context.DeadlineExceeded)
	if code, m := get(); code != 200 || m["status"] != "failing" || !strings.Contains(m["message"], "context deadline exceeded") {
		t.Errorf("failing for 20 minutes: %d %v", code, m)
	}
}
