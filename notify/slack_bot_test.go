package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

const (
	slackTestToken   = "xoxb-1111-2222-s3cretTokenValue"
	slackTestChannel = "#alerts"
	slackChannelID   = "C0123ALERTS"
)

// fakeSlack answers chat.postMessage and chat.update like the Slack Web API:
// HTTP 200 with {"ok": true, "channel", "ts"} or {"ok": false, "error"},
// checking the bearer token and the channel, and remembering each message so
// that an update of a deleted one says message_not_found. A script per
// method gives the answers of the next calls: "" answers normally, "http:N"
// answers HTTP N, anything else is the error code of {"ok": false}.
type fakeSlack struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	script   map[string][]string
	seq      int
	messages map[string]*fakeSlackMessage // by ts; deleted ones removed
	calls    []fakeSlackCall
}

type fakeSlackMessage struct {
	ThreadTS string
	Msg      SlackMessage
}

// fakeSlackCall is one request and what the fake answered: OK, or the error
// code or HTTP status.
type fakeSlackCall struct {
	Method      string
	Auth        string
	ContentType string
	Body        slackCall
	OK          bool
	Answer      string
	TS          string // of the message posted or updated, when OK
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{t: t, script: map[string][]string{}, messages: map[string]*fakeSlackMessage{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if r.Method != http.MethodPost || (method != "chat.postMessage" && method != "chat.update") {
		http.NotFound(w, r)
		return
	}
	c := fakeSlackCall{Method: method, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
	if err := json.NewDecoder(r.Body).Decode(&c.Body); err != nil {
		f.t.Errorf("fake slack: bad JSON: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	answer := func(v map[string]any) {
		c.OK, _ = v["ok"].(bool)
		if !c.OK {
			c.Answer, _ = v["error"].(string)
		}
		f.calls = append(f.calls, c)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(v) //nolint:errcheck // the client sees a short body
	}
	fail := func(code string) { answer(map[string]any{"ok": false, "error": code}) }

	if q := f.script[method]; len(q) > 0 {
		next := q[0]
		f.script[method] = q[1:]
		if code, ok := strings.CutPrefix(next, "http:"); ok {
			status, _ := strconv.Atoi(code)
			c.Answer = "HTTP " + code
			f.calls = append(f.calls, c)
			w.Header().Set("Retry-After", "0")
			http.Error(w, "upstream trouble", status)
			return
		}
		if next != "" {
			fail(next)
			return
		}
	}
	switch {
	case c.Auth != "Bearer "+slackTestToken:
		fail("invalid_auth")
		return
	case !strings.HasPrefix(c.ContentType, "application/json"):
		fail("invalid_arguments")
		return
	}
	switch method {
	case "chat.postMessage":
		if c.Body.Channel != slackTestChannel && c.Body.Channel != slackChannelID {
			fail("channel_not_found")
			return
		}
		if c.Body.ThreadTS != "" && f.messages[c.Body.ThreadTS] == nil {
			fail("thread_not_found")
			return
		}
		f.seq++
		c.TS = fmt.Sprintf("1700000000.%06d", f.seq)
		f.messages[c.TS] = &fakeSlackMessage{ThreadTS: c.Body.ThreadTS, Msg: c.Body.SlackMessage}
		answer(map[string]any{"ok": true, "channel": slackChannelID, "ts": c.TS, "message": map[string]any{"text": c.Body.Text}})
	case "chat.update":
		if c.Body.Channel != slackChannelID { // an id, not a name
			fail("channel_not_found")
			return
		}
		m := f.messages[c.Body.TS]
		if m == nil {
			fail("message_not_found")
			return
		}
		m.Msg = c.Body.SlackMessage
		c.TS = c.Body.TS
		answer(map[string]any{"ok": true, "channel": slackChannelID, "ts": c.TS, "text": c.Body.Text})
	}
}

// then scripts the answers of a method's next calls.
func (f *fakeSlack) then(method string, answers ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[method] = append(f.script[method], answers...)
}

// remove deletes a message, as a person in the channel might.
func (f *fakeSlack) remove(ts string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.messages, ts)
}

func (f *fakeSlack) snapshot() []fakeSlackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// accepted lists the calls Slack accepted, as "post", "post in TS" and
// "update TS", in order.
func (f *fakeSlack) accepted() []string {
	var out []string
	for _, c := range f.snapshot() {
		switch {
		case !c.OK:
		case c.Method == "chat.update":
			out = append(out, "update "+c.TS)
		case c.Body.ThreadTS != "":
			out = append(out, "post in "+c.Body.ThreadTS)
		default:
			out = append(out, "post")
		}
	}
	return out
}

// acceptedTS is the ts of the i-th accepted call.
func (f *fakeSlack) acceptedTS(i int) string {
	var ok []fakeSlackCall
	for _, c := range f.snapshot() {
		if c.OK {
			ok = append(ok, c)
		}
	}
	if i >= len(ok) {
		f.t.Fatalf("only %d calls accepted", len(ok))
	}
	return ok[i].TS
}

// rendered is a message as one string: its text, colour and blocks.
func rendered(m SlackMessage) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(m) //nolint:errcheck // plain maps and strings
	return buf.String()
}

// message is the current content of a posted message.
func (f *fakeSlack) message(ts string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.messages[ts]
	if m == nil {
		f.t.Fatalf("no message %s", ts)
	}
	return rendered(m.Msg)
}

// checkAuth checks that every call carried the token as a bearer and JSON.
func (f *fakeSlack) checkAuth(t *testing.T) {
	t.Helper()
	for _, c := range f.snapshot() {
		if c.Auth != "Bearer "+slackTestToken || c.ContentType != "application/json; charset=utf-8" {
			t.Errorf("%s: Authorization %q, Content-Type %q", c.Method, c.Auth, c.ContentType)
		}
	}
}

// slackBundle is a database with sites routed to Slack, a fake Slack, and
// what the dispatchers and the sinks logged.
type slackBundle struct {
	*testBundle
	slack *fakeSlack
	logs  *storetest.Buffer
}

func setupSlack(t *testing.T, slugs ...string) *slackBundle {
	t.Helper()
	b := setup(t, slugs)
	routes := make([]store.NotifyRoute, len(slugs))
	for i, s := range slugs {
		routes[i] = store.NotifyRoute{Slug: s, Sinks: []string{SinkSlack}, Severity: "error"}
	}
	if err := b.st.NotifyRoutesSync(t.Context(), routes); err != nil {
		t.Fatal(err)
	}
	sb := &slackBundle{testBundle: b, slack: newFakeSlack(t), logs: &storetest.Buffer{}}
	t.Cleanup(func() {
		if strings.Contains(sb.logs.String(), slackTestToken) {
			t.Errorf("the logs show the bot token:\n%s", sb.logs)
		}
	})
	return sb
}

// bot returns a dispatcher, not started, whose slack sink is a bot with
// token on the fake. Flap damping is off: these tests change sites often.
func (b *slackBundle) bot(t *testing.T, token, clientID string, mutate ...func(*Options)) *Dispatcher {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sink := NewSlackBot(token, slackTestChannel, b.slack.URL+"/api", b.st, b.slack.Client(), logger)
	return b.dispatcher(t, func(o *Options) {
		o.Sinks = map[string]Sink{SinkSlack: sink}
		o.Logger = logger
		o.ClientID = clientID
		o.DefaultFlapping = Flapping{Off: true}
		for _, m := range mutate {
			m(o)
		}
	})
}

// threads lists the site's outages: "ts open" or "ts ended", oldest first.
func (b *slackBundle) threads(t *testing.T, slug string) []string {
	t.Helper()
	rows, err := b.pool.Query(t.Context(), `
		SELECT t.channel, t.ts, t.ended_at IS NOT NULL FROM slack_threads t JOIN sites s ON s.id = t.site_id
		 WHERE s.slug = $1 ORDER BY t.id`, slug)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var channel, ts string
		var ended bool
		if err := rows.Scan(&channel, &ts, &ended); err != nil {
			t.Fatal(err)
		}
		if channel != slackChannelID {
			t.Errorf("thread %s stored channel %q, want the id Slack answered", ts, channel)
		}
		state := "open"
		if ended {
			state = "ended"
		}
		out = append(out, ts+" "+state)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantCalls(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("Slack accepted:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func wantIn(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q: %s", what, sub, s)
		}
	}
}

func TestSlackBotThreadPerOutage(t *testing.T) {
	t.Parallel()
	b := setupSlack(t, "api")
	start(t, b.bot(t, slackTestToken, ""))

	b.probe(t, "api", store.StateOK, 200, "")                   // first verdict: news to nobody
	b.probe(t, "api", store.StatePending, 200, "build running") // outside an outage: a message of its own
	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503") // outage 1: a new message
	b.probe(t, "api", store.StatePending, 200, "deploying")
	b.probe(t, "api", store.StateOK, 200, "")                    // recovered: outage 1 ends
	b.probe(t, "api", store.StateNotOK, 0, "connection refused") // outage 2: another message
	h := b.waitIdle(t)

	p1, p2 := b.slack.acceptedTS(2), b.slack.acceptedTS(7)
	wantCalls(t, b.slack.accepted(), []string{
		"post", "post", // pending, ok: plain messages
		"post",                          // outage 1
		"update " + p1, "post in " + p1, // pending
		"update " + p1, "post in " + p1, // ok
		"post", // outage 2
	})
	if got, want := b.threads(t, "api"), []string{p1 + " ended", p2 + " open"}; !slices.Equal(got, want) {
		t.Errorf("threads = %v, want %v", got, want)
	}
	b.slack.checkAuth(t)

	calls := b.slack.snapshot()
	// The pending change within the outage: the parent says so, grey.
	wantIn(t, "the first update", rendered(calls[3].Body.SlackMessage),
		slackColors[store.StatePending], "API Site", "is down since", "now *pending*", "deploying", "https://walnut.example.com/sites/api")
	wantIn(t, "the pending reply", rendered(calls[4].Body.SlackMessage), "is *pending*", "deploying", "was down")
	// Recovered: a green parent and a reply with the outage's length (two
	// probes, a minute apart).
	wantIn(t, "outage 1", b.slack.message(p1), slackColors[store.StateOK], "was down for *2m*, recovered at", "HTTP 503")
	wantIn(t, "the recovery reply", b.slack.message(b.slack.acceptedTS(6)), "is *up*", "recovered after *2m* down")
	wantIn(t, "outage 2", b.slack.message(p2), slackColors[store.StateNotOK], "is *down*", "connection refused", "<https://walnut.example.com/sites/api|API Site>")
	wantIn(t, "the plain pending message", b.slack.message(b.slack.acceptedTS(0)), "is *pending*", "build running")
	if len(h) != 1 || h[0].Sink != SinkSlack || h[0].LastOutcome != "sent" {
		t.Errorf("health = %+v, want slack sent", h)
	}
}

func TestSlackBotRetriesPostOneParent(t *testing.T) {
	t.Parallel()
	b := setupSlack(t, "api")
	// The parent: a 500, then Slack unwell, then accepted. The pending
	// notice: the update fails once, then the reply.
	b.slack.then("chat.postMessage", "http:500", "internal_error", "", "service_unavailable")
	b.slack.then("chat.update", "http:502")
	start(t, b.bot(t, slackTestToken, ""))

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
	b.waitIdle(t)
	p1 := b.slack.acceptedTS(0)
	b.probe(t, "api", store.StatePending, 200, "deploying")
	h := b.waitIdle(t)

	// Each step Slack accepted is done once; the update, which changes
	// nothing when repeated, is repeated before the retried reply.
	wantCalls(t, b.slack.accepted(), []string{"post", "update " + p1, "update " + p1, "post in " + p1})
	if n := len(b.slack.snapshot()); n != 8 {
		t.Errorf("%d calls, want 8: 3 for the parent, 5 for the pending notice", n)
	}
	if got, want := b.threads(t, "api"), []string{p1 + " open"}; !slices.Equal(got, want) {
		t.Errorf("threads = %v, want %v", got, want)
	}
	if len(h) != 1 || h[0].LastOutcome != "sent" {
		t.Errorf("health = %+v, want slack sent", h)
	}
	var attempts int
	if err := b.pool.QueryRow(t.Context(), "SELECT sum(attempts)::int FROM notifications").Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 4 {
		t.Errorf("failed attempts recorded = %d, want 4", attempts)
	}
}

func TestSlackBotBadTokenIsReportedNotRetried(t *testing.T) {
	t.Parallel()
	b := setupSlack(t, "api")
	const wrong = "xoxb-9999-revoked-s3cretToo"
	start(t, b.bot(t, wrong, ""))

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
	b.probe(t, "api", store.StateOK, 200, "")
	h := b.waitIdle(t)

	calls := b.slack.snapshot()
	if len(calls) != 2 {
		t.Errorf("%d calls, want 2: one per notice, none retried", len(calls))
	}
	for _, c := range calls {
		if c.Answer != "invalid_auth" {
			t.Errorf("%s answered %q", c.Method, c.Answer)
		}
	}
	if len(h) != 1 || h[0].Sink != SinkSlack || h[0].LastOutcome != "failed" ||
		!strings.Contains(h[0].LastDetail, "slack chat.postMessage: invalid_auth (check SLACK_BOT_TOKEN)") {
		t.Errorf("health = %+v, want slack failed with invalid_auth", h)
	}
	if got := b.threads(t, "api"); len(got) != 0 {
		t.Errorf("threads = %v, want none", got)
	}
	// The token is in no error, log line or row.
	if strings.Contains(b.logs.String(), wrong) || !strings.Contains(b.logs.String(), "invalid_auth") {
		t.Errorf("logs should name the error, not the token:\n%s", b.logs)
	}
	var leaks int
	if err := b.pool.QueryRow(t.Context(),
		"SELECT count(*)::int FROM notifications WHERE detail LIKE '%' || $1 || '%'", wrong).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Errorf("%d notification rows show the token", leaks)
	}
}

func TestSlackBotDeletedParentStartsAFreshOne(t *testing.T) {
	t.Parallel()
	b := setupSlack(t, "api")
	start(t, b.bot(t, slackTestToken, ""))

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
	b.waitIdle(t)
	p1 := b.slack.acceptedTS(0)
	b.slack.remove(p1)

	b.probe(t, "api", store.StatePending, 200, "deploying")
	b.probe(t, "api", store.StateOK, 200, "")
	b.waitIdle(t)
	p2 := b.slack.acceptedTS(1)
	wantCalls(t, b.slack.accepted(), []string{
		"post",                  // outage
		"post", "post in " + p2, // the update found no message: a fresh one, and the reply in it
		"update " + p2, "post in " + p2, // recovered
	})
	if got, want := b.threads(t, "api"), []string{p2 + " ended"}; !slices.Equal(got, want) {
		t.Errorf("threads = %v, want %v", got, want)
	}
	wantIn(t, "the fresh message", b.slack.message(p2), "was down for *2m*")
	if !strings.Contains(b.logs.String(), "posted a fresh one") {
		t.Errorf("the logs do not say the message was replaced:\n%s", b.logs)
	}
}

func TestSlackBotThreadSurvivesRestart(t *testing.T) {
	t.Parallel()
	b := setupSlack(t, "api")
	first := b.bot(t, slackTestToken, "first")
	if err := first.Start(t.Context()); err != nil {
		t.Fatal(err)
	}

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
	b.waitIdle(t)
	stop(t, first)

	b.probe(t, "api", store.StatePending, 200, "deploying") // written while nothing works the queue
	start(t, b.bot(t, slackTestToken, "second"))
	b.probe(t, "api", store.StateOK, 200, "")
	b.waitIdle(t)

	p1 := b.slack.acceptedTS(0)
	wantCalls(t, b.slack.accepted(), []string{"post", "update " + p1, "post in " + p1, "update " + p1, "post in " + p1})
	if got, want := b.threads(t, "api"), []string{p1 + " ended"}; !slices.Equal(got, want) {
		t.Errorf("threads = %v, want %v", got, want)
	}
}

// memThreads is SlackThreads in memory, for tests of the sink alone.
type memThreads struct {
	mu   sync.Mutex
	rows map[string]store.SlackThread
}

func (m *memThreads) SlackThreadOpen(_ context.Context, slug string) (store.SlackThread, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.rows[slug]
	if !ok {
		return t, store.ErrNotFound
	}
	return t, nil
}

func (m *memThreads) SlackThreadStart(_ context.Context, slug string, t store.SlackThread) (store.SlackThread, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == nil {
		m.rows = map[string]store.SlackThread{}
	}
	t.ID = int64(len(m.rows) + 1)
	m.rows[slug] = t
	return t, nil
}

func (m *memThreads) SlackThreadMove(context.Context, int64, string, string) error { return nil }

func (m *memThreads) SlackThreadEnd(context.Context, int64, time.Time) error { return nil }

func TestSlackAPIErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		status    int
		body      string
		permanent bool
		after     time.Duration
	}{
		"accepted":                     {status: 200, body: `{"ok":true,"channel":"C1","ts":"1.2"}`},
		"bad token":                    {status: 200, body: `{"ok":false,"error":"invalid_auth"}`, permanent: true},
		"no token":                     {status: 200, body: `{"ok":false,"error":"not_authed"}`, permanent: true},
		"revoked token":                {status: 200, body: `{"ok":false,"error":"token_revoked"}`, permanent: true},
		"app removed":                  {status: 200, body: `{"ok":false,"error":"account_inactive"}`, permanent: true},
		"no such channel":              {status: 200, body: `{"ok":false,"error":"channel_not_found"}`, permanent: true},
		"bot not invited":              {status: 200, body: `{"ok":false,"error":"not_in_channel"}`, permanent: true},
		"archived channel":             {status: 200, body: `{"ok":false,"error":"is_archived"}`, permanent: true},
		"scope missing":                {status: 200, body: `{"ok":false,"error":"missing_scope","needed":"chat:write"}`, permanent: true},
		"bad arguments":                {status: 200, body: `{"ok":false,"error":"invalid_arguments","response_metadata":{"messages":["[ERROR] missing required field: channel"]}}`, permanent: true},
		"internal error is retried":    {status: 200, body: `{"ok":false,"error":"internal_error"}`},
		"fatal error is retried":       {status: 200, body: `{"ok":false,"error":"fatal_error"}`},
		"unavailable is retried":       {status: 200, body: `{"ok":false,"error":"service_unavailable"}`},
		"request timeout is retried":   {status: 200, body: `{"ok":false,"error":"request_timeout"}`},
		"ratelimited in the body":      {status: 200, body: `{"ok":false,"error":"ratelimited"}`, after: 3 * time.Second},
		"rate limited: HTTP 429":       {status: 429, body: ``, after: 3 * time.Second},
		"server error is retried":      {status: 500, body: `oops`},
		"bad gateway is retried":       {status: 502, body: `<html>bad gateway</html>`},
		"wrong SLACK_API_URL":          {status: 404, body: `not found`, permanent: true},
		"not the Web API's JSON":       {status: 200, body: `<html>hello</html>`, permanent: true},
		"an echo of the token, HTTP":   {status: 400, body: `Authorization: Bearer ` + slackTestToken, permanent: true},
		"an echo of the token, the ok": {status: 200, body: `{"ok":false,"error":"bad ` + slackTestToken + `"}`, permanent: true},
		// The error quotes 200 bytes of the answer: the token straddles
		// the cut, and half of it is still the secret.
		"an echo of the token, cut": {status: 400, body: strings.Repeat("x", 185) + slackTestToken, permanent: true},
		// Detail is kept in the database, which takes only UTF-8.
		"an answer in Latin-1":    {status: 400, body: "caf\xe9 ferm\xe9", permanent: true},
		"an answer cut in a rune": {status: 400, body: strings.Repeat("é", 300), permanent: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			bot := NewSlackBot(slackTestToken, slackTestChannel, srv.URL, &memThreads{}, srv.Client(), nil)
			err := bot.Send(t.Context(), testNotice)
			if c.status == 200 && strings.Contains(c.body, `"ok":true`) {
				if err != nil {
					t.Fatalf("accepted answer gave %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			var perm *PermanentError
			if errors.As(err, &perm) != c.permanent {
				t.Errorf("permanent = %v, want %v (%v)", !c.permanent, c.permanent, err)
			}
			var ra *RetryAfterError
			if c.after > 0 && (!errors.As(err, &ra) || ra.After != c.after) {
				t.Errorf("want retry after %s, got %v", c.after, err)
			}
			if strings.Contains(err.Error(), slackTestToken[:12]) || strings.Contains(err.Error(), srv.URL) {
				t.Errorf("the error shows the token or the URL: %v", err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Errorf("the error is not UTF-8: %q", err)
			}
			if !strings.HasPrefix(err.Error(), "slack chat.postMessage: ") {
				t.Errorf("error %q does not name the method", err)
			}
		})
	}
}

func TestSlackAPITransportErrorHidesTheToken(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // refused from now on
	err := NewSlackBot(slackTestToken, slackTestChannel, url, &memThreads{}, &http.Client{Timeout: 5 * time.Second}, nil).Send(t.Context(), testNotice)
	var perm *PermanentError
	if err == nil || errors.As(err, &perm) {
		t.Fatalf("a refused connection should be retried: %v", err)
	}
	if strings.Contains(err.Error(), slackTestToken) {
		t.Errorf("error shows the token: %v", err)
	}
}

func TestSinksFromEnvSlackModes(t *testing.T) {
	t.Parallel()
	st := store.New(nil) // the bot only keeps it
	cases := map[string]struct {
		env  map[string]string
		want string // the sink's type, "" for none
		log  string
	}{
		"webhook":                    {map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}, "*notify.Slack", ""},
		"bot":                        {map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "#alerts"}, "*notify.SlackBot", ""},
		"both: the bot":              {map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "#alerts", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}, "*notify.SlackBot", "both set"},
		"token, no channel, webhook": {map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}, "*notify.Slack", "without SLACK_CHANNEL"},
		"channel alone":              {map[string]string{"SLACK_CHANNEL": "#alerts"}, "", "without SLACK_BOT_TOKEN"},
		"nothing":                    {map[string]string{}, "", ""},
	}
	for name, c := range cases {
		var logs storetest.Buffer
		env := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		sinks := SinksFromEnv(env, nil, st, slog.New(slog.NewTextHandler(&logs, nil)))
		got := ""
		if s, ok := sinks[SinkSlack]; ok {
			got = fmt.Sprintf("%T", s)
		}
		if got != c.want {
			t.Errorf("%s: slack sink %q, want %q", name, got, c.want)
		}
		lines := strings.Count(logs.String(), "\n")
		if c.log == "" && lines != 0 || c.log != "" && (lines != 1 || !strings.Contains(logs.String(), c.log)) {
			t.Errorf("%s: logged %q, want one line saying %q", name, logs.String(), c.log)
		}
		if strings.Contains(logs.String(), "xoxb-1") {
			t.Errorf("%s: the log shows the token", name)
		}
	}
	bot, _ := SinksFromEnv(func(k string) (string, bool) {
		return map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "#alerts", "SLACK_API_URL": "http://127.0.0.1:9/api/"}[k], true
	}, nil, st, nil)[SinkSlack].(*SlackBot)
	if bot == nil || bot.api.base != "http://127.0.0.1:9/api" || bot.channel != "#alerts" {
		t.Errorf("SLACK_API_URL not taken: %+v", bot)
	}
	if def := NewSlackBot("t", "c", "", st, nil, nil); def.api.base != DefaultSlackAPIURL {
		t.Errorf("default API URL %q", def.api.base)
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Second:                    "0s",
		45 * time.Second:                "45s",
		12 * time.Minute:                "12m",
		12*time.Minute + 20*time.Second: "12m",
		3*time.Hour + 5*time.Minute:     "3h5m",
		2 * time.Hour:                   "2h",
		50 * time.Hour:                  "2d2h",
		72 * time.Hour:                  "3d",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestSlackBotFlappingAndSettledInTheThread(t *testing.T) {
	t.Parallel()
	b := setupSlack(t, "api")
	// Written before the dispatcher starts, so that one drain sees them all.
	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
	b.probe(t, "api", store.StatePending, 200, "deploying")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503") // the third change: flapping
	b.probe(t, "api", store.StateOK, 200, "")            // held
	later := b.clock.Add(time.Hour)                      // long settled by the dispatcher's clock
	start(t, b.bot(t, slackTestToken, "", func(o *Options) {
		o.DefaultFlapping = Flapping{Changes: 3, Within: 30 * time.Minute, Settle: 10 * time.Minute}
		o.Now = func() time.Time { return later }
	}))
	b.waitIdle(t)

	p1 := b.slack.acceptedTS(0)
	wantCalls(t, b.slack.accepted(), []string{
		"post",
		"update " + p1, "post in " + p1, // pending
		"update " + p1, "post in " + p1, // flapping
		"update " + p1, "post in " + p1, // settled: up
	})
	calls := b.slack.snapshot()
	wantIn(t, "the flapping update", rendered(calls[3].Body.SlackMessage), slackFlappingColor, "now *flapping*", "3 changes in 30m")
	wantIn(t, "the flapping reply", rendered(calls[4].Body.SlackMessage), "is flapping")
	wantIn(t, "the settled reply", rendered(calls[6].Body.SlackMessage), "has settled: *up*", "recovered after *3m* down")
	wantIn(t, "the message", b.slack.message(p1), slackColors[store.StateOK], "was down for *3m*")
	if got, want := b.threads(t, "api"), []string{p1 + " ended"}; !slices.Equal(got, want) {
		t.Errorf("threads = %v, want %v", got, want)
	}
}
