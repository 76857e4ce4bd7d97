package web

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

type healthJSON struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Notify is how each alert sink's deliveries are going.
	Notify []sinkHealthJSON `json:"notify,omitempty"`
	// Database is the database's size against WALNUT_DB_BUDGET, from the
	// latest reading; a database near its budget is a warning, not a 503.
	Database *storageJSON `json:"database,omitempty"`
}

// writerBacklog is how many probes may wait to be written before /healthz
// says the writer is not keeping up: a few seconds of a large board.
const writerBacklog = 20_000

// writerStall is how long one write may wait on the database before
// /healthz says the database is too slow. A batch takes milliseconds; a
// write held this long is waiting on a lock or a saturated server, and no
// write has failed yet, so LastError alone would still say all is well.
const writerStall = 5 * time.Second

// stallReporter is what *store.Writer adds to WriterHealth: how long the
// write in flight has waited, 0 when none is.
type stallReporter interface {
	Stalled() time.Duration
}

// healthz answers 200 when the database answers and the writer keeps up,
// 503 with a reason if not.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	unavailable := func(reason string) {
		h.writeJSON(w, r, http.StatusServiceUnavailable, healthJSON{Status: "unavailable", Version: h.version, Reason: reason, Database: storageHealth(h.storage.Usage())})
	}
	if err := h.store.Ping(ctx); err != nil {
		h.logger.WarnContext(ctx, "health check failed", "error", err)
		unavailable("database unreachable")
		return
	}
	if h.writer != nil {
		if s, ok := h.writer.(stallReporter); ok {
			if d := s.Stalled(); d > writerStall {
				unavailable(fmt.Sprintf("the database is too slow: a write has waited %s", d.Round(time.Second)))
				return
			}
		}
		if err := h.writer.LastError(); err != nil {
			unavailable("probes cannot be written to the database")
			return
		}
		if n := h.writer.Buffered(); n > writerBacklog {
			unavailable(fmt.Sprintf("the writer is falling behind: %d probes waiting", n))
			return
		}
	}
	h.writeJSON(w, r, http.StatusOK, healthJSON{Status: "ok", Version: h.version, Notify: h.notifyHealth(ctx), Database: storageHealth(h.storage.Usage())})
}
