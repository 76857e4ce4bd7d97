// Package web serves the board, the site pages and the JSON API. Handlers
// read through the small store interface declared here and render views.
package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/walnut-board/walnut/assets"
	"github.com/walnut-board/walnut/store"
)

// Store is what the handlers need of the database; *store.Store has it.
type Store interface {
	SiteListActive(ctx context.Context) ([]store.Site, error)
	SiteGetBySlug(ctx context.Context, slug string) (store.Site, error)
	ProbeListBySite(ctx context.Context, site store.Site, limit int) ([]store.Probe, error)
	TransitionListBySite(ctx context.Context, siteID int32, limit int) ([]store.Transition, error)
	SiteUptime(ctx context.Context, site store.Site, from, to time.Time) (store.Uptime, error)
	SiteSeries(ctx context.Context, site store.Site, from, to time.Time, step time.Duration) ([]store.Bucket, error)
	SiteHistory(ctx context.Context, site store.Site, from, to time.Time) (*store.History, error)
	Ping(ctx context.Context) error
}

// Options configures the handler.
type Options struct {
	Store   Store
	Logger  *slog.Logger     // nil: logs nothing
	Title   string           // the board's heading; default "Walnut"
	Version string           // shown in /healthz
	Now     func() time.Time // default time.Now

	// Board: the live hub behind /events (nil: no live updates), the
	// support roster (nil: nobody on support) and WALNUT_KIOSK_TOKEN.
	Hub        *Hub
	Roster     Roster
	KioskToken string

	// Notify reports alert deliveries on /healthz; nil: not shown.
	Notify NotifyHealth
	// SlackSigningSecret enables POST /slack/command; "" turns it off.
	SlackSigningSecret string

	// Writer tells /healthz whether probes are being written; nil: not
	// checked. *store.Writer has it.
	Writer WriterHealth

	// Storage reports the database's size, against WALNUT_DB_BUDGET, on
	// /healthz and in the board's footer; nil: not shown.
	Storage *StorageWatch
	// Maintenance reports the maintenance passes on /healthz; nil: not
	// shown.
	Maintenance *MaintenanceWatch
	// Heartbeats takes POST /api/v1/heartbeat/{slug}; nil: every slug is
	// 404.
	Heartbeats HeartbeatReceiver

	// QueryTimeout bounds each request's database reads (see timeout.go);
	// default 10s.
	QueryTimeout time.Duration
}

// WriterHealth is what /healthz asks of the probe writer.
type WriterHealth interface {
	Buffered() int
	LastError() error
}

// Handler holds the dependencies of every route.
type Handler struct {
	store   Store
	writer  WriterHealth
	logger  *slog.Logger
	title   string
	version string
	now     func() time.Time
	assets  *assets.Server
	hub     *Hub
	roster  Roster
	kiosk   Kiosk
	notify  NotifyHealth
	storage *StorageWatch
	maint   *MaintenanceWatch
	// heartbeats takes heartbeat calls (heartbeat.go).
	heartbeats HeartbeatReceiver
	// slackSecret verifies slash commands (slack_command.go).
	slackSecret  []byte
	boot         string // this process, so that a board reloads after a restart
	queryTimeout time.Duration
	outage       outage // since when pages fail to read the database (unavailable.go)
}

// New returns the http.Handler for all of Walnut's routes.
func New(opts Options) http.Handler {
	h := &Handler{
		store:      opts.Store,
		writer:     opts.Writer,
		logger:     opts.Logger,
		title:      opts.Title,
		version:    opts.Version,
		now:        opts.Now,
		assets:     assets.New(),
		hub:        opts.Hub,
		roster:     opts.Roster,
		kiosk:      NewKiosk(opts.KioskToken),
		notify:     opts.Notify,
		storage:    opts.Storage,
		maint:      opts.Maintenance,
		heartbeats: opts.Heartbeats,
		boot:       strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	if opts.SlackSigningSecret != "" {
		h.slackSecret = []byte(opts.SlackSigningSecret)
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.title == "" {
		h.title = "Walnut"
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.queryTimeout = cmp.Or(opts.QueryTimeout, defaultQueryTimeout)
	return h.routes()
}

// render writes a templ component as a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil && r.Context().Err() == nil {
		h.logger.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "error", err)
	}
}

// renderString renders a component to a string: a fragment for the live
// board's streams.
func renderString(ctx context.Context, c templ.Component) (string, error) {
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	return buf.String(), nil
}

// writeJSON writes v as the JSON body.
func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if err := enc.Encode(v); err != nil && r.Context().Err() == nil {
		h.logger.ErrorContext(r.Context(), "write json", "path", r.URL.Path, "error", err)
	}
}

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

// fail maps an error to a response, in one place: unknown sites are 404, bad
// requests 400, a database out of reach 503, and anything else is logged and
// answered 500 without detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, api bool) {
	status, msg, ok := h.classify(r, err)
	switch {
	case !ok:
	case api:
		h.writeJSON(w, r, status, apiError{Error: msg})
	default:
		http.Error(w, msg, status)
	}
}

// failPage is fail for a page a person reads: a database out of reach gets
// a page that says so and tries again (unavailable.go).
func (h *Handler) failPage(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, ok := h.classify(r, err)
	switch {
	case !ok:
	case status == http.StatusServiceUnavailable:
		h.renderUnavailable(w, r, msg)
	default:
		http.Error(w, msg, status)
	}
}

// classify is the status and message for an error, logged when it is the
// server's trouble; ok is false when the browser went away.
func (h *Handler) classify(r *http.Request, err error) (status int, msg string, ok bool) {
	var bad badRequest
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "no such site", true
	case errors.As(err, &bad):
		return http.StatusBadRequest, bad.msg, true
	}
	return h.unavailable(r, err)
}

type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }
