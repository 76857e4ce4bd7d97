package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

func TestLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	specs := make([]store.SiteSpec, 10)
	for i := range specs {
		specs[i] = store.SiteSpec{Slug: fmt.Sprintf("s%d", i), Name: fmt.Sprint(i), URL: "https://x/", Interval: time.Minute}
	}
	b := setup(t, specs...)
	st := b.store
	const ttl = time.Hour // nobody expires unless the test says so

	a, err := st.LeaseRenew(ctx, "a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 10 {
		t.Fatalf("a lone instance holds %d sites, want all 10", len(a))
	}

	// b joins: it finds nothing free until a gives up its excess.
	bs, _ := st.LeaseRenew(ctx, "b", ttl)
	if len(bs) != 0 {
		t.Fatalf("b took %d sites still held by a", len(bs))
	}
	a, _ = st.LeaseRenew(ctx, "a", ttl)
	bs, _ = st.LeaseRenew(ctx, "b", ttl)
	if len(a) != 5 || len(bs) != 5 {
		t.Fatalf("after a round: a %d, b %d; want 5 and 5", len(a), len(bs))
	}
	seen := map[int32]string{}
	for _, id := range a {
		seen[id] = "a"
	}
	for _, id := range bs {
		if seen[id] != "" {
			t.Fatalf("site %d leased to both instances", id)
		}
	}

	// b dies silently: once its heartbeat is older than the ttl, a takes
	// everything back.
	if _, err := st.Pool().Exec(ctx, `UPDATE instances SET heartbeat_at = now() - interval '1 minute' WHERE id = 'b'`); err != nil {
		t.Fatal(err)
	}
	a, _ = st.LeaseRenew(ctx, "a", 30*time.Second)
	if len(a) != 10 {
		t.Fatalf("after b died, a holds %d, want 10", len(a))
	}

	// A clean shutdown frees the sites at once.
	bs, _ = st.LeaseRenew(ctx, "b", ttl)
	a, _ = st.LeaseRenew(ctx, "a", ttl)
	bs, _ = st.LeaseRenew(ctx, "b", ttl)
	if len(bs) != 5 {
		t.Fatalf("b back: holds %d, want 5", len(bs))
	}
	if err := st.LeaseRelease(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	a, _ = st.LeaseRenew(ctx, "a", ttl)
	if len(a) != 10 {
		t.Fatalf("after b released, a holds %d, want 10", len(a))
	}

	// Retired sites are let go.
	if _, err := st.SiteSync(ctx, specs[:4]); err != nil {
		t.Fatal(err)
	}
	a, _ = st.LeaseRenew(ctx, "a", ttl)
	if len(a) != 4 {
		t.Fatalf("after retiring 6 sites, a holds %d, want 4", len(a))
	}
}
