package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// SignatureHeader carries hex(HMAC-SHA256(secret, body)) as "sha256=...",
// as GitHub does, when WALNUT_WEBHOOK_SECRET is set.
const SignatureHeader = "X-Walnut-Signature-256"

// Webhook posts a JSON object per notice to WALNUT_WEBHOOK_URL.
type Webhook struct {
	url    string
	secret []byte
	hc     *http.Client
	scrub  *secret.Scrubber // the URL and secret, and from SinksFromEnv every sink's credentials
}

// NewWebhook returns the sink; secret may be empty (unsigned).
func NewWebhook(url, key string, hc *http.Client) *Webhook {
	w := &Webhook{url: url, hc: hc, scrub: urlCredentials(url)}
	if key != "" {
		w.secret = []byte(key)
		w.scrub.Add(key)
	}
	return w
}

// WebhookPayload is the JSON body.
type WebhookPayload struct {
	Event  Event       `json:"event"`
	Slug   string      `json:"slug"`
	Name   string      `json:"name"`
	From   store.State `json:"from"`
	To     store.State `json:"to"`
	Reason string      `json:"reason"`
	At     time.Time   `json:"at"`
	URL    string      `json:"url"` // the site's page on the board, else its redacted URL
}

// Sign returns the signature header value of body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send posts the payload; 2xx is delivered, 408/429/5xx retried, other 4xx
// permanent.
func (w *Webhook) Send(ctx context.Context, n Notice) error {
	if n.Event == EventCertificate {
		return ErrSkip // the webhook's contract is transitions
	}
	p := WebhookPayload{Event: n.Event, Slug: n.Slug, Name: n.Name, From: n.From, To: n.To, Reason: n.Reason, At: n.At.UTC(), URL: n.Link}
	if p.URL == "" {
		p.URL = n.URL
	}
	var sign func([]byte, http.Header)
	if w.secret != nil {
		sign = func(body []byte, h http.Header) { h.Set(SignatureHeader, Sign(w.secret, body)) }
	}
	_, _, err := postJSON(ctx, w.hc, "webhook", w.url, p, sign, w.scrub)
	return err
}
