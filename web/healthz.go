package web

import (
	"context"
	"net/http"
	"time"
)

type healthJSON struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Notify is how each alert sink's deliveries are going.
	Notify []sinkHealthJSON `json:"notify,omitempty"`
}

// healthz answers 200 when the database answers, 503 with a reason if not.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.logger.WarnContext(ctx, "health check failed", "error", err)
		h.writeJSON(w, r, http.StatusServiceUnavailable, healthJSON{Status: "unavailable", Version: h.version, Reason: "database unreachable"})
		return
	}
	h.writeJSON(w, r, http.StatusOK, healthJSON{Status: "ok", Version: h.version, Notify: h.notifyHealth(ctx)})
}
