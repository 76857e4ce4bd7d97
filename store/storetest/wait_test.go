package storetest

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// fakeTB records WaitFor's failure and stops as t.Fatal does.
type fakeTB struct {
	testing.TB
	ctx    context.Context
	failed string
}

func (f *fakeTB) Helper()                  {}
func (f *fakeTB) Context() context.Context { return f.ctx }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls WaitFor on its own goroutine, as the testing package runs a
// test, so that Fatalf can end it.
func (f *fakeTB) run(what string, cond func() bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		WaitFor(f, what, cond)
	}()
	<-done
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	t.Run("ReturnsOnceTheConditionHolds", func(t *testing.T) {
		t.Parallel()
		tb := &fakeTB{ctx: t.Context()}
		calls := 0
		tb.run("three calls", func() bool { calls++; return calls == 3 })
		if tb.failed != "" || calls != 3 {
			t.Errorf("failed %q after %d calls, want success on the 3rd", tb.failed, calls)
		}
	})
	t.Run("FailsWhenTheTestEnds", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		tb := &fakeTB{ctx: ctx}
		tb.run("godot", func() bool { return false })
		if tb.failed != "timed out waiting for godot" {
			t.Errorf("failure = %q", tb.failed)
		}
	})
}
