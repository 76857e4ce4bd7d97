package checker

import "time"

// workers runs probes on goroutines that outlive one probe. A fresh
// goroutine starts with a small stack and grows it, copying, to the 16–32
// KiB an HTTP exchange needs: at a thousand probes a second that copying was
// a tenth of Walnut's CPU. A worker keeps its grown stack for the next probe
// and ends after a spell with nothing to do, so a quiet board holds none.
type workers struct {
	jobs chan func()
	idle time.Duration
}

func newWorkers(idle time.Duration) *workers {
	return &workers{jobs: make(chan func()), idle: idle}
}

// do runs f on an idle worker, or on a new one when none is idle: a probe
// never waits for another to finish.
func (w *workers) do(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	t := time.NewTimer(w.idle)
	defer t.Stop()
	for {
		f()
		t.Reset(w.idle)
		select {
		case f = <-w.jobs:
		case <-t.C:
			return
		}
	}
}
