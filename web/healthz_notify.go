package web

import (
	"context"
	"time"

	"github.com/walnut-board/walnut/store"
)

// NotifyHealth is what /healthz needs of alerting; *store.Store has it.
type NotifyHealth interface {
	NotifyHealth(ctx context.Context) ([]store.SinkHealth, error)
}

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

func (h *Handler) notifyHealth(ctx context.Context) []sinkHealthJSON {
	if h.notify == nil {
		return nil
	}
	sinks, err := h.notify.NotifyHealth(ctx)
	if err != nil {
		h.logger.WarnContext(ctx, "notify health", "error", err)
		return nil
	}
	out := make([]sinkHealthJSON, len(sinks))
	for i, s := range sinks {
		j := sinkHealthJSON{Sink: s.Sink, Status: "ok", LastAt: utcPtr(s.LastAt), Pending: s.Pending, OldestPending: utcPtr(s.OldestPending)}
		switch {
		case s.LastOutcome == "failed":
			j.Status, j.Error = "failing", s.LastDetail
		case s.OldestPending != nil && h.now().Sub(*s.OldestPending) > notifyDelayed:
			j.Status = "delayed"
		}
		out[i] = j
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
