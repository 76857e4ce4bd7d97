package pglocal

import (
	"bufio"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestStopNow: a server is asked to quit, and killed when it does not.
func TestStopNow(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		script string
		grace  time.Duration
		want   syscall.Signal
	}{
		// The grace is only an upper bound: the process quits at once.
		"QuitsOnSIGQUIT": {script: `echo ready; exec sleep 600`, grace: time.Minute, want: syscall.SIGQUIT},
		// An ignored SIGQUIT stays ignored across exec.
		"KilledWhenItIgnoresSIGQUIT": {script: `trap "" QUIT; echo ready; exec sleep 600`, grace: 0, want: syscall.SIGKILL},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("sh", "-c", tt.script)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The trap is set once the script speaks.
			if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			c := &Cluster{}
			c.watch(cmd)
			c.stopNow(tt.grace)
			select {
			case <-c.exited:
			default:
				t.Fatal("stopNow returned before the process was reaped")
			}
			var ee *exec.ExitError
			if !errors.As(c.exitError(), &ee) {
				t.Fatalf("exit = %v, want a signal", c.exitError())
			}
			ws, ok := ee.Sys().(syscall.WaitStatus)
			if !ok || !ws.Signaled() || ws.Signal() != tt.want {
				t.Errorf("exit = %v, want death by %v", ee, tt.want)
			}
		})
	}
}
