package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// events is GET /events, the board's server-sent event stream:
//
//	hello    {"version", "instance", "heartbeat_ms"}, first; the page reloads when the
//	         version or the instance (the server process) changed: after a deploy
//	status   {"listening": bool}: whether the server hears the database
//	tile     a rendered tile (it names its slug in data-slug), per change
//	swap     a rendered part of the board with an id: counts, strip, support,
//	         alerts (the footer on alert sinks in trouble)
//	checked  {"slug": unix_ms, ...}: latest probe times, for staleness
//	synced   ["slug", ...]: the full state has been sent, and the board's order
//	ping     the server's time in Unix ms, every heartbeat
//
// On connecting, a stream gets the full state. It ends with the request.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	if h.hub == nil {
		http.Error(w, "live updates are off", http.StatusNotFound)
		return
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	c, snapshot := h.hub.subscribe()
	defer h.hub.unsubscribe(c)

	hello, _ := json.Marshal(map[string]any{ //nolint:errcheck // strings and a number
		"version": h.version, "instance": h.boot, "heartbeat_ms": h.hub.opts.Heartbeat.Milliseconds(),
	})
	send := func(evs ...sseEvent) bool {
		// A TV that stopped reading must not pin this goroutine forever. The
		// deadline outlasts the wait for the next heartbeat, which moves it.
		_ = rc.SetWriteDeadline(time.Now().Add(h.hub.opts.Heartbeat + 30*time.Second))
		for _, ev := range evs {
			if err := writeEvent(w, ev); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	if !send(append([]sseEvent{{"hello", string(hello)}}, snapshot...)...) {
		return
	}
	beat := time.NewTicker(h.hub.opts.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.gone:
			return
		case <-beat.C:
			if !send(sseEvent{"ping", strconv.FormatInt(h.now().UnixMilli(), 10)}) {
				return
			}
		case ev := <-c.ch:
			evs := []sseEvent{ev}
			// Send what is already queued in one flush.
			for len(c.ch) > 0 && len(evs) < 256 {
				evs = append(evs, <-c.ch)
			}
			if !send(evs...) {
				return
			}
		}
	}
}

// writeEvent writes one event; data with line breaks takes one data line
// per line, as the format requires.
func writeEvent(w io.Writer, ev sseEvent) error {
	var b strings.Builder
	b.WriteString("event: ")
	b.WriteString(ev.name)
	b.WriteByte('\n')
	for line := range strings.SplitSeq(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(ev.data), "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
