package storetest

import (
	"sync"
	"time"
)

// Clock is a time a test sets and moves by hand, for code that takes a Now
// function, so that no test waits on the wall clock (River's TimeStub). The
// zero value reads the zero time. It is safe for concurrent use: the code
// under test reads it from its own goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time; pass c.Now where a Now function is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
