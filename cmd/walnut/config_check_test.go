package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestConfigCheckShowsFlapping(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, yaml string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"config", "check", "--config", writeConfig(t, yaml)}, &stdout, &stderr, fakeEnv(nil)); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		return stdout.String()
	}

	t.Run("NoColumnWhenAllDefault", func(t *testing.T) {
		t.Parallel()
		out := check(t, "sites:\n  - {name: API, url: \"https://a.example.com\", flapping: {changes: 5}}\n")
		if strings.Contains(out, "FLAPPING") {
			t.Errorf("a column for default damping:\n%s", out)
		}
	})

	t.Run("ColumnWhenOneDiffers", func(t *testing.T) {
		t.Parallel()
		out := check(t, `
defaults:
  flapping: {within: 1h}
sites:
  - {name: API, url: "https://a.example.com", flapping: {changes: 3, settle: 90s}}
  - {name: Build, url: "https://b.example.com", flapping: off}
  - {name: Web, url: "https://c.example.com", flapping: {within: 30m}}
`)
		for _, want := range []string{
			`(?m)^SLUG .* FLAPPING +URL$`,
			`(?m)^api .* 3 in 1h, settle 1m30s +https://a\.example\.com$`,
			`(?m)^build .* off +https://b\.example\.com$`,
			`(?m)^web .* default +https://c\.example\.com$`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
	})
}
