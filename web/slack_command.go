package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/walnut-board/walnut/store"
)

// slackMaxSkew is how old a signed Slack request may be: Slack's advice
// against replays.
const slackMaxSkew = 5 * time.Minute

// verifySlackSignature checks Slack's request signature: X-Slack-Signature
// is "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)), with
// X-Slack-Request-Timestamp within five minutes of now.
func verifySlackSignature(secret []byte, h http.Header, body []byte, now time.Time) bool {
	ts := h.Get("X-Slack-Request-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > slackMaxSkew || d < -slackMaxSkew {
		return false
	}
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "v0:%s:", ts)
	m.Write(body)
	want := "v0=" + hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Slack-Signature")))
}

// slackCommand answers a slash command (POST /slack/command, the seed's
// Slack bot) with what is failing and who is on support today. Only Slack,
// holding SLACK_SIGNING_SECRET, can ask.
func (h *Handler) slackCommand(w http.ResponseWriter, r *http.Request) {
	if len(h.slackSecret) == 0 {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "cannot read the request", http.StatusBadRequest)
		return
	}
	if !verifySlackSignature(h.slackSecret, r.Header, body, h.now()) {
		h.logger.WarnContext(r.Context(), "slack command with a bad signature", "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	sites, err := h.store.SiteListActive(r.Context())
	if err != nil {
		h.logger.ErrorContext(r.Context(), "slack command", "error", err)
		h.writeJSON(w, r, http.StatusOK, slackReply{ResponseType: "ephemeral", Text: "Walnut cannot read its database right now."})
		return
	}
	var lines []string
	for _, s := range sites {
		if s.State != store.StateNotOK {
			continue
		}
		line := "• *" + slackEscape(s.Name) + "*"
		if s.Reason != "" {
			line += ": " + slackEscape(s.Reason)
		}
		if s.Since != nil {
			line += fmt.Sprintf(" (since <!date^%d^{date_short_pretty} {time}|%s>)", s.Since.Unix(), s.Since.UTC().Format(time.RFC3339))
		}
		lines = append(lines, line)
	}
	var b strings.Builder
	if len(lines) == 0 {
		fmt.Fprintf(&b, ":large_green_circle: All %d sites are ok or pending.", len(sites))
	} else {
		fmt.Fprintf(&b, ":red_circle: %d of %d sites failing:\n%s", len(lines), len(sites), strings.Join(lines, "\n"))
	}
	if sup, err := readSupport(r.Context(), h.roster, h.now()); err != nil {
		h.logger.ErrorContext(r.Context(), "slack command: roster", "error", err)
	} else if sup.Person != "" {
		fmt.Fprintf(&b, "\nOn support today: *%s*", slackEscape(sup.Person))
		if sup.Contact != "" {
			b.WriteString(" (" + slackEscape(sup.Contact) + ")")
		}
	} else {
		b.WriteString("\nNobody is on the support roster today.")
	}
	h.writeJSON(w, r, http.StatusOK, slackReply{ResponseType: "ephemeral", Text: b.String()})
}

type slackReply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
