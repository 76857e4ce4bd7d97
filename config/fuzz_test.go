package config

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// fuzzSecret is the value of every variable whose name starts with S; the
// others are not set.
const fuzzSecret = "fuzz-s3cret-value"

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"sites:\n  - name: API\n    url: https://api.example.com/?t=${STOKEN}\n",
		"defaults:\n  interval: 10s\n  headers: {Authorization: \"Bearer ${SKEY}\"}\nsites:\n  - name: A\n    url: https://a.example.com\n    recipe: {name: status, expect: [200]}\n",
		"sites:\n  - name: A\n    url: ftp://x\n    interval: 5\n    confirm: two\n",
		"x-a: &a {group: G}\nsites:\n  - {name: A, url: \"http://a\", <<: *a}\nmaintenance:\n  - sites: [a]\n    weekly: {days: [mon], start: \"1:00\", end: \"2:00\", timezone: UTC}\n",
		"sites:\n  - name: A\n    url: ${NOPE}\n    body: $${x} ${S1-}\n",
		"a: &x [*x]\nsites: *x\n",
		"defaults:\n  flapping: {changes: 3, within: 10m}\nsites:\n  - {name: A, url: \"http://a\", flapping: off}\n  - {name: B, url: \"http://b\", flapping: {settle: 0s, x: 1}}\n",
		"sites: [\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	env := func(name string) (string, bool) {
		if strings.HasPrefix(name, "S") {
			return fuzzSecret, true
		}
		return "", false
	}
	check := func(name string, opts map[string]any) (any, error) { return nil, nil }

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("walnut.yaml", data, env, check)
		if err != nil {
			if cfg != nil {
				t.Errorf("config returned with an error")
			}
			for _, line := range errLines(err) {
				if !strings.HasPrefix(line, "walnut.yaml") {
					t.Errorf("error without the file name: %q", line)
				}
			}
			// A secret may only show if the file itself holds its text.
			if !strings.Contains(string(data), fuzzSecret[:8]) && strings.Contains(err.Error(), fuzzSecret) {
				t.Errorf("error shows a secret: %s", err)
			}
			return
		}
		if cfg == nil || len(cfg.Sites) == 0 {
			t.Fatalf("no error and no sites")
		}
		for _, s := range cfg.Sites {
			if !slugRE.MatchString(s.Slug) {
				t.Errorf("bad slug %q", s.Slug)
			}
			if s.Interval < time.Second || s.Timeout <= 0 || s.Timeout > s.Interval || s.Confirm < 1 {
				t.Errorf("site %q: interval %s, timeout %s, confirm %d", s.Slug, s.Interval, s.Timeout, s.Confirm)
			}
			if f := s.Flapping; f.Off && f != (Flapping{Off: true}) || !f.Off && (f.Changes < MinFlapChanges || f.Within <= 0 || f.Settle <= 0) {
				t.Errorf("site %q: flapping %+v", s.Slug, f)
			}
			if s.RecipeName != "" && s.RecipeLine == 0 {
				t.Errorf("site %q: recipe %q has no line", s.Slug, s.RecipeName)
			}
			if u, err := url.Parse(s.RedactedURL); err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("site %q: RedactedURL %q keeps a query, fragment or user info (%v)", s.Slug, s.RedactedURL, err)
			}
		}
	})
}
