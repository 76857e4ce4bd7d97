package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const hbToken = "0123456789abcdef0123"

func TestHeartbeatSite(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, `
defaults:
  interval: 10s
  timeout: 5s
  headers: {User-Agent: walnut}
sites:
  - name: Billing worker
    heartbeat: {every: 5m, token: "${BILLING_HEARTBEAT_TOKEN}"}
    confirm: 2
  - name: Nightly export
    heartbeat:
      every: 24h
      grace: 2h
      token: literal-token-in-the-file
`, map[string]string{"BILLING_HEARTBEAT_TOKEN": hbToken})
	b := cfg.Sites[0]
	want := &Heartbeat{Every: 5 * time.Minute, Grace: time.Minute, Token: hbToken}
	if !reflect.DeepEqual(b.Heartbeat, want) {
		t.Errorf("Heartbeat = %+v, want %+v (grace a fifth of every)", b.Heartbeat, want)
	}
	if b.URL != "" || b.Headers != nil || b.RecipeName != "" || b.Timeout != 0 {
		t.Errorf("a heartbeat site makes no request, got url %q headers %v recipe %q timeout %s", b.URL, b.Headers, b.RecipeName, b.Timeout)
	}
	if b.Interval != 6*time.Minute {
		t.Errorf("Interval = %s, want every+grace = 6m", b.Interval)
	}
	if b.RedactedURL != "/api/v1/heartbeat/billing-worker" {
		t.Errorf("RedactedURL = %q", b.RedactedURL)
	}
	if b.Confirm != 2 {
		t.Errorf("Confirm = %d, want 2", b.Confirm)
	}
	n := cfg.Sites[1]
	if n.Heartbeat.Grace != 2*time.Hour {
		t.Errorf("grace = %s, want 2h", n.Heartbeat.Grace)
	}
	// The token is a secret even when written in the file.
	for _, s := range cfg.Sites {
		if len(s.Secrets) == 0 || !contains(s.Secrets, s.Heartbeat.Token) {
			t.Errorf("site %s: Secrets %q lack the token", s.Slug, s.Secrets)
		}
	}
}

func contains(ss []string, v string) bool {
	for _, s := range ss {
		if s == v {
			return true
		}
	}
	return false
}

func TestHeartbeatErrors(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"SHORT": "abc", "TOK": hbToken}
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"URLAndHeartbeat": {
			yaml: `
sites:
  - name: Worker
    url: https://example.com/
    heartbeat: {every: 5m, token: "${TOK}"}
`,
			want: []string{`walnut.yaml:3:5: sites[0].url: a site has either url or heartbeat, not both`},
		},
		"RequestKeys": {
			yaml: `
sites:
  - name: Worker
    heartbeat: {every: 5m, token: "${TOK}"}
    interval: 1m
    recipe: status
`,
			want: []string{
				`walnut.yaml:4:5: sites[0].interval: "interval" does not apply to a heartbeat site (it makes no request)`,
				`walnut.yaml:5:5: sites[0].recipe: "recipe" does not apply to a heartbeat site (it makes no request)`,
			},
		},
		"ShortTokenFromEnv": {
			yaml: `
sites:
  - name: Worker
    heartbeat: {every: 5m, token: "${SHORT}"}
`,
			want: []string{`walnut.yaml:3:35: sites[0].heartbeat.token: the token must be at least 16 characters (try: openssl rand -hex 16)`},
		},
		"ShortTokenInFile": {
			yaml: `
sites:
  - name: Worker
    heartbeat:
      every: 5m
      token: hunter2
`,
			want: []string{`walnut.yaml:5:14: sites[0].heartbeat.token: the token must be at least 16 characters (try: openssl rand -hex 16)`},
		},
		"MissingTokenAndEvery": {
			yaml: `
sites:
  - name: Worker
    heartbeat: {grace: 1m}
`,
			want: []string{
				`walnut.yaml:3:16: sites[0].heartbeat: missing "every" (how often the job calls, e.g. 5m)`,
				`walnut.yaml:3:16: sites[0].heartbeat: missing "token" (at least 16 characters, e.g. "${BILLING_HEARTBEAT_TOKEN}")`,
			},
		},
		"BadEveryAndGrace": {
			yaml: `
sites:
  - name: Worker
    heartbeat: {every: 500ms, grace: -1s, token: "${TOK}"}
`,
			want: []string{
				`walnut.yaml:3:24: sites[0].heartbeat.every: 500ms is under the minimum of 1s`,
				`walnut.yaml:3:38: sites[0].heartbeat.grace: -1s must not be negative`,
			},
		},
		"UnknownKey": {
			yaml: `
sites:
  - name: Worker
    heartbeat: {every: 5m, token: "${TOK}", tokn: x}
`,
			want: []string{`walnut.yaml:3:45: unknown key "tokn" in heartbeat of site "Worker" (expected every, grace, token)`},
		},
		"NotInDefaults": {
			yaml: `
defaults:
  heartbeat: {every: 5m, token: "${TOK}"}
sites:
  - name: Worker
    url: https://example.com/
`,
			want: []string{`walnut.yaml:2:3: defaults: "heartbeat" cannot have a default: set it on each site`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, tc.yaml, vars)
			got := errLines(err)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
			for _, line := range got {
				if strings.Contains(line, hbToken) || strings.Contains(line, "hunter2") {
					t.Errorf("an error shows the token: %s", line)
				}
			}
		})
	}
}
