package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

func TestOnSupport(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	shifts := []store.Shift{
		{Start: day("2026-12-01"), End: day("2026-12-03"), Person: "Ada"},
		{Start: day("2026-12-03"), End: day("2026-12-03"), Person: "Linus"},
		{Start: day("2026-12-04"), End: day("2026-12-04"), Person: "Grace"},
	}
	// 23:30 on the 3rd in New York is already the 4th in UTC: the day is
	// the one where the time is told, as the board and the CLI mean it.
	newYork := time.FixedZone("EST", -5*60*60)
	tests := map[string]struct {
		at   time.Time
		want []string
	}{
		"BothEndsInclusive":    {time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), []string{"Ada"}},
		"Overlap":              {time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), []string{"Ada", "Linus"}},
		"LastDay":              {time.Date(2026, 12, 4, 23, 59, 0, 0, time.UTC), []string{"Grace"}},
		"LocalDayNotUTCDay":    {time.Date(2026, 12, 3, 23, 30, 0, 0, newYork), []string{"Ada", "Linus"}},
		"NobodyAfterTheLast":   {time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), nil},
		"NobodyBeforeTheFirst": {time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC), nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, s := range store.OnSupport(shifts, tt.at) {
				got = append(got, s.Person)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("OnSupport(%s) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}
