package main

import (
	"context"
	"errors"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/web"
)

// heartbeatRoute lets web's heartbeat endpoint reach checker.Heartbeats
// without web importing checker: it carries the report over and maps the
// checker's errors to the answers web knows.
type heartbeatRoute struct{ hbs *checker.Heartbeats }

func (h heartbeatRoute) Authorize(slug, token string) error {
	return webError(h.hbs.Authorize(slug, token))
}

func (h heartbeatRoute) Receive(ctx context.Context, slug, token string, hb web.Heartbeat) (bool, error) {
	rcpt, err := h.hbs.Receive(ctx, slug, token, checker.Report{State: hb.State, Reason: hb.Reason, Duration: hb.Duration})
	if err != nil {
		return false, webError(err)
	}
	return rcpt.Merged, nil
}

// webError maps the checker's refusals to the answers web knows.
func webError(err error) error {
	switch {
	case errors.Is(err, checker.ErrNotHeartbeat):
		return web.ErrHeartbeatUnknown
	case errors.Is(err, checker.ErrHeartbeatToken):
		return web.ErrHeartbeatToken
	}
	return err
}
