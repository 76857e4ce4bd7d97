package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

func slackSign(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func TestSlackCommand(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(t.Context(), []store.SiteSpec{
		{Slug: "api", Name: "Checkout API", URL: "https://api.example.com/", Interval: time.Minute, Confirm: 1},
		{Slug: "docs", Name: "Docs", URL: "https://docs.example.com/", Interval: time.Minute, Confirm: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Minute)
	if _, err := st.WriteProbes(t.Context(), []store.Probe{
		{SiteID: ids["api"], At: at, State: store.StateNotOK, HTTPStatus: 502, Reason: "HTTP 502"},
		{SiteID: ids["docs"], At: at, State: store.StateOK, HTTPStatus: 200},
	}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{
		Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SlackSigningSecret: "shh",
	}))
	defer srv.Close()

	body := url.Values{"command": {"/walnut"}, "text": {""}, "user_name": {"ana"}}.Encode()
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	cases := map[string]struct {
		ts, sig string
		status  int
	}{
		"signed by slack":        {now, slackSign("shh", now, body), http.StatusOK},
		"bad signature":          {now, slackSign("guess", now, body), http.StatusUnauthorized},
		"no signature":           {now, "", http.StatusUnauthorized},
		"replayed an hour later": {stale, slackSign("shh", stale, body), http.StatusUnauthorized},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/slack/command", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Slack-Request-Timestamp", c.ts)
			req.Header.Set("X-Slack-Signature", c.sig)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.status != http.StatusOK {
				return
			}
			var reply struct {
				ResponseType string `json:"response_type"`
				Text         string `json:"text"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(reply.Text, "1 of 2 sites failing") || !strings.Contains(reply.Text, "*Checkout API*: HTTP 502") || strings.Contains(reply.Text, "Docs") {
				t.Errorf("reply = %q", reply.Text)
			}
		})
	}
}
