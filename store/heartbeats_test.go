package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

func TestHeartbeatTouch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, store.SiteSpec{Slug: "worker", Name: "Worker", URL: "/api/v1/heartbeat/worker", Interval: 6 * time.Minute})
	id := b.ids["worker"]

	last, err := b.store.HeartbeatLast(ctx, id)
	if err != nil || !last.IsZero() {
		t.Fatalf("before any call: %v, %v; want the zero time", last, err)
	}
	t1 := b.base
	if err := b.store.HeartbeatTouch(ctx, id, t1); err != nil {
		t.Fatal(err)
	}
	// A call another instance took earlier, recorded late, does not move
	// the clock back.
	if err := b.store.HeartbeatTouch(ctx, id, t1.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if last, err = b.store.HeartbeatLast(ctx, id); err != nil || !last.Equal(t1) {
		t.Fatalf("last = %v, %v; want %v", last, err, t1)
	}
	if err := b.store.HeartbeatTouch(ctx, id, t1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if last, _ = b.store.HeartbeatLast(ctx, id); !last.Equal(t1.Add(time.Minute)) {
		t.Fatalf("last = %v, want %v", last, t1.Add(time.Minute))
	}
}
