package web

import (
	"context"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// NotifyHealth is what /healthz and the board's footer need of alerting;
// *store.Store has it.
type NotifyHealth interface {
	NotifyHealth(ctx context.Context) ([]store.SinkHealth, error)
}

// Sink statuses, on /healthz and on the board.
const (
	sinkOK      = "ok"
	sinkFailing = "failing"
	sinkDelayed = "delayed"
)

// sinkHealthJSON is one alert sink on /healthz. Status is "ok", "failing"
// (its last notice was refused, e.g. a bad PagerDuty routing key, and will
// not be retried) or "delayed" (notices wait for retries).
type sinkHealthJSON struct {
	Sink          string     `json:"sink"`
	Status        string     `json:"status"`
	Error         string     `json:"error,omitempty"`
	LastAt        *time.Time `json:"last_at,omitempty"`
	Pending       int        `json:"pending"`
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
}

// notifyDelayed is how long a notice may wait before a sink counts as delayed.
const notifyDelayed = 2 * time.Minute

// readSinkHealth is how each alert sink's deliveries are going, as /healthz
// reports them and the board's footer warns of them: one computation, so
// the two never disagree. A nil n has no sinks. A failing sink's answer is
// scrubbed here, since /healthz is open to anyone.
func readSinkHealth(ctx context.Context, n NotifyHealth, now time.Time) ([]sinkHealthJSON, error) {
	if n == nil {
		return nil, nil
	}
	sinks, err := n.NotifyHealth(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]sinkHealthJSON, len(sinks))
	for i, s := range sinks {
		j := sinkHealthJSON{Sink: s.Sink, Status: sinkOK, LastAt: utcPtr(s.LastAt), Pending: s.Pending, OldestPending: utcPtr(s.OldestPending)}
		switch {
		case s.LastOutcome == "failed":
			j.Status, j.Error = sinkFailing, secret.Guess(s.LastDetail)
		case s.OldestPending != nil && now.Sub(*s.OldestPending) > notifyDelayed:
			j.Status = sinkDelayed
		}
		out[i] = j
	}
	return out, nil
}

func (h *Handler) notifyHealth(ctx context.Context) []sinkHealthJSON {
	sinks, err := readSinkHealth(ctx, h.notify, h.now())
	if err != nil {
		h.logger.WarnContext(ctx, "notify health", "error", err)
		return nil
	}
	return sinks
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
