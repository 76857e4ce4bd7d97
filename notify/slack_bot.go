package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// DefaultSlackAPIURL is the Slack Web API's base; SLACK_API_URL replaces it
// (a proxy, or a fake in tests).
const DefaultSlackAPIURL = "https://slack.com/api"

// SlackThreads keeps the message of each outage; *store.Store has it.
type SlackThreads interface {
	SlackThreadOpen(ctx context.Context, slug string) (store.SlackThread, error)
	SlackThreadStart(ctx context.Context, slug string, t store.SlackThread) (store.SlackThread, error)
	SlackThreadMove(ctx context.Context, id int64, channel, ts string) error
	SlackThreadEnd(ctx context.Context, id int64, endedAt time.Time) error
}

// SlackBot is the slack sink as a bot (SLACK_BOT_TOKEN, SLACK_CHANNEL): one
// message per outage, updated in place as the site changes, with each
// change as a reply in its thread. A site turning notok posts the message;
// turning ok again turns it green ("was down for 12m") and ends the outage,
// so the next notok posts a new one. Notices outside an outage (a build
// going pending and back) are messages of their own, as with the webhook.
//
// The dispatcher sends a site's notices to a sink one at a time, in order,
// holding the site's stream (store.NotifyStreamOpen) in one process at a
// time; so the bot reads and writes a site's thread without locking.
type SlackBot struct {
	api     *slackAPI
	channel string
	threads SlackThreads
	logger  *slog.Logger
}

// NewSlackBot returns the sink posting to channel (a name such as #alerts,
// or an id) with a bot token; apiURL "" is DefaultSlackAPIURL. The token
// is sent in the Authorization header and nowhere else.
func NewSlackBot(token, channel, apiURL string, threads SlackThreads, hc *http.Client, logger *slog.Logger) *SlackBot {
	if apiURL == "" {
		apiURL = DefaultSlackAPIURL
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SlackBot{
		api:     &slackAPI{base: strings.TrimSuffix(apiURL, "/"), token: token, hc: hc, scrub: secret.New(token)},
		channel: channel,
		threads: threads,
		logger:  logger,
	}
}

// storeTimeout bounds a thread write made after Slack accepted a message:
// it runs even when the delivery's context has ended, since forgetting the
// message would post a second one on the next attempt.
const storeTimeout = 10 * time.Second

func afterSlack(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
}

// Send posts, replies or updates as the notice and the site's open outage
// say. An outage's message is recorded as soon as Slack accepts it, so a
// retry after a failure carries on in its thread rather than posting a
// second one; only a reply may come twice, when a retry follows a failure
// after Slack took it.
func (b *SlackBot) Send(ctx context.Context, n Notice) error {
	if n.Event == EventCertificate {
		// A message of its own: no outage's thread is about it.
		_, err := b.api.post(ctx, b.channel, "", slackMessageFor(n))
		return err
	}
	th, err := b.threads.SlackThreadOpen(ctx, n.Slug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if n.To == store.StateNotOK && n.Event != EventFlapping {
			return b.open(ctx, n)
		}
		_, err := b.api.post(ctx, b.channel, "", slackMessageFor(n))
		return err
	case err != nil:
		return fmt.Errorf("slack: %w", err)
	}
	if n.Event == EventTransition && n.To == store.StateNotOK && n.At.Equal(th.DownSince) {
		// The notice that opened this outage, again: its message is
		// posted and recorded, so the retry is a stream that failed
		// to record the notice after it.
		return nil
	}
	return b.follow(ctx, n, th)
}

// open posts the message of a new outage and records it.
func (b *SlackBot) open(ctx context.Context, n Notice) error {
	res, err := b.api.post(ctx, b.channel, "", slackMessageFor(n))
	if err != nil {
		return err
	}
	sctx, cancel := afterSlack(ctx)
	defer cancel()
	if _, err := b.threads.SlackThreadStart(sctx, n.Slug, store.SlackThread{Channel: res.Channel, TS: res.TS, DownSince: n.At, Reason: n.Reason}); err != nil {
		b.logger.ErrorContext(ctx, "slack accepted the outage message but it could not be recorded; a retry will post another",
			"site", n.Slug, "channel", res.Channel, "ts", res.TS, "error", err)
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// follow updates the outage's message to the site's state and replies in
// its thread; a recovery ends the outage.
func (b *SlackBot) follow(ctx context.Context, n Notice, th store.SlackThread) error {
	recovered := n.To == store.StateOK && n.Event != EventFlapping
	parent := slackParentFor(n, th, recovered)
	if err := b.api.update(ctx, th.Channel, th.TS, parent); err != nil {
		var ae *SlackAPIError
		switch {
		case errors.As(err, &ae) && ae.Code == "message_not_found":
			// Someone deleted it: the outage gets a fresh message.
			res, err := b.api.post(ctx, b.channel, "", parent)
			if err != nil {
				return err
			}
			sctx, cancel := afterSlack(ctx)
			defer cancel()
			if err := b.threads.SlackThreadMove(sctx, th.ID, res.Channel, res.TS); err != nil {
				return fmt.Errorf("slack: %w", err)
			}
			b.logger.InfoContext(ctx, "the outage's Slack message was deleted; posted a fresh one", "site", n.Slug, "ts", res.TS)
			th.Channel, th.TS = res.Channel, res.TS
		case errors.As(err, &ae) && (ae.Code == "cant_update_message" || ae.Code == "edit_window_closed"):
			// The workspace forbids the edit; the thread still hears.
			b.logger.WarnContext(ctx, "cannot update the outage's Slack message; replying in its thread only", "site", n.Slug, "error", err)
		default:
			return err
		}
	}
	if _, err := b.api.post(ctx, th.Channel, th.TS, slackReplyFor(n, th, recovered)); err != nil {
		return err
	}
	if recovered {
		sctx, cancel := afterSlack(ctx)
		defer cancel()
		if err := b.threads.SlackThreadEnd(sctx, th.ID, n.At); err != nil {
			return fmt.Errorf("slack: %w", err)
		}
	}
	return nil
}

// slackParentFor renders an outage's message as the notice leaves it: red
// (or the colour of where the site is now) while it lasts, green once the
// site has recovered.
func slackParentFor(n Notice, th store.SlackThread, recovered bool) SlackMessage {
	name := slackName(n)
	if recovered {
		d := humanDuration(n.At.Sub(th.DownSince))
		head := fmt.Sprintf("%s %s was down for *%s*, recovered at %s", emoji(store.StateOK), name, d, slackDate(n.At, "{time}"))
		if th.Reason != "" {
			head += "\n" + slackEscape(th.Reason)
		}
		ctx := append([]string{"down since " + slackDate(th.DownSince, "{date_short_pretty} {time_secs}")}, slackProbe(n)...)
		text := fmt.Sprintf("%s was down for %s, recovered at %s", n.Name, d, n.At.UTC().Format("15:04 UTC"))
		return slackCard(text, slackColors[store.StateOK], head, ctx)
	}
	color, mark, now := slackColors[n.To], emoji(n.To), n.To.Word()
	if n.Event == EventFlapping {
		color, mark, now = slackFlappingColor, slackFlappingMark, "flapping"
	}
	head := fmt.Sprintf("%s %s is *down* since %s", mark, name, slackDate(th.DownSince, "{time}"))
	text := fmt.Sprintf("%s is down since %s", n.Name, th.DownSince.UTC().Format("15:04 UTC"))
	if n.To != store.StateNotOK || n.Event == EventFlapping {
		head = fmt.Sprintf("%s %s is down since %s · now *%s*", mark, name, slackDate(th.DownSince, "{time}"), now)
		text += " · now " + now
	}
	reason := n.Reason
	if n.Event == EventFlapping {
		reason = flapNote(n)
	}
	if reason != "" {
		head += "\n" + slackEscape(reason)
	}
	ctx := append([]string{"updated " + slackDate(n.At, "{date_short_pretty} {time_secs}")}, slackProbe(n)...)
	return slackCard(text, color, head, ctx)
}

// slackReplyFor renders a notice in an outage's thread: as the webhook
// would, and with how long the site was down when it recovers.
func slackReplyFor(n Notice, th store.SlackThread, recovered bool) SlackMessage {
	if !recovered {
		return slackMessageFor(n)
	}
	d := humanDuration(n.At.Sub(th.DownSince))
	head := slackHead(n) + "\nrecovered after *" + d + "* down"
	return slackCard(summary(n)+" (recovered after "+d+" down)", slackColors[store.StateOK], head, slackContext(n))
}

// humanDuration is a duration as people say it: 45s, 12m, 3h5m, 2d4h.
func humanDuration(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	d = d.Round(time.Hour)
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}
