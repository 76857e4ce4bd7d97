package notify

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

var testNotice = Notice{
	Event: EventTransition, Slug: "api", Name: "API", URL: "https://api.example.com/health",
	Link: "https://walnut.example.com/sites/api", Severity: "critical",
	From: store.StateOK, To: store.StateNotOK, Reason: "HTTP 503", At: time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC),
	HTTPStatus: 503,
}

func TestWebhookSignsItsJSON(t *testing.T) {
	t.Parallel()
	var body []byte
	var sig string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		sig = r.Header.Get(SignatureHeader)
	}))
	defer srv.Close()

	if err := NewWebhook(srv.URL, "s3cret", srv.Client()).Send(t.Context(), testNotice); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"slug": "api", "name": "API", "from": "ok", "to": "notok", "reason": "HTTP 503",
		"at": "2026-11-25T22:00:00Z", "url": "https://walnut.example.com/sites/api", "event": "transition"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if sig != Sign([]byte("s3cret"), body) || !strings.HasPrefix(sig, "sha256=") {
		t.Errorf("signature %q does not match the body", sig)
	}
}

func TestHTTPSinkErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		status    int
		permanent bool
		after     time.Duration
	}{
		"server error is retried":          {status: 500},
		"rate limit says when":             {status: 429, after: 7 * time.Second},
		"gone webhook is permanent":        {status: 410, permanent: true},
		"bad payload is permanent":         {status: 400, permanent: true},
		"request timeout is retried":       {status: 408},
		"bad gateway is retried":           {status: 502},
		"not found (revoked) is permanent": {status: 404, permanent: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				http.Error(w, "no", c.status)
			}))
			defer srv.Close()
			for _, sink := range []Sink{NewSlack(srv.URL, srv.Client()), NewWebhook(srv.URL, "", srv.Client())} {
				err := sink.Send(t.Context(), testNotice)
				var perm *PermanentError
				if errors.As(err, &perm) != c.permanent {
					t.Errorf("%T: permanent = %v, want %v (%v)", sink, !c.permanent, c.permanent, err)
				}
				var ra *RetryAfterError
				if c.after > 0 && (!errors.As(err, &ra) || ra.After != c.after) {
					t.Errorf("%T: want retry after %s, got %v", sink, c.after, err)
				}
			}
		})
	}
}

func TestPagerDutyErrorHidesTheRoutingKey(t *testing.T) {
	t.Parallel()
	const key = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid","errors":["unknown routing_key `+key+`"]}`) //nolint:errcheck // a test fake
	}))
	defer srv.Close()
	err := NewPagerDuty(key, srv.URL, srv.Client()).Send(t.Context(), testNotice)
	var perm *PermanentError
	if !errors.As(err, &perm) {
		t.Fatalf("a refused key should not be retried: %v", err)
	}
	if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "unknown routing_key") {
		t.Errorf("error %q shows the routing key, or not what PagerDuty said", err)
	}
}

func TestSlackMessage(t *testing.T) {
	t.Parallel()
	var got SlackMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	n := testNotice
	n.Name = "API <prod>"
	if err := NewSlack(srv.URL, srv.Client()).Send(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].Color != slackColors[store.StateNotOK] {
		t.Fatalf("attachments = %+v", got.Attachments)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(got.Attachments[0].Blocks); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"<https://walnut.example.com/sites/api|API &lt;prod&gt;>", "is *down*", "HTTP 503", "was up"} {
		if !strings.Contains(s, want) {
			t.Errorf("blocks lack %q: %s", want, s)
		}
	}
	if !strings.Contains(got.Text, "API <prod> is down") {
		t.Errorf("fallback text = %q", got.Text)
	}
}

func TestRoutesDefaults(t *testing.T) {
	t.Parallel()
	all := []string{SinkPagerDuty, SinkSlack, SinkWebhook}
	sites := []Site{
		{Slug: "api", Recipe: "status", Severity: "critical"},
		{Slug: "build", Recipe: "circleci", Severity: "critical"},
		{Slug: "gha", Recipe: "github-actions", Severity: "critical"},
		{Slug: "paged-build", Recipe: "circleci", Notify: []string{"pagerduty"}, Severity: "critical"},
		{Slug: "quiet", Notify: []string{}, Severity: "critical"},
		{Slug: "wants-webhook", Notify: []string{"webhook", "slack"}, Severity: "warning"},
	}
	cases := map[string]struct {
		configured []string
		want       map[string][]string
	}{
		"everything configured": {all, map[string][]string{
			"api": all, "build": {SinkSlack}, "gha": {SinkSlack}, "paged-build": {SinkPagerDuty},
			"quiet": nil, "wants-webhook": {SinkWebhook, SinkSlack},
		}},
		"only pagerduty configured": {[]string{SinkPagerDuty}, map[string][]string{
			"api": {SinkPagerDuty}, "build": nil, "gha": nil, "paged-build": {SinkPagerDuty},
			"quiet": nil, "wants-webhook": nil,
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, r := range Routes(sites, c.configured) {
				if !slices.Equal(r.Sinks, c.want[r.Slug]) {
					t.Errorf("%s: sinks %v, want %v", r.Slug, r.Sinks, c.want[r.Slug])
				}
				wantSev := "critical"
				if r.Slug == "wants-webhook" {
					wantSev = "warning"
				}
				if r.Severity != wantSev {
					t.Errorf("%s: severity %q", r.Slug, r.Severity)
				}
			}
		})
	}
}

// TestSinksHideEveryCredential: a receiver that echoes every credential
// Walnut holds (its own and the other sinks') gets none of them into the
// error that is logged, stored and shown on /healthz.
func TestSinksHideEveryCredential(t *testing.T) {
	t.Parallel()
	var creds []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		echo := strings.Join(append(slices.Clone(creds), r.URL.String(), r.Header.Get("Authorization")), " ")
		json.NewEncoder(w).Encode(map[string]any{"message": echo, "errors": []string{echo}}) //nolint:errcheck // a test fake
	}))
	defer srv.Close()
	env := map[string]string{
		"PAGERDUTY_ROUTING_KEY": "pd-routing-key-0001",
		"PAGERDUTY_EVENTS_URL":  srv.URL,
		"PAGERDUTY_API_TOKEN":   "pd-api-token-0002",
		"SLACK_WEBHOOK_URL":     srv.URL + "/services/T0/B0/slack-path-0003",
		"SLACK_SIGNING_SECRET":  "slack-signing-0004",
		"WALNUT_WEBHOOK_URL":    srv.URL + "/hook?sig=hook-query-0005&k=7",
		"WALNUT_WEBHOOK_SECRET": "hook-secret-0006",
	}
	creds = []string{"pd-routing-key-0001", "pd-api-token-0002", "/services/T0/B0/slack-path-0003", "slack-signing-0004", "hook-query-0005", "k=7", "hook-secret-0006"}
	sinks := SinksFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, srv.Client(), nil, nil)
	if len(sinks) != 3 {
		t.Fatalf("sinks %v, want pagerduty, slack and webhook", Names(sinks))
	}
	for name, sink := range sinks {
		err := sink.Send(t.Context(), testNotice)
		if err == nil {
			t.Fatalf("%s: a 400 was taken for delivered", name)
		}
		for _, c := range append(creds, "slack-path-0003") {
			if strings.Contains(err.Error(), c) {
				t.Errorf("%s: error %q shows %q", name, err, c)
			}
		}
		if !strings.Contains(err.Error(), "***") {
			t.Errorf("%s: error %q does not say what was hidden", name, err)
		}
	}
}
