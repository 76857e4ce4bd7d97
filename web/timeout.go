package web

import (
	"context"
	"net/http"
	"time"
)

// defaultQueryTimeout bounds a request's database reads. A page or an API
// answer takes milliseconds; one that waits this long meets a database that
// is locked or saturated, and a 503 now beats a browser, a kiosk or a
// monitor waiting until it gives up (Heroku's router gives up at 30 s),
// each request holding one of the pool's few connections meanwhile.
const defaultQueryTimeout = 10 * time.Second

// bounded gives every request but the event stream a deadline: queries made
// with the request's context are canceled on the server when it passes, and
// fail answers 503 "database too slow to answer". /events lives for hours
// by design; /healthz sets a shorter deadline of its own.
func (h *Handler) bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.queryTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
