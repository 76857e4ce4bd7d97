// Package notify tells people about transitions: PagerDuty, Slack and a
// webhook, one file per sink, behind the one-method Sink interface. The
// store writes a notification row per transition and sink in the
// transaction that records the transition, with a River job to wake the
// dispatcher; the dispatcher (dispatcher.go) delivers each site's notices
// to each sink in order, with retries and backoff, holding them while a site
// flaps or is in a maintenance window. The jobs, River and the SQL stay in
// store; notify decides what to send and to whom, and sends it.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// Sink names, as in the config's notify lists.
const (
	SinkPagerDuty = "pagerduty"
	SinkSlack     = "slack"
	SinkWebhook   = "webhook"
)

// Event is what a notice is about.
type Event string

const (
	// EventTransition is a site's confirmed change of state.
	EventTransition Event = "transition"
	// EventFlapping says a site changes too often; further notices are
	// held until it settles.
	EventFlapping Event = "flapping"
	// EventSettled gives a site's state once a hold (flapping, maintenance)
	// ends, when it differs from what the sink was last told.
	EventSettled Event = "settled"
	// EventCertificate says a site's certificate expires soon: once per
	// threshold crossed (cert_warning, then 14, 7, 3 and 1 days), to Slack
	// only. It is no change of state: From and To are empty.
	EventCertificate Event = "certificate"
)

// Notice is one message to a sink.
type Notice struct {
	Event    Event
	Slug     string
	Name     string
	URL      string // redacted: scheme, host and path
	Link     string // the site's page on the board; "" without WALNUT_URL
	Severity string
	From, To store.State
	Reason   string
	At       time.Time

	// The probe that began the change; zero for flapping and settled
	// notices that have none.
	HTTPStatus                       int
	Latency, TTFB, DNS, Connect, TLS time.Duration

	// Flapping: how many changes within what window.
	Changes int
	Window  time.Duration

	// Certificate: when it expires, and the threshold crossed in days.
	CertExpiresAt time.Time
	CertDays      int
}

// Sink delivers notices. Send returns nil when the notice was accepted,
// ErrSkip when the sink has nothing to say about it, a *PermanentError when
// retrying cannot help (a bad key, a bad URL), and any other error to be
// retried with backoff (a *RetryAfterError says when).
type Sink interface {
	Send(ctx context.Context, n Notice) error
}

// ErrSkip is returned by a sink that ignores a notice, such as PagerDuty for
// a site turning pending.
var ErrSkip = errors.New("nothing to send")

// PermanentError is a delivery that retrying will not fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// RetryAfterError is a delivery the receiver asked to retry later (429).
type RetryAfterError struct {
	Err   error
	After time.Duration // 0 when the receiver did not say
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// httpError classifies a non-2xx answer of a plain HTTP sink: 429 and 408
// and 5xx are retried, other 4xx are permanent.
func httpError(sink string, resp *http.Response, body string) error {
	err := fmt.Errorf("%s: HTTP %d: %s", sink, resp.StatusCode, strings.TrimSpace(body))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &RetryAfterError{Err: err, After: retryAfter(resp.Header.Get("Retry-After"))}
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return err
	default:
		return &PermanentError{Err: err}
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// ciRecipes page nobody unless the config says so: a red build is news for
// Slack, not a reason to wake someone.
var ciRecipes = []string{"circleci", "github-actions"}

// Site is what a site asks of alerting, as the config says it.
type Site struct {
	Slug     string
	Recipe   string   // its recipe's name: CI recipes page nobody by default
	Notify   []string // the sinks it names; nil: the default
	Severity string   // PagerDuty's
}

// Routes says who hears about each site: its notify list, or by default
// every configured sink (Slack only for CI recipes), less sinks that are not
// configured.
func Routes(sites []Site, configured []string) []store.NotifyRoute {
	out := make([]store.NotifyRoute, len(sites))
	for i, s := range sites {
		want := s.Notify
		if want == nil {
			want = configured
			if slices.Contains(ciRecipes, s.Recipe) {
				want = []string{SinkSlack}
			}
		}
		var sinks []string
		for _, w := range want {
			if slices.Contains(configured, w) && !slices.Contains(sinks, w) {
				sinks = append(sinks, w)
			}
		}
		out[i] = store.NotifyRoute{Slug: s.Slug, Sinks: sinks, Severity: s.Severity}
	}
	return out
}

// Env is how the sinks find their settings; os.LookupEnv in production.
type Env func(string) (string, bool)

func (e Env) get(k string) string {
	if e == nil {
		return ""
	}
	v, _ := e(k)
	return strings.TrimSpace(v)
}

// SinksFromEnv builds the sinks the environment configures:
// PAGERDUTY_ROUTING_KEY (and PAGERDUTY_EVENTS_URL); SLACK_BOT_TOKEN with
// SLACK_CHANNEL (and SLACK_API_URL), a thread per outage kept in st, or else
// SLACK_WEBHOOK_URL; WALNUT_WEBHOOK_URL (and WALNUT_WEBHOOK_SECRET). hc is
// the HTTP client they share; nil means one with a 10 s timeout. logger
// hears about settings that are ignored; nil discards.
func SinksFromEnv(env Env, hc *http.Client, st *store.Store, logger *slog.Logger) map[string]Sink {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sinks := map[string]Sink{}
	// Each sink hides every sink's credentials in what it reports, not only
	// its own: a receiver may echo anything it was ever sent.
	creds := Credentials(env)
	if key := env.get("PAGERDUTY_ROUTING_KEY"); key != "" {
		pd := NewPagerDuty(key, env.get("PAGERDUTY_EVENTS_URL"), hc)
		pd.scrub = creds
		sinks[SinkPagerDuty] = pd
	}
	switch s := slackFromEnv(env, hc, st, logger).(type) {
	case *Slack:
		s.scrub = creds
		sinks[SinkSlack] = s
	case *SlackBot:
		s.api.scrub = creds
		sinks[SinkSlack] = s
	}
	if u := env.get("WALNUT_WEBHOOK_URL"); u != "" {
		w := NewWebhook(u, env.get("WALNUT_WEBHOOK_SECRET"), hc)
		w.scrub = creds
		sinks[SinkWebhook] = w
	}
	return sinks
}

// Credentials are what the environment gives Walnut to reach its alert
// sinks and PagerDuty's API: PAGERDUTY_ROUTING_KEY, PAGERDUTY_API_TOKEN,
// SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_WEBHOOK_URL,
// WALNUT_WEBHOOK_URL and WALNUT_WEBHOOK_SECRET. Whatever the sinks and the
// checker report passes through it, so that none of them shows.
func Credentials(env Env) *secret.Scrubber {
	s := &secret.Scrubber{}
	for _, k := range []string{"PAGERDUTY_ROUTING_KEY", "PAGERDUTY_API_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "WALNUT_WEBHOOK_SECRET"} {
		s.Add(env.get(k))
	}
	for _, k := range []string{"SLACK_WEBHOOK_URL", "WALNUT_WEBHOOK_URL"} {
		s.Merge(urlCredentials(env.get(k)))
	}
	return s
}

// urlCredentials hides a URL that is itself a credential, as a Slack
// webhook's is: whole, its path (where Slack keeps the secret), and its
// user, password and query values.
func urlCredentials(raw string) *secret.Scrubber {
	s := &secret.Scrubber{}
	if raw == "" {
		return s
	}
	s.Add(raw)
	s.AddURL(raw)
	if u, err := url.Parse(raw); err == nil && strings.Trim(u.Path, "/") != "" {
		s.Add(u.Path, u.EscapedPath())
	}
	return s
}

// slackFromEnv is the bot when SLACK_BOT_TOKEN and SLACK_CHANNEL are set
// (even with SLACK_WEBHOOK_URL), else the webhook, else nil.
func slackFromEnv(env Env, hc *http.Client, st *store.Store, logger *slog.Logger) Sink {
	token, channel, hook := env.get("SLACK_BOT_TOKEN"), env.get("SLACK_CHANNEL"), env.get("SLACK_WEBHOOK_URL")
	bot := token != "" && channel != "" && st != nil
	switch {
	case bot && hook != "":
		logger.Warn("SLACK_BOT_TOKEN and SLACK_WEBHOOK_URL are both set: Slack hears from the bot (a thread per outage in SLACK_CHANNEL), not the webhook")
	case token != "" && channel == "":
		logger.Warn("SLACK_BOT_TOKEN is set without SLACK_CHANNEL: the Slack bot is off")
	case token == "" && channel != "":
		logger.Warn("SLACK_CHANNEL is set without SLACK_BOT_TOKEN: the Slack bot is off")
	}
	switch {
	case bot:
		return NewSlackBot(token, channel, env.get("SLACK_API_URL"), st, hc, logger)
	case hook != "":
		return NewSlack(hook, hc)
	}
	return nil
}

// Names returns the sinks' names, sorted.
func Names(sinks map[string]Sink) []string {
	names := make([]string, 0, len(sinks))
	for n := range sinks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// summary is the one line a person reads first.
func summary(n Notice) string {
	switch n.Event {
	case EventCertificate:
		return n.Name + ": " + n.Reason
	case EventFlapping:
		return n.Name + " is flapping: " + flapNote(n)
	case EventSettled:
		return fmt.Sprintf("%s has settled: %s%s", n.Name, n.To.Word(), reasonSuffix(n.Reason))
	}
	return fmt.Sprintf("%s is %s%s", n.Name, n.To.Word(), reasonSuffix(n.Reason))
}

// flapNote says why a flapping notice is the last for a while; every sink
// says it in these words.
func flapNote(n Notice) string {
	return fmt.Sprintf("%d changes in %s; notices are held until it settles", n.Changes, humanDuration(n.Window))
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
