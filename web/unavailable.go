package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/views"
)

// unavailableRetry is how often a page that could not be read (other than
// the board, whose script retries with backoff) reloads itself.
const unavailableRetry = 15

// outage remembers since when pages have failed to read the database, for
// "database unreachable since 14:02" when the hub cannot say (there is
// none, or it has not noticed yet). A failure long after the previous one
// starts a new outage: nothing tells this tracker that the one before
// ended.
type outage struct {
	mu          sync.Mutex
	since, last time.Time
}

// outageGap is how long after the last failure a failure counts as a new
// outage: longer than a board's slowest retry.
const outageGap = 2 * time.Minute

func (o *outage) failed(now time.Time) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() || now.Sub(o.last) > outageGap {
		o.since = now
	}
	o.last = now
	return o.since
}

func (o *outage) ended() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.since = time.Time{}
}

// unavailable classifies an error that is the server's trouble, not the
// request's: the status to answer and a reason a person can act on, logged
// once here. ok is false when the browser went away and nothing is to be
// sent.
func (h *Handler) unavailable(r *http.Request, err error) (status int, reason string, ok bool) {
	ctx := r.Context()
	switch {
	case errors.Is(err, context.Canceled):
		return 0, "", false
	case errors.Is(err, context.DeadlineExceeded):
		// The request's QueryTimeout: a locked table or a saturated
		// database, not a bug here.
		h.logger.WarnContext(ctx, "database too slow to answer", "path", r.URL.Path, "error", err)
		return http.StatusServiceUnavailable, "database too slow to answer", true
	case store.Unavailable(err):
		h.logger.WarnContext(ctx, "database unreachable", "path", r.URL.Path, "error", err)
		return http.StatusServiceUnavailable, "database unreachable", true
	}
	h.logger.ErrorContext(ctx, "request failed", "path", r.URL.Path, "error", err)
	return http.StatusInternalServerError, "internal error", true
}

// troubleSince is since when the database has been out of reach: as the
// hub saw it, else as the pages did.
func (h *Handler) troubleSince(now time.Time) time.Time {
	since := h.outage.failed(now)
	if h.hub != nil {
		if lost := h.hub.LostSince(); !lost.IsZero() && lost.Before(since) {
			since = lost
		}
	}
	return since
}

// boardUnavailable answers a board that could not be read with the board's
// shell: the banner says what is wrong and since when, and the page's
// script retries until the board can be read, then reloads. A TV that
// reloads during an outage (the server restarted, or a deploy) thus comes
// back by itself, where a bare error would leave it dark until someone
// walks up to it.
func (h *Handler) boardUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	status, reason, ok := h.unavailable(r, err)
	if !ok {
		return
	}
	now := h.now()
	since := h.troubleSince(now)
	v := h.boardShell(r, now)
	v.Summary = views.SummaryView{Counts: map[string]int{}}
	v.Unavailable = reason
	v.UnavailableSince = rfc3339(since)
	v.UnavailableAt = since.UTC().Format("15:04") + " UTC"
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
	h.render(w, pastDeadline(r), status, views.BoardPage(v))
}

// renderUnavailable answers a page other than the board that could not be
// read for want of the database: what is wrong, since when, and a reload.
func (h *Handler) renderUnavailable(w http.ResponseWriter, r *http.Request, reason string) {
	since := h.troubleSince(h.now())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
	h.render(w, pastDeadline(r), http.StatusServiceUnavailable, views.UnavailablePage(views.UnavailableView{
		Title:   reason + " · " + h.title,
		Reason:  reason,
		Since:   rfc3339(since),
		SinceAt: since.UTC().Format("15:04") + " UTC",
		Retry:   unavailableRetry,
		CSSPath: h.assets.Path("walnut.css"),
	}))
}

// pastDeadline lets a page be rendered after the request's query deadline
// (timeout.go) has passed, which is often why it says the database is too
// slow: templ renders nothing in a context that has ended.
func pastDeadline(r *http.Request) *http.Request {
	return r.WithContext(context.WithoutCancel(r.Context()))
}
