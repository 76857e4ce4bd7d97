package checker

import (
	"sync"
	"testing"
	"time"
)

// A job never waits for another: with every worker busy, do starts one more.
func TestWorkersNeverQueue(t *testing.T) {
	t.Parallel()
	w := newWorkers(time.Minute)
	const n = 50
	release := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	for range n {
		w.do(func() {
			started.Done()
			<-release
			finished.Done()
		})
	}
	// All n are running at once; a queued job would never start, since the
	// ones ahead of it wait for release.
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	select {
	case <-all:
	case <-time.After(waitTimeout):
		t.Fatal("a job waited for a busy worker")
	}
	close(release)
	finished.Wait()

	// Idle workers take the next jobs.
	done := make(chan int, n)
	for i := range n {
		w.do(func() { done <- i })
	}
	seen := map[int]bool{}
	for range n {
		seen[<-done] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct jobs ran, want %d", len(seen), n)
	}
}
