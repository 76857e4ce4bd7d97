package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/walnut-board/walnut/store"
)

// seriesMaxBuckets bounds the buckets of one series answer.
const seriesMaxBuckets = 10000

// bucketJSON is one step of /api/v1/sites/{slug}/series. Seconds of each
// verdict, uptime as in the uptime object (null without ok or notok time),
// and timings in milliseconds of the probes that got a response (null
// without one). Percentiles come from log histograms: within ±19 %.
type bucketJSON struct {
	At           string   `json:"at"`
	OKSeconds    float64  `json:"ok_seconds"`
	NotOKSeconds float64  `json:"notok_seconds"`
	PendingSecs  float64  `json:"pending_seconds"`
	Uptime       *float64 `json:"uptime"`
	Probes       int      `json:"probes"`
	LatencyP50   *float64 `json:"latency_p50_ms"`
	LatencyP95   *float64 `json:"latency_p95_ms"`
	LatencyMax   *float64 `json:"latency_max_ms"`
	TTFBP50      *float64 `json:"ttfb_p50_ms"`
	TTFBP95      *float64 `json:"ttfb_p95_ms"`
	DNS          *float64 `json:"dns_ms"`
	Connect      *float64 `json:"connect_ms"`
	TLS          *float64 `json:"tls_ms"`
	Transfer     *float64 `json:"transfer_ms"`
}

type seriesJSON struct {
	Slug    string       `json:"slug"`
	From    string       `json:"from"`
	To      string       `json:"to"`
	StepMS  int64        `json:"step_ms"`
	Buckets []bucketJSON `json:"buckets"`
}

// parseSpan reads a step or range: a Go duration ("90m", "1h") or whole
// days ("7d").
func parseSpan(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%q is not a whole number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// autoStep is the step a range is drawn with when none is asked for: a few
// hundred points at most, on a resolution history keeps.
func autoStep(span time.Duration) time.Duration {
	switch {
	case span <= 6*time.Hour:
		return time.Minute
	case span <= 2*24*time.Hour:
		return 5 * time.Minute
	case span <= 8*24*time.Hour:
		return time.Hour
	case span <= 31*24*time.Hour:
		return 6 * time.Hour
	}
	return 24 * time.Hour
}

// seriesParams reads ?from=&to=&step=: RFC 3339 times (default the last 24
// hours until now) and a step of whole minutes (default from the range).
func seriesParams(r *http.Request, now time.Time) (from, to time.Time, step time.Duration, err error) {
	q := r.URL.Query()
	to = now
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, badRequest{msg: "to must be an RFC 3339 time, such as 2026-11-25T12:00:00Z"}
		}
	}
	from = to.Add(-24 * time.Hour)
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, badRequest{msg: "from must be an RFC 3339 time, such as 2026-11-24T12:00:00Z"}
		}
	}
	if !to.After(from) {
		return from, to, 0, badRequest{msg: "from must be before to"}
	}
	step = autoStep(to.Sub(from))
	if v := q.Get("step"); v != "" {
		step, err = parseSpan(v)
		if err != nil || step < time.Minute || step%time.Minute != 0 {
			return from, to, 0, badRequest{msg: "step must be a whole number of minutes, such as 5m, 1h or 1d"}
		}
	}
	if to.Sub(from)/step > seriesMaxBuckets {
		return from, to, 0, badRequest{msg: fmt.Sprintf("at most %d buckets: choose a larger step or a shorter range", seriesMaxBuckets)}
	}
	return from, to, step, nil
}

// wantsCSV is ?format=csv, or an Accept header that prefers text/csv.
func wantsCSV(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("format") {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, badRequest{msg: "format must be json or csv"}
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == "text/csv" {
			return true, nil
		}
		if err == nil && (mt == "application/json" || mt == "*/*") {
			return false, nil
		}
	}
	return false, nil
}

func msPtr(d time.Duration, ok bool) *float64 {
	if !ok {
		return nil
	}
	v := ms(d)
	return &v
}

func toBucketJSON(b store.Bucket) bucketJSON {
	timed := b.Timed > 0
	return bucketJSON{
		At: rfc3339(b.At), OKSeconds: b.OK.Seconds(), NotOKSeconds: b.NotOK.Seconds(),
		PendingSecs: b.Pending.Seconds(), Uptime: b.Ratio(), Probes: b.Probes,
		LatencyP50: msPtr(b.LatencyP50, timed), LatencyP95: msPtr(b.LatencyP95, timed),
		LatencyMax: msPtr(b.LatencyMax, timed),
		TTFBP50:    msPtr(b.TTFBP50, timed), TTFBP95: msPtr(b.TTFBP95, timed),
		DNS: msPtr(b.DNS, timed), Connect: msPtr(b.Connect, timed), TLS: msPtr(b.TLS, timed),
		Transfer: msPtr(b.Transfer(), timed),
	}
}

func (h *Handler) apiSeries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	asCSV, err := wantsCSV(r)
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	from, to, step, err := seriesParams(r, h.now())
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	s, ok := h.pathSite(w, r)
	if !ok {
		return
	}
	buckets, err := h.store.SiteSeries(ctx, s, from, to, step)
	if errors.Is(err, store.ErrSeriesTooLong) {
		err = badRequest{msg: "range too long for the step: choose a larger step or a shorter range"}
	}
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	out := make([]bucketJSON, len(buckets))
	for i, b := range buckets {
		out[i] = toBucketJSON(b)
	}
	if asCSV {
		h.writeSeriesCSV(w, r, s.Slug, out)
		return
	}
	h.writeJSON(w, r, http.StatusOK, seriesJSON{
		Slug: s.Slug, From: rfc3339(from), To: rfc3339(to), StepMS: step.Milliseconds(), Buckets: out,
	})
}

func (h *Handler) writeSeriesCSV(w http.ResponseWriter, r *http.Request, slug string, rows []bucketJSON) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", slug+"-series.csv"))
	cw := csv.NewWriter(w)
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return num(*v)
	}
	records := [][]string{{"at", "ok_seconds", "notok_seconds", "pending_seconds", "uptime", "probes",
		"latency_p50_ms", "latency_p95_ms", "latency_max_ms", "ttfb_p50_ms", "ttfb_p95_ms",
		"dns_ms", "connect_ms", "tls_ms", "transfer_ms"}}
	for _, b := range rows {
		records = append(records, []string{b.At, num(b.OKSeconds), num(b.NotOKSeconds), num(b.PendingSecs),
			opt(b.Uptime), strconv.Itoa(b.Probes), opt(b.LatencyP50), opt(b.LatencyP95), opt(b.LatencyMax),
			opt(b.TTFBP50), opt(b.TTFBP95), opt(b.DNS), opt(b.Connect), opt(b.TLS), opt(b.Transfer)})
	}
	if err := cw.WriteAll(records); err != nil && r.Context().Err() == nil {
		h.logger.ErrorContext(r.Context(), "write csv", "path", r.URL.Path, "error", err)
	}
}
