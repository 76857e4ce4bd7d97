package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// rosterLines lists the roster as "start..end person (contact)", in order.
func rosterLines(t *testing.T, st *store.Store) []string {
	t.Helper()
	shifts, err := st.RosterBetween(context.Background(), day("2000-01-01"), day("2100-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range shifts {
		out = append(out, fmt.Sprintf("%s..%s %s", s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly), s.Person))
	}
	slices.Sort(out)
	return out
}

// A PagerDuty sync owns the days it covered: CSV shifts are cut out of
// them (split, shortened or dropped), its own earlier rows from its first
// day on are replaced, and a CSV import afterwards is cut the same way.
func TestRosterSyncOwnsItsDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	csv := []store.Shift{
		{Start: day("2026-11-25"), End: day("2026-12-15"), Person: "Around"},
		{Start: day("2026-11-28"), End: day("2026-12-03"), Person: "Before"},
		{Start: day("2026-12-04"), End: day("2026-12-05"), Person: "Within"},
		{Start: day("2026-12-08"), End: day("2026-12-12"), Person: "After"},
		{Start: day("2026-12-20"), End: day("2026-12-21"), Person: "Later"},
	}
	if err := st.RosterReplace(ctx, csv); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 14, 5, 0, 0, time.UTC)
	pd := []store.Shift{{Start: day("2026-12-01"), End: day("2026-12-09"), Person: "Ada Lovelace", Contact: "ada@example.com"}}
	if err := st.RosterSyncReplace(ctx, store.RosterPagerDuty, day("2026-12-02"), day("2026-12-09"), pd, at); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2026-11-25..2026-12-01 Around",
		"2026-11-28..2026-12-01 Before",
		"2026-12-01..2026-12-09 Ada Lovelace",
		"2026-12-10..2026-12-12 After",
		"2026-12-10..2026-12-15 Around",
		"2026-12-20..2026-12-21 Later",
	}
	if got := rosterLines(t, st); !slices.Equal(got, want) {
		t.Fatalf("after the sync:\n got %q\nwant %q", got, want)
	}

	// The next sync replaces its rows; the CSV import after it replaces
	// the CSV's and is cut out of the synced days at once.
	at2 := at.Add(5 * time.Minute)
	pd[0].Person = "Grace Hopper"
	if err := st.RosterSyncReplace(ctx, store.RosterPagerDuty, day("2026-12-02"), day("2026-12-09"), pd, at2); err != nil {
		t.Fatal(err)
	}
	if err := st.RosterReplace(ctx, []store.Shift{{Start: day("2026-12-05"), End: day("2026-12-11"), Person: "Imported"}}); err != nil {
		t.Fatal(err)
	}
	want = []string{"2026-12-01..2026-12-09 Grace Hopper", "2026-12-10..2026-12-11 Imported"}
	if got := rosterLines(t, st); !slices.Equal(got, want) {
		t.Fatalf("after a second sync and an import:\n got %q\nwant %q", got, want)
	}

	// A failure keeps the roster and the last good sync's time.
	if err := st.RosterSyncFailed(ctx, store.RosterPagerDuty, at2.Add(5*time.Minute), "HTTP 401: Unauthorized"); err != nil {
		t.Fatal(err)
	}
	syncs, err := st.RosterSyncs(ctx)
	if err != nil || len(syncs) != 1 {
		t.Fatalf("syncs = %+v, %v", syncs, err)
	}
	s := syncs[0]
	if s.SyncedAt == nil || !s.SyncedAt.Equal(at2) || s.Error != "HTTP 401: Unauthorized" || !s.To.Equal(day("2026-12-09")) {
		t.Errorf("sync = %+v", s)
	}
	if got := rosterLines(t, st); !slices.Equal(got, want) {
		t.Fatalf("a failed sync changed the roster: %q", got)
	}
}

// A database whose roster was imported before sources existed keeps it, as
// CSV shifts that a sync can cut.
func TestRosterSourcesMigrationKeepsRoster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	// Back to the schema before 00031, with a roster in it.
	for _, q := range []string{
		`DROP TABLE roster_sync`,
		`ALTER TABLE roster DROP COLUMN source`,
		`DELETE FROM goose_db_version WHERE version_id = 31`,
		`INSERT INTO roster (start_day, end_day, person, contact) VALUES ('2026-11-30', '2026-12-06', 'Old Hand', '@old')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := store.Migrate(ctx, pool, discardLogger()); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	if got := rosterLines(t, st); !slices.Equal(got, []string{"2026-11-30..2026-12-06 Old Hand"}) {
		t.Fatalf("after the upgrade: %q", got)
	}
	if err := st.RosterSyncReplace(ctx, store.RosterPagerDuty, day("2026-12-02"), day("2026-12-09"), nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rosterLines(t, st), ","); got != "2026-11-30..2026-12-01 Old Hand" {
		t.Fatalf("the old rows are not cut as CSV rows: %q", got)
	}
}

// A source taken out of the config gives its days back: its shifts from
// today on and its sync record go in one step, earlier shifts stay, and a
// CSV import is no longer cut out of the days it covered.
func TestRosterSyncForget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	at := time.Date(2026, 12, 2, 14, 5, 0, 0, time.UTC)
	pd := []store.Shift{
		{Start: day("2026-11-20"), End: day("2026-11-25"), Person: "Earlier"},
		{Start: day("2026-12-02"), End: day("2026-12-09"), Person: "Ada Lovelace"},
	}
	if err := st.RosterSyncReplace(ctx, store.RosterPagerDuty, day("2026-11-20"), day("2026-12-09"), pd, at); err != nil {
		t.Fatal(err)
	}
	if err := st.RosterSyncFailed(ctx, store.RosterPagerDuty, at.Add(time.Minute), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	if err := st.RosterSyncForget(ctx, store.RosterPagerDuty, day("2026-12-02")); err != nil {
		t.Fatal(err)
	}
	if syncs, err := st.RosterSyncs(ctx); err != nil || len(syncs) != 0 {
		t.Errorf("syncs after forgetting = %+v, %v; want none", syncs, err)
	}
	if err := st.RosterReplace(ctx, []store.Shift{{Start: day("2026-12-01"), End: day("2026-12-07"), Person: "Imported"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-11-20..2026-11-25 Earlier", "2026-12-01..2026-12-07 Imported"}
	if got := rosterLines(t, st); !slices.Equal(got, want) {
		t.Fatalf("after forgetting and an import:\n got %q\nwant %q", got, want)
	}
}
