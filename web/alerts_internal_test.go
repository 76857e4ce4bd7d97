package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

func TestScrubDetail(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sink, detail string
		want         string
		hidden       []string
	}{
		"PagerDutyRefusal": {
			sink: "pagerduty", detail: "pagerduty trigger: HTTP 400: Invalid routing key",
			want: "HTTP 400: Invalid routing key",
		},
		"PlainSinkPrefix": {
			sink: "webhook", detail: "webhook: HTTP 410: gone",
			want: "HTTP 410: gone",
		},
		"OtherPrefixKept": {
			sink: "slack", detail: "slackbot says: no",
			want: "slackbot says: no",
		},
		"SlackWebhookURL": {
			sink: "slack", detail: "slack: HTTP 404: no_service at https://hooks.slack.com/services/T0000/B0000/XXXXXXXX",
			want:   "HTTP 404: no_service at https://hooks.slack.com/***",
			hidden: []string{"T0000", "XXXXXXXX"},
		},
		"UserInfoAndQuery": {
			sink: "webhook", detail: "webhook: HTTP 401: https://user:pass@example.com/hook?sig=abc",
			want:   "HTTP 401: https://example.com/***",
			hidden: []string{"user", "pass", "abc"},
		},
		"SlackToken": {
			sink: "slack", detail: "slack: HTTP 403: invalid_auth for xoxb-1234-5678-abcdef",
			want:   "HTTP 403: invalid_auth for xoxb-***",
			hidden: []string{"abcdef"},
		},
		"NamedSecretsInAnEcho": {
			sink: "webhook", detail: `webhook: HTTP 400: {"routing_key":"abc","token": "def", auth=Bearer ghi}`,
			hidden: []string{"abc", "def", "ghi"},
		},
		"LongKeyLikeWord": {
			sink: "pagerduty", detail: "pagerduty trigger: HTTP 400: key 0123456789abcdef0123456789abcdef unknown",
			want:   "HTTP 400: key *** unknown",
			hidden: []string{"0123456789abcdef"},
		},
		"WordsThatNameAKeyStay": {
			sink: "pagerduty", detail: "pagerduty trigger: HTTP 400: Length of 'routing_key' is incorrect (should be 32 characters)",
			want: "HTTP 400: Length of 'routing_key' is incorrect (should be 32 characters)",
		},
		"FoldedAndCut": {
			sink: "webhook", detail: "webhook: HTTP 400:\n\n" + strings.Repeat("word ", 100),
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := scrubDetail(tt.sink, tt.detail)
			if tt.want != "" && got != tt.want {
				t.Errorf("scrubDetail(%q) = %q, want %q", tt.detail, got, tt.want)
			}
			for _, h := range tt.hidden {
				if strings.Contains(got, h) {
					t.Errorf("scrubDetail(%q) = %q shows %q", tt.detail, got, h)
				}
			}
			if strings.ContainsAny(got, "\n\t") || len([]rune(got)) > detailMax {
				t.Errorf("scrubDetail = %q: not one short line", got)
			}
		})
	}
}

// healthOf is a NotifyHealth with fixed answers.
type healthOf []store.SinkHealth

func (h healthOf) NotifyHealth(context.Context) ([]store.SinkHealth, error) { return h, nil }

// TestSinkHealthScrubbed: /healthz needs no password, so it shows a failing
// sink's answer scrubbed as the board does.
func TestSinkHealthScrubbed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)
	got, err := readSinkHealth(t.Context(), healthOf{{
		Sink: "webhook", LastOutcome: "failed", LastAt: &now,
		LastDetail: "webhook: HTTP 401: https://user:pass@hooks.example.com/in/s3cretpath?token=abc",
	}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Status != sinkFailing {
		t.Fatalf("want one failing sink: %+v", got)
	}
	for _, secret := range []string{"pass", "s3cretpath", "abc"} {
		if strings.Contains(got[0].Error, secret) {
			t.Errorf("/healthz would show %q: %q", secret, got[0].Error)
		}
	}
	if !strings.Contains(got[0].Error, "HTTP 401: https://hooks.example.com/") {
		t.Errorf("/healthz says %q, not the status and host", got[0].Error)
	}
}

func TestAlertViews(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)
	refused := time.Date(2026, 11, 25, 14, 2, 0, 0, time.UTC)
	waiting := time.Date(2026, 11, 24, 23, 5, 0, 0, time.UTC)
	got := alertViews([]sinkHealthJSON{
		{Sink: "slack", Status: sinkDelayed, Pending: 3, OldestPending: &waiting},
		{Sink: "webhook", Status: sinkOK},
		{Sink: "pagerduty", Status: sinkFailing, Error: "pagerduty trigger: HTTP 400: Invalid routing key", LastAt: &refused},
	}, now)
	if len(got) != 2 {
		t.Fatalf("%d alerts, want PagerDuty and Slack: %+v", len(got), got)
	}
	pd, sl := got[0], got[1]
	if pd.Name != "PagerDuty" || pd.Status != "failing" || pd.AtText != "14:02 UTC" || pd.At != "2026-11-25T14:02:00Z" ||
		pd.Detail != "HTTP 400: Invalid routing key" || pd.Effect != "on-call will not be paged" {
		t.Errorf("failing first, as PagerDuty's: %+v", pd)
	}
	if sl.Name != "Slack" || sl.Status != "delayed" || sl.Pending != 3 || sl.AtText != "Tue 24 Nov 23:05 UTC" {
		t.Errorf("delayed Slack, with yesterday's date: %+v", sl)
	}
}
