package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// DefaultPagerDutyEventsURL is the Events API v2 base; the EU region and
// tests set PAGERDUTY_EVENTS_URL instead.
const DefaultPagerDutyEventsURL = "https://events.pagerduty.com"

// PagerDuty opens an incident when a site turns notok and resolves it when
// the site is ok again, both keyed walnut/{slug} so that a retried event is
// merged, not duplicated.
type PagerDuty struct {
	routingKey string
	client     *pagerduty.Client
	// scrub hides the routing key (and, from SinksFromEnv, every sink's
	// credentials) in what PagerDuty answers.
	scrub *secret.Scrubber
}

// NewPagerDuty returns the sink; events go to eventsURL + /v2/enqueue.
func NewPagerDuty(routingKey, eventsURL string, hc *http.Client) *PagerDuty {
	if eventsURL == "" {
		eventsURL = DefaultPagerDutyEventsURL
	}
	c := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(strings.TrimSuffix(eventsURL, "/")))
	c.HTTPClient = retryAfterRecorder{hc}
	return &PagerDuty{routingKey: routingKey, client: c, scrub: secret.New(routingKey)}
}

// DedupKey is the PagerDuty dedup_key of a site.
func DedupKey(slug string) string { return "walnut/" + slug }

// Send sends trigger or resolve; a change to pending says nothing to PagerDuty.
func (p *PagerDuty) Send(ctx context.Context, n Notice) error {
	ev := &pagerduty.V2Event{
		RoutingKey: p.routingKey,
		DedupKey:   DedupKey(n.Slug),
		Client:     "Walnut",
		ClientURL:  n.Link,
	}
	switch {
	case n.Event == EventCertificate:
		return ErrSkip // Slack's news; cert_critical pages through the site turning notok
	case n.Event == EventFlapping, n.To == store.StateNotOK:
		ev.Action = "trigger"
	case n.To == store.StateOK:
		ev.Action = "resolve"
	default:
		return ErrSkip
	}
	if ev.Action == "trigger" {
		details := map[string]any{
			"site":   n.Slug,
			"url":    n.URL,
			"from":   n.From,
			"to":     n.To,
			"reason": n.Reason,
		}
		if n.Link != "" {
			details["link"] = n.Link
		}
		if n.HTTPStatus != 0 {
			details["http_status"] = n.HTTPStatus
		}
		if n.Latency > 0 {
			details["timings_ms"] = map[string]int64{
				"total": ms(n.Latency), "ttfb": ms(n.TTFB), "dns": ms(n.DNS), "connect": ms(n.Connect), "tls": ms(n.TLS),
			}
		}
		if n.Event == EventFlapping {
			details["changes"] = n.Changes
			details["window"] = n.Window.String()
		}
		ev.Payload = &pagerduty.V2Payload{
			Summary:   truncate(summary(n), 1024),
			Source:    source(n),
			Severity:  n.Severity,
			Timestamp: n.At.UTC().Format(time.RFC3339),
			Component: n.Slug,
			Class:     string(n.Event),
			Details:   details,
		}
		if n.Link != "" {
			ev.Links = []any{map[string]string{"href": n.Link, "text": n.Name + " on Walnut"}}
		}
	}

	rec := &retryAfterValue{}
	_, err := p.client.ManageEventWithContext(context.WithValue(ctx, retryAfterKey{}, rec), ev)
	if err == nil {
		return nil
	}
	var apiErr pagerduty.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Error()
		if m := rec.message(); m != "" {
			// The Events API's error body is not the REST API's, which
			// go-pagerduty parses; say what PagerDuty said.
			msg = fmt.Sprintf("HTTP %d: %s", apiErr.StatusCode, m)
		}
		// The error is logged and kept on the notification's row: an
		// endpoint that quotes the event back must not put the routing
		// key there.
		msg = p.scrub.Scrub(msg)
		err = fmt.Errorf("pagerduty %s: %s", ev.Action, msg)
		switch {
		case apiErr.RateLimited():
			return &RetryAfterError{Err: err, After: rec.get()}
		case apiErr.Temporary():
			return err
		case apiErr.StatusCode >= 400 && apiErr.StatusCode < 500:
			return &PermanentError{Err: err}
		}
		return err
	}
	// Transport errors (refused, timeout, DNS) are worth retrying.
	return fmt.Errorf("pagerduty %s: %w", ev.Action, err)
}

func source(n Notice) string {
	if n.URL != "" {
		return n.URL
	}
	return "walnut/" + n.Slug
}

// truncate cuts s to less than n bytes and marks the cut, at a rune's
// start: half a rune is not UTF-8, which the database refuses to store.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - 1
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// retryAfterRecorder keeps the Retry-After of a response for the caller,
// since go-pagerduty's APIError carries the status but not the headers.
type retryAfterRecorder struct{ hc *http.Client }

type retryAfterKey struct{}

type retryAfterValue struct {
	mu   sync.Mutex
	d    time.Duration
	body eventsError
}

// eventsError is the Events API v2's error body.
type eventsError struct {
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
}

func (v *retryAfterValue) message() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	msg := v.body.Message
	if len(v.body.Errors) > 0 {
		msg = strings.TrimPrefix(msg+": "+strings.Join(v.body.Errors, "; "), ": ")
	}
	return msg
}

func (v *retryAfterValue) get() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.d
}

func (r retryAfterRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.hc.Do(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	v, ok := req.Context().Value(retryAfterKey{}).(*retryAfterValue)
	if !ok {
		return resp, err
	}
	// Keep the error body for the message, and hand go-pagerduty a copy.
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	v.mu.Lock()
	defer v.mu.Unlock()
	_ = json.Unmarshal(b, &v.body) // best effort: the status alone still classifies
	if resp.StatusCode == http.StatusTooManyRequests {
		v.d = retryAfter(resp.Header.Get("Retry-After"))
	}
	return resp, nil
}
