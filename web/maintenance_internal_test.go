package web

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// TestMaintenanceHealth: what /healthz says of the maintenance passes as
// they go well, fail for a while, fall behind, or happen elsewhere.
func TestMaintenanceHealth(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	w := NewMaintenanceWatch(func() time.Time { return now })
	check := func(status, behind, message string) {
		t.Helper()
		j := w.health()
		if j.Status != status || j.HistoryBehind != behind || j.Message != message {
			t.Errorf("health = %+v, want status %q, behind %q, message %q", *j, status, behind, message)
		}
	}
	check("starting", "", "")

	w.Passed(store.MaintainResult{CompactedUntil: now.Add(-90 * time.Minute)}, nil)
	check("ok", "1h 30m", "")

	// A failing pass is a warning only once no pass has gone well for 15
	// minutes; the token in the error is not shown.
	w.Passed(store.MaintainResult{}, errors.New("compact: dial postgres://walnut:s3cretpassw0rdvalue@db/walnut: refused"))
	check("ok", "1h 30m", "")
	now = now.Add(16 * time.Minute)
	j := w.health()
	if j.Status != "failing" || j.Message == "" {
		t.Fatalf("after 16 minutes of failures: %+v", *j)
	}
	if want := "maintenance has failed for 16m: "; !strings.HasPrefix(j.Message, want) {
		t.Errorf("message %q", j.Message)
	}
	if strings.Contains(j.Message, "s3cretpassw0rdvalue") {
		t.Errorf("the message shows a secret: %q", j.Message)
	}

	// Good again, but history trails by more than three hours.
	w.Passed(store.MaintainResult{CompactedUntil: now.Add(-4 * time.Hour)}, nil)
	check("behind", "4h 0m", "history is compacted only up to 4h 0m ago: old probes stay raw and the database grows")

	// Another instance maintains: nothing to say of history from here.
	w.Passed(store.MaintainResult{Skipped: true}, nil)
	check("elsewhere", "", "")
	if w.Passes("ok") != 2 || w.Passes("error") != 1 || w.Passes("skipped") != 1 {
		t.Errorf("passes ok %v error %v skipped %v", w.Passes("ok"), w.Passes("error"), w.Passes("skipped"))
	}
}
