package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// Slack posts one message per notice to an incoming webhook
// (SLACK_WEBHOOK_URL): Block Kit in an attachment coloured by state, with a
// link to the site's page.
type Slack struct {
	url   string
	hc    *http.Client
	scrub *secret.Scrubber // the URL, and from SinksFromEnv every sink's credentials
}

// NewSlack returns the sink for an incoming webhook URL.
func NewSlack(url string, hc *http.Client) *Slack {
	return &Slack{url: url, hc: hc, scrub: urlCredentials(url)}
}

var slackColors = map[store.State]string{
	store.StateOK:      "#2eb67d",
	store.StateNotOK:   "#e01e5a",
	store.StatePending: "#9ca3af",
}

// SlackMessage is the incoming-webhook payload.
type SlackMessage struct {
	Text        string            `json:"text"`
	Attachments []SlackAttachment `json:"attachments,omitempty"`
}

// SlackAttachment carries the colour bar and the blocks.
type SlackAttachment struct {
	Color  string `json:"color,omitempty"`
	Blocks []any  `json:"blocks"`
}

func slackText(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

// slackEscape escapes what Slack's mrkdwn treats as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackMessageFor renders a notice.
func slackMessageFor(n Notice) SlackMessage {
	color := slackColors[n.To]
	if n.Event == EventFlapping || n.Event == EventCertificate {
		color = slackFlappingColor
	}
	return slackCard(summary(n), color, slackHead(n), slackContext(n))
}

// A flapping notice's colour and mark, whatever state the site is in.
const (
	slackFlappingColor = "#ecb22e"
	slackFlappingMark  = ":warning:"
)

// slackCard is a message: fallback text for notifications, and an
// attachment with the colour bar, a section and a context line.
func slackCard(text, color, head string, context []string) SlackMessage {
	return SlackMessage{
		Text: text,
		Attachments: []SlackAttachment{{
			Color: color,
			Blocks: []any{
				map[string]any{"type": "section", "text": slackText(head)},
				map[string]any{"type": "context", "elements": []any{slackText(strings.Join(context, " · "))}},
			},
		}},
	}
}

// slackName is the site's name in bold, linked to its page when there is one.
func slackName(n Notice) string {
	if n.Link != "" {
		return "*<" + n.Link + "|" + slackEscape(n.Name) + ">*"
	}
	return "*" + slackEscape(n.Name) + "*"
}

// slackDate shows t in the reader's time zone, in Slack's date format
// (such as "{time}"), and in UTC where the client cannot.
func slackDate(t time.Time, format string) string {
	return "<!date^" + fmt.Sprint(t.Unix()) + "^" + format + "|" + t.UTC().Format(time.RFC3339) + ">"
}

// slackHead is a notice's first lines: what happened, and why.
func slackHead(n Notice) string {
	name := slackName(n)
	var head string
	switch n.Event {
	case EventCertificate:
		return fmt.Sprintf(":lock: %s: %s", name, slackEscape(n.Reason))
	case EventFlapping:
		head = fmt.Sprintf("%s %s is flapping: %s", slackFlappingMark, name, flapNote(n))
	case EventSettled:
		head = fmt.Sprintf("%s %s has settled: *%s*", emoji(n.To), name, n.To.Word())
	default:
		head = fmt.Sprintf("%s %s is *%s*", emoji(n.To), name, n.To.Word())
	}
	if n.Reason != "" && n.Event != EventFlapping {
		head += "\n" + slackEscape(n.Reason)
	}
	return head
}

// slackContext is a notice's small print: what the site was, when, the
// HTTP status and the (redacted) URL.
func slackContext(n Notice) []string {
	ctx := []string{}
	if n.From != "" && n.From != store.StateUnknown {
		ctx = append(ctx, "was "+n.From.Word())
	}
	if n.Event == EventCertificate {
		ctx = append(ctx, "expires "+slackDate(n.CertExpiresAt, "{date_short_pretty} {time}"))
		return append(ctx, slackProbe(n)...)
	}
	ctx = append(ctx, slackDate(n.At, "{date_short_pretty} {time_secs}"))
	return append(ctx, slackProbe(n)...)
}

// slackProbe is the HTTP status and the redacted URL, where known.
func slackProbe(n Notice) []string {
	var out []string
	if n.HTTPStatus != 0 {
		out = append(out, fmt.Sprintf("HTTP %d", n.HTTPStatus))
	}
	if n.URL != "" {
		out = append(out, slackEscape(n.URL))
	}
	return out
}

func emoji(s store.State) string {
	switch s {
	case store.StateOK:
		return ":large_green_circle:"
	case store.StateNotOK:
		return ":red_circle:"
	}
	return ":white_circle:"
}

// Send posts the message. Slack answers 200 "ok", 429 with Retry-After, 4xx
// for a bad or revoked URL (permanent) and 5xx when it is unwell.
func (s *Slack) Send(ctx context.Context, n Notice) error {
	_, _, err := postJSON(ctx, s.hc, "slack", s.url, slackMessageFor(n), nil, s.scrub)
	return err
}

// answerMax is how much of a sink's answer is read: the Web API's JSON
// fits, and a receiver that answers with a page is cut short.
const answerMax = 64 << 10

// postJSON posts v to url, with headers set by header (a signature, a
// token; nil for none), and returns a 2xx answer's body and headers. A
// transport error is retried; any other status is classified by
// httpError. sink starts every error. scrub takes the secrets the request
// carried out of the answer or transport error an error quotes, in case the
// other end echoed them; the URL never appears in an error (a Slack webhook
// URL is itself the secret).
func postJSON(ctx context.Context, hc *http.Client, sink, url string, v any, header func(body []byte, h http.Header), scrub *secret.Scrubber) ([]byte, http.Header, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, nil, &PermanentError{Err: fmt.Errorf("%s: encode: %w", sink, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, &PermanentError{Err: fmt.Errorf("%s: bad URL", sink)}
	}
	// The charset keeps the Slack Web API from warning about its absence.
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "walnut")
	if header != nil {
		header(body, req.Header)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: post failed: %s", sink, scrub.Scrub(transportReason(err)))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, answerMax))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read answer: %s", sink, scrub.Scrub(err.Error()))
	}
	if resp.StatusCode/100 != 2 {
		// Scrubbed before it is cut: a token cut in two would no longer
		// be recognised.
		return nil, nil, httpError(sink, resp, truncate(scrub.Scrub(strings.ToValidUTF8(string(raw), "\uFFFD")), 200))
	}
	return raw, resp.Header, nil
}

// transportReason describes a transport error without its URL (a Slack
// webhook URL is itself the secret).
func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		return ue.Err.Error()
	}
	return "network error"
}
