package notify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// slackHook is an incoming webhook that passes on each message it gets.
func slackHook(t *testing.T) (*httptest.Server, <-chan SlackMessage) {
	t.Helper()
	got := make(chan SlackMessage, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m SlackMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("fake slack: %v", err)
		}
		got <- m
		w.Write([]byte("ok")) //nolint:errcheck // test server
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestCertificateWarningGoesToSlackOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"web"})
	ctx := t.Context()
	if err := b.st.NotifyRoutesSync(ctx, []store.NotifyRoute{{Slug: "web", Sinks: []string{SinkPagerDuty, SinkSlack}, Severity: "critical"}}); err != nil {
		t.Fatal(err)
	}
	hook, slack := slackHook(t)
	d := b.dispatcher(t, func(o *Options) {
		o.Sinks[SinkSlack] = NewSlack(hook.URL, hook.Client())
	})
	start(t, d)

	expires := time.Now().Add(5*24*time.Hour + time.Minute)
	cert := store.Cert{ExpiresAt: expires, Issuer: "Test CA", Subject: "web", Fingerprint: "f1", Verified: true}
	if err := b.st.SiteCertSave(ctx, b.ids["web"], cert, time.Now()); err != nil {
		t.Fatal(err)
	}
	// The checker asks at every threshold it sees crossed; a restart asks
	// again. Slack hears once.
	for range 2 {
		if _, err := b.st.SiteCertWarn(ctx, b.ids["web"], "f1", 7); err != nil {
			t.Fatal(err)
		}
	}
	var m SlackMessage
	select {
	case m = <-slack:
	case <-time.After(30 * time.Second):
		t.Fatal("no Slack message")
	}
	if m.Text != "WEB Site: certificate expires in 5 days" {
		t.Errorf("text = %q", m.Text)
	}
	blocks, _ := json.Marshal(m.Attachments)
	if !strings.Contains(string(blocks), `expires \u003c!date^`) || m.Attachments[0].Color != slackFlappingColor {
		t.Errorf("attachments = %s", blocks)
	}
	b.waitIdle(t)
	if reqs, _ := b.pd.snapshot(); len(reqs) != 0 {
		t.Errorf("PagerDuty heard of a certificate: %+v", reqs)
	}
	select {
	case m := <-slack:
		t.Errorf("a second Slack message: %q", m.Text)
	default:
	}
}

// The Slack bot posts a certificate warning as a message of its own, not in
// an outage's thread, and leaves the thread alone.
func TestSlackBotCertificateIsItsOwnMessage(t *testing.T) {
	t.Parallel()
	f := newFakeSlack(t)
	threads := &memThreads{}
	if _, err := threads.SlackThreadStart(t.Context(), "api", store.SlackThread{Channel: slackChannelID, TS: "1700000000.000001", DownSince: time.Now()}); err != nil {
		t.Fatal(err)
	}
	bot := NewSlackBot(slackTestToken, slackTestChannel, f.URL+"/api", threads, f.Client(), nil)
	n := Notice{Event: EventCertificate, Slug: "api", Name: "API", Reason: "certificate expires in 3 days", At: time.Now(), CertExpiresAt: time.Now().Add(72 * time.Hour), CertDays: 3}
	if err := bot.Send(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	calls := f.snapshot()
	if len(calls) != 1 || calls[0].Method != "chat.postMessage" || calls[0].Body.ThreadTS != "" || !calls[0].OK {
		t.Fatalf("calls = %+v, want one message outside any thread", calls)
	}
	if calls[0].Body.Text != "API: certificate expires in 3 days" {
		t.Errorf("text = %q", calls[0].Body.Text)
	}
	if th, _ := threads.SlackThreadOpen(t.Context(), "api"); th.TS != "1700000000.000001" {
		t.Errorf("the outage's thread changed: %+v", th)
	}
}
