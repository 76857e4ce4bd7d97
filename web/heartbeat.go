package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/walnut-board/walnut/store"
)

// HeartbeatReceiver takes the calls of heartbeat sites; cmd/walnut adapts
// checker.Heartbeats to it. Authorize and Receive return
// ErrHeartbeatUnknown or ErrHeartbeatToken (or wrap them) for the answers
// they name; any other error of Receive is a bad report.
type HeartbeatReceiver interface {
	// Authorize checks the token before the body is read: a caller
	// without it learns nothing of what a good body looks like.
	Authorize(slug, token string) error
	Receive(ctx context.Context, slug, token string, hb Heartbeat) (merged bool, err error)
}

// Heartbeat is what a job says when it calls in; the zero value is "ok".
type Heartbeat struct {
	State    store.State
	Reason   string
	Duration time.Duration
}

var (
	// ErrHeartbeatUnknown answers 404: no heartbeat site has the slug.
	ErrHeartbeatUnknown = errors.New("no heartbeat site with this slug")
	// ErrHeartbeatToken answers 401: the token is missing or wrong.
	ErrHeartbeatToken = errors.New("wrong or missing token")
)

// heartbeatBodyLimit bounds a call's body: a state, a reason (cut to a
// line on the board anyway) and a number.
const heartbeatBodyLimit = 8 << 10

// heartbeatJSON is the optional body of a call.
type heartbeatJSON struct {
	State      *string `json:"state"`
	Reason     *string `json:"reason"`
	DurationMS *int64  `json:"duration_ms"`
}

// heartbeatAnswer is the body of a 202.
type heartbeatAnswer struct {
	State  string `json:"state"`
	Merged bool   `json:"merged"`
}

// heartbeat serves POST /api/v1/heartbeat/{slug}. It is open without the
// board's password (see openPath): the site's token, from
// "Authorization: Bearer" or ?token=, is what lets a call in. A call is
// answered 202 once its probe is handed to the writer, or merged into the
// next one when it comes within a second of a stored one.
func (h *Handler) heartbeat(w http.ResponseWriter, r *http.Request) {
	if h.heartbeats == nil {
		h.writeJSON(w, r, http.StatusNotFound, apiError{Error: ErrHeartbeatUnknown.Error()})
		return
	}
	slug := r.PathValue("slug")
	token := bearerToken(r)
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	if err := h.heartbeats.Authorize(slug, token); err != nil {
		h.heartbeatRefused(w, r, err)
		return
	}
	hb, err := readHeartbeat(w, r)
	if err != nil {
		h.writeJSON(w, r, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	// Receive checks the token again: a reload may have changed it since.
	merged, err := h.heartbeats.Receive(r.Context(), slug, token, hb)
	if err != nil {
		h.heartbeatRefused(w, r, err)
		return
	}
	state, _ := store.ReportedState(string(hb.State)) // checked as the body was read
	h.writeJSON(w, r, http.StatusAccepted, heartbeatAnswer{State: string(state), Merged: merged})
}

// heartbeatRefused answers a call Authorize or Receive refused.
func (h *Handler) heartbeatRefused(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrHeartbeatUnknown):
		h.writeJSON(w, r, http.StatusNotFound, apiError{Error: ErrHeartbeatUnknown.Error()})
	case errors.Is(err, ErrHeartbeatToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="Walnut heartbeat"`)
		h.writeJSON(w, r, http.StatusUnauthorized, apiError{Error: "wrong or missing token: send Authorization: Bearer TOKEN, or ?token=TOKEN"})
	default:
		h.writeJSON(w, r, http.StatusBadRequest, apiError{Error: err.Error()})
	}
}

// bearerToken is the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// readHeartbeat reads a call's optional JSON body. An empty body is "ok":
// curl -X POST sends none, and curl with an empty -d sends an empty form
// body (no Content-Type of JSON), which is taken the same way.
func readHeartbeat(w http.ResponseWriter, r *http.Request) (Heartbeat, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, heartbeatBodyLimit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Heartbeat{}, fmt.Errorf("the body is over %d bytes: send {\"state\", \"reason\", \"duration_ms\"} only", heartbeatBodyLimit)
		}
		return Heartbeat{}, fmt.Errorf("read the body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Heartbeat{}, nil
	}
	var in heartbeatJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Heartbeat{}, fmt.Errorf(`the body is not a JSON object like {"state": "ok", "reason": "...", "duration_ms": 1200}: %s`, jsonProblem(err))
	}
	if dec.More() {
		return Heartbeat{}, errors.New("the body holds more than one JSON value")
	}
	var hb Heartbeat
	if in.State != nil {
		if hb.State, err = store.ReportedState(*in.State); err != nil {
			return Heartbeat{}, err
		}
	}
	if in.Reason != nil {
		hb.Reason = *in.Reason
	}
	if in.DurationMS != nil {
		if *in.DurationMS < 0 || *in.DurationMS > int64(24*time.Hour/time.Millisecond) {
			return Heartbeat{}, fmt.Errorf("duration_ms %d is not between 0 and a day", *in.DurationMS)
		}
		hb.Duration = time.Duration(*in.DurationMS) * time.Millisecond
	}
	return hb, nil
}

// jsonProblem says what is wrong with a body without quoting it back.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be a %s", typ.Field, typ.Type.Kind())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too soon"
	}
	return "it does not decode"
}
