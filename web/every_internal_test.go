package web

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store/storetest"
)

// TestRunEvery: one warning per run of failures, none for the failure that
// ctx's end causes, and the loop returns once ctx ends.
func TestRunEvery(t *testing.T) {
	t.Parallel()
	var logs storetest.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	down := errors.New("database away")
	results := []error{down, down, nil, down, context.Canceled}
	calls := 0
	runEvery(ctx, time.Millisecond, logger, "read something", func(context.Context) error {
		err := results[calls]
		calls++
		if calls == len(results) {
			cancel()
		}
		return err
	})
	if calls != len(results) {
		t.Errorf("f called %d times, want %d", calls, len(results))
	}
	if n := strings.Count(logs.String(), `msg="read something"`); n != 2 {
		t.Errorf("%d warnings, want one per run of failures (2):\n%s", n, logs.String())
	}
}
