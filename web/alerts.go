package web

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/views"
)

// alertsEvery is how often the hub reads the sinks' health for the board's
// footer by default: the query is cheap, but the TVs need no fresher word.
const alertsEvery = 5 * time.Second

// readAlerts is the board's footer: the sinks /healthz calls failing or
// delayed, from the same computation, and the database when /healthz says
// it is near or over its budget.
func readAlerts(ctx context.Context, n NotifyHealth, storage *StorageWatch, now time.Time) ([]views.AlertView, error) {
	var alerts []views.AlertView
	if a := storageAlert(storage.Usage()); a != nil {
		alerts = append(alerts, *a)
	}
	sinks, err := readSinkHealth(ctx, n, now)
	if err != nil {
		return alerts, err
	}
	return append(alertViews(sinks, now), alerts...), nil
}

// alertViews turns the sinks in trouble into footer lines, failing ones
// first: they need a person, delayed ones may clear by themselves.
func alertViews(sinks []sinkHealthJSON, now time.Time) []views.AlertView {
	var failing, delayed []views.AlertView
	for _, s := range sinks {
		a := views.AlertView{Sink: s.Sink, Name: sinkName(s.Sink), Status: s.Status, Pending: s.Pending}
		switch s.Status {
		case sinkFailing:
			a.At, a.AtText = alertTime(s.LastAt, now)
			a.Detail = scrubDetail(s.Sink, s.Error)
			a.Effect = sinkEffect(s.Sink, true)
			failing = append(failing, a)
		case sinkDelayed:
			a.At, a.AtText = alertTime(s.OldestPending, now)
			a.Effect = sinkEffect(s.Sink, false)
			delayed = append(delayed, a)
		}
	}
	return append(failing, delayed...)
}

func sinkName(sink string) string {
	switch sink {
	case "pagerduty":
		return "PagerDuty"
	case "slack":
		return "Slack"
	case "webhook":
		return "Webhook"
	}
	if sink == "" {
		return "Some"
	}
	r, size := utf8.DecodeRuneInString(sink)
	return strings.ToUpper(string(r)) + sink[size:]
}

// sinkEffect says what a sink in trouble means for the people it serves.
func sinkEffect(sink string, failing bool) string {
	switch {
	case sink == "pagerduty" && failing:
		return "on-call will not be paged"
	case sink == "pagerduty":
		return "pages are late"
	case sink == "slack" && failing:
		return "Slack will not hear of changes"
	case sink == "webhook" && failing:
		return "the webhook is not told of changes"
	case failing:
		return "alerts are not getting through"
	}
	return "retrying"
}

// alertTime is t for the page: RFC 3339 for the script, and the server's
// own reading of it, with the day when it is not today's.
func alertTime(t *time.Time, now time.Time) (string, string) {
	if t == nil {
		return "", ""
	}
	u, n := t.UTC(), now.UTC()
	text := u.Format("15:04") + " UTC"
	if u.YearDay() != n.YearDay() || u.Year() != n.Year() {
		text = u.Format("Mon 2 Jan 15:04") + " UTC"
	}
	return rfc3339(u), text
}

// detailMax is how much of a sink's answer the footer shows: a line on a
// TV, not a log.
const detailMax = 160

var spaces = regexp.MustCompile(`\s+`)

// scrubDetail makes what a sink answered fit for a TV in an office: scrubbed
// of secrets, without the "pagerduty trigger: " the footer already says,
// whitespace folded, and cut to a line. The sinks take out the credentials
// they know, but a receiver may echo what it was sent, so secret.Guess also
// hides URLs past their host, tokens and long key-like words; /healthz,
// which needs no password, uses it too and shows no more than the board.
func scrubDetail(sink, detail string) string {
	d := spaces.ReplaceAllString(strings.TrimSpace(detail), " ")
	if rest, ok := strings.CutPrefix(d, sink); ok {
		head, tail, found := strings.Cut(rest, ": ")
		if found && (head == "" || strings.HasPrefix(head, " ") && !strings.Contains(head[1:], " ")) {
			d = tail
		}
	}
	d = secret.Guess(d)
	if utf8.RuneCountInString(d) > detailMax {
		r := []rune(d)
		d = strings.TrimSpace(string(r[:detailMax-1])) + "…"
	}
	return d
}

// watchAlerts reads the sinks' health every AlertsEvery and sends the
// board's footer to every stream when it changes. It runs beside the board's
// refresh, not in it: alert deliveries announce nothing on LISTEN, and a
// burst of probes must not mean a burst of health reads.
func (h *Hub) watchAlerts(ctx context.Context) {
	every := h.opts.AlertsEvery
	if every <= 0 {
		every = alertsEvery
	}
	runEvery(ctx, every, h.opts.Logger, "live board: read alert health", func(ctx context.Context) error {
		return h.refreshAlerts(ctx, every)
	})
}

func (h *Hub) refreshAlerts(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	alerts, err := readAlerts(ctx, h.opts.Notify, h.opts.Storage, h.opts.Now())
	if err != nil {
		return err
	}
	html, err := renderString(ctx, views.Alerts(alerts))
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if html == h.alerts {
		return nil
	}
	h.alerts = html
	h.broadcastLocked(sseEvent{"swap", html})
	return nil
}
