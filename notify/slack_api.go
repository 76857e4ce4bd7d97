package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/walnut-board/walnut/secret"
)

// slackAPI calls the two Slack Web API methods the bot needs. Slack answers
// HTTP 200 with {"ok": true, ...} or {"ok": false, "error": "code"}, 429
// with Retry-After when rate limited, and 5xx when unwell.
type slackAPI struct {
	base  string // such as https://slack.com/api
	token string
	hc    *http.Client
	// scrub hides the token (and, from SinksFromEnv, every sink's
	// credentials) in what came from elsewhere (an answer body, a
	// transport error), in case something echoed it.
	scrub *secret.Scrubber
}

// slackCall is the JSON body of chat.postMessage and chat.update.
type slackCall struct {
	Channel  string `json:"channel"`
	TS       string `json:"ts,omitempty"`        // chat.update: the message to change
	ThreadTS string `json:"thread_ts,omitempty"` // chat.postMessage: a reply
	SlackMessage
	UnfurlLinks *bool `json:"unfurl_links,omitempty"`
	UnfurlMedia *bool `json:"unfurl_media,omitempty"`
}

// slackAnswer is what the Web API answers.
type slackAnswer struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
	Metadata struct {
		Messages []string `json:"messages"`
	} `json:"response_metadata"`
}

// SlackAPIError is a Web API answer {"ok": false, "error": Code}.
type SlackAPIError struct {
	Method string // chat.postMessage, chat.update
	Code   string // channel_not_found, invalid_auth, ...
	Detail string // Slack's response_metadata messages, if any
}

func (e *SlackAPIError) Error() string {
	msg := "slack " + e.Method + ": " + e.Code
	if hint := slackHints[e.Code]; hint != "" {
		msg += " (" + hint + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// slackHints say what to do about the errors a setup gets wrong.
var slackHints = map[string]string{
	"invalid_auth":      "check SLACK_BOT_TOKEN",
	"not_authed":        "check SLACK_BOT_TOKEN",
	"token_revoked":     "SLACK_BOT_TOKEN was revoked",
	"token_expired":     "SLACK_BOT_TOKEN has expired",
	"account_inactive":  "the bot's app was removed",
	"channel_not_found": "check SLACK_CHANNEL, and invite the bot to a private channel",
	"not_in_channel":    "invite the bot to SLACK_CHANNEL",
	"is_archived":       "SLACK_CHANNEL is archived",
	"missing_scope":     "the bot needs the chat:write scope",
}

// slackRetried are the error codes that a later attempt may get past; any
// other is permanent.
var slackRetried = []string{"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited", "rate_limited"}

// post calls chat.postMessage; threadTS "" posts to the channel, else a
// reply in that message's thread.
func (a *slackAPI) post(ctx context.Context, channel, threadTS string, m SlackMessage) (slackAnswer, error) {
	no := false
	return a.call(ctx, "chat.postMessage", slackCall{Channel: channel, ThreadTS: threadTS, SlackMessage: m, UnfurlLinks: &no, UnfurlMedia: &no})
}

// update calls chat.update, replacing a message's text and attachments.
func (a *slackAPI) update(ctx context.Context, channel, ts string, m SlackMessage) error {
	_, err := a.call(ctx, "chat.update", slackCall{Channel: channel, TS: ts, SlackMessage: m})
	return err
}

// call posts body to a method and classifies the answer: nil, a
// *RetryAfterError (429, ratelimited), a *PermanentError (a bad token or
// channel, a request Slack refuses) or another error to retry (network,
// 5xx, internal_error). No error says the token.
func (a *slackAPI) call(ctx context.Context, method string, body slackCall) (slackAnswer, error) {
	auth := func(_ []byte, h http.Header) { h.Set("Authorization", "Bearer "+a.token) }
	raw, header, err := postJSON(ctx, a.hc, "slack "+method, a.base+"/"+method, body, auth, a.scrub)
	if err != nil {
		return slackAnswer{}, err
	}
	var ans slackAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return slackAnswer{}, &PermanentError{Err: fmt.Errorf("slack %s: the answer is not the Web API's JSON (is SLACK_API_URL right?)", method)}
	}
	if ans.OK {
		return ans, nil
	}
	ae := &SlackAPIError{Method: method, Code: a.scrub.Scrub(ans.Error), Detail: truncate(a.scrub.Scrub(strings.Join(ans.Metadata.Messages, "; ")), 300)}
	if ae.Code == "" {
		ae.Code = "unknown_error"
	}
	switch {
	case ae.Code == "ratelimited" || ae.Code == "rate_limited":
		return ans, &RetryAfterError{Err: ae, After: retryAfter(header.Get("Retry-After"))}
	case slices.Contains(slackRetried, ae.Code):
		return ans, ae
	}
	return ans, &PermanentError{Err: ae}
}
