package web

import (
	"context"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/views"
)

// wideRoster hands out every shift it holds, whatever days are asked for,
// as a roster kept elsewhere (a synced schedule) may.
type wideRoster []store.Shift

func (r wideRoster) RosterBetween(context.Context, time.Time, time.Time) ([]store.Shift, error) {
	return r, nil
}

// TestReadSupportOnlyToday: the board names who covers today, however
// much of the roster its source returns, and says until when.
func TestReadSupportOnlyToday(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	roster := wideRoster{
		{Start: day(1), End: day(2), Person: "Ada", Contact: "@ada"},
		{Start: day(3), End: day(6), Person: "Linus", Contact: "@linus"},
		{Start: day(3), End: day(3), Person: "Grace"},
		{Start: day(7), End: day(9), Person: "Alan", Contact: "@alan"},
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.Local)
	got, err := readSupport(context.Background(), roster, now)
	if err != nil {
		t.Fatal(err)
	}
	want := views.SupportView{Person: "Linus & Grace", Contact: "@linus", Until: "Thu 3 Dec"}
	if got != want {
		t.Errorf("readSupport = %+v, want %+v", got, want)
	}
}
