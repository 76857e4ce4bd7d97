package storetest

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c := NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	c.Add(time.Minute)
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("after Add(1m): %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after Set: %v", got)
	}
	// Read and moved from several goroutines at once: -race is the check.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { c.Add(time.Second); _ = c.Now() })
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(4 * time.Second)) {
		t.Errorf("after four concurrent Add(1s): %v", got)
	}
	if !(&Clock{}).Now().IsZero() {
		t.Error("a zero Clock does not read the zero time")
	}
}
