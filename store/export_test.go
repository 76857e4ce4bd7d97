package store

import (
	"errors"
	"sync/atomic"
)

// LoseCommitAnswers makes w's next n successful writes report their COMMIT
// as unanswered, as when the connection drops after the server committed.
// Call it before Run.
func LoseCommitAnswers(w *Writer, n int) {
	var left atomic.Int32
	left.Store(int32(n))
	w.commitFault = func(err error) error {
		if err == nil && left.Add(-1) >= 0 {
			return &commitError{errors.New("write probes: commit: unexpected EOF")}
		}
		return err
	}
}
