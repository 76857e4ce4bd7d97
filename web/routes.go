package web

import "net/http"

func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.board)
	mux.HandleFunc("GET /events", h.events)
	mux.HandleFunc("GET /sites/{slug}", h.site)
	mux.HandleFunc("GET /api/v1/sites", h.apiSites)
	mux.HandleFunc("GET /api/v1/sites/{slug}", h.apiSite)
	mux.HandleFunc("GET /api/v1/sites/{slug}/probes", h.apiProbes)
	mux.HandleFunc("GET /api/v1/sites/{slug}/transitions", h.apiTransitions)
	mux.HandleFunc("GET /api/v1/sites/{slug}/series", h.apiSeries)
	mux.HandleFunc("GET /badge/{file}", h.badge)
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("POST /slack/command", h.slackCommand)
	mux.HandleFunc("POST /api/v1/heartbeat/{slug}", h.heartbeat)
	mux.Handle("GET /assets/", h.assets)
	return h.bounded(mux)
}
