package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
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
	// Probes is what the writer could not store in the last minutes.
	Probes *probesHealthJSON `json:"probes,omitempty"`
	// Roster is how the roster's sync from PagerDuty goes, when there is
	// one; a failing sync is a warning (the last roster stays), not a 503.
	Roster []rosterHealthJSON `json:"roster,omitempty"`
	// Maintenance is how the maintenance passes go (compaction, retention,
	// the budget).
	Maintenance *maintenanceJSON `json:"maintenance,omitempty"`
}

// probesHealthJSON is the writer's losses over probeLossWindow. Status is
// "ok", "rejected" (the database refused probes: each site concerned shows
// a notok verdict "probe could not be stored: …") or "dropped" (probes
// were lost: the buffer was full while the database was away). Either is a
// warning in a 200: one site's bad data, or an outage that is over, is not
// cured by restarting or draining a Walnut that writes again, and the
// board must stay up to show it.
type probesHealthJSON struct {
	Status   string `json:"status"`
	Window   string `json:"window"`
	Dropped  int    `json:"dropped"`
	Rejected int    `json:"rejected"`
	Message  string `json:"message,omitempty"`
	LastAt   string `json:"last_at,omitempty"`
}

// probeLossWindow is how far back /healthz reports lost probes.
const probeLossWindow = 10 * time.Minute

// lossReporter is what *store.Writer adds to WriterHealth: the probes it
// dropped or the database refused since a time.
type lossReporter interface {
	Losses(since time.Time) store.Losses
}

// probesHealth reads the writer's losses; nil without a writer that counts
// them.
func (h *Handler) probesHealth() *probesHealthJSON {
	lr, ok := h.writer.(lossReporter)
	if !ok {
		return nil
	}
	l := lr.Losses(h.now().Add(-probeLossWindow))
	j := &probesHealthJSON{Status: "ok", Window: "10m", Dropped: l.Dropped, Rejected: l.Rejected}
	var says []string
	if l.Rejected > 0 {
		j.Status = "rejected"
		// /healthz is open to anyone: the database's complaint may quote
		// a reason, which may quote an upstream.
		says = append(says, fmt.Sprintf("%s could not be stored in the last 10 minutes, last: %s", probesWord(l.Rejected), secret.Guess(l.Last)))
		if !l.LastAt.IsZero() {
			j.LastAt = rfc3339(l.LastAt)
		}
	}
	if l.Dropped > 0 {
		if j.Status == "ok" {
			j.Status = "dropped"
		}
		says = append(says, fmt.Sprintf("%s lost in the last 10 minutes", probesWord(l.Dropped)))
	}
	j.Message = strings.Join(says, "; ")
	return j
}

func probesWord(n int) string {
	if n == 1 {
		return "1 probe"
	}
	return fmt.Sprintf("%d probes", n)
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
		h.writeJSON(w, r, http.StatusServiceUnavailable, healthJSON{
			Status: "unavailable", Version: h.version, Reason: reason,
			Database: storageHealth(h.storage.Usage()), Probes: h.probesHealth(),
		})
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
	h.writeJSON(w, r, http.StatusOK, healthJSON{
		Status: "ok", Version: h.version, Notify: h.notifyHealth(ctx),
		Database: storageHealth(h.storage.Usage()), Probes: h.probesHealth(),
		Roster: h.rosterHealth(ctx), Maintenance: h.maint.healthOrNil(),
	})
}
