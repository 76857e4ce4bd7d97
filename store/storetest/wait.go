package storetest

import (
	"context"
	"testing"
	"time"
)

// waitBound is how long WaitFor waits: a guard against a hang, not a
// timing assumption, so it is far longer than any wait should take.
const waitBound = time.Minute

// pollTick is how often WaitFor asks again.
const pollTick = 10 * time.Millisecond

// WaitFor asks cond every few milliseconds until it holds. When it has not
// held after a minute, or the test ends first, it fails tb with "timed out
// waiting for " and what. cond runs on the caller's goroutine, so it may
// call tb.Fatal; it is for state that has no signal to wait on (a count, a
// row, another process's answer), where a channel would be better still.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), waitBound)
	defer cancel()
	tick := time.NewTicker(pollTick)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			tb.Fatalf("timed out waiting for %s", what)
			return
		case <-tick.C:
		}
	}
}
