package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

func TestSlackThreads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := store.New(storetest.Pool(t))
	if _, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "api", Name: "API", URL: "https://api.example.com/", Interval: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	down := time.Date(2026, 11, 25, 14, 2, 0, 0, time.UTC)

	if _, err := st.SlackThreadOpen(ctx, "api"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no outage yet: %v, want ErrNotFound", err)
	}
	th, err := st.SlackThreadStart(ctx, "api", store.SlackThread{Channel: "C1", TS: "1.1", DownSince: down, Reason: "HTTP 503"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SlackThreadStart(ctx, "api", store.SlackThread{Channel: "C1", TS: "1.2", DownSince: down}); err == nil {
		t.Error("a second open outage of one site was recorded")
	}
	if _, err := st.SlackThreadStart(ctx, "nope", store.SlackThread{Channel: "C1", TS: "1.3", DownSince: down}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown site: %v, want ErrNotFound", err)
	}
	if err := st.SlackThreadMove(ctx, th.ID, "C2", "2.1"); err != nil {
		t.Fatal(err)
	}
	got, err := st.SlackThreadOpen(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.SlackThread{ID: th.ID, Channel: "C2", TS: "2.1", DownSince: down, Reason: "HTTP 503"}); !got.DownSince.Equal(down) || got.ID != want.ID ||
		got.Channel != want.Channel || got.TS != want.TS || got.Reason != want.Reason {
		t.Errorf("open outage = %+v, want %+v", got, want)
	}
	if err := st.SlackThreadEnd(ctx, th.ID, down.Add(12*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SlackThreadOpen(ctx, "api"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the end: %v, want ErrNotFound", err)
	}
	// The next outage is a new message.
	if _, err := st.SlackThreadStart(ctx, "api", store.SlackThread{Channel: "C1", TS: "3.1", DownSince: down.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}
