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

// TestConfigCheckRefusesNUL: a NUL that serve's first database write would
// choke on is the config's mistake, told by config check with its place,
// and serve stops on it before touching the database.
func TestConfigCheckRefusesNUL(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, `sites:
  - name: API
    group: ${TEAM}
    url: https://api.example.com
    recipe:
      name: rules
      rules:
        - {when: 'status == 200', reason: "up\0"}
`)
	environ := fakeEnv(map[string]string{"TEAM": "Apps\x00", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "PORT": "0"})
	for _, args := range [][]string{{"config", "check", "--config", cfg}, {"serve", "--config", cfg}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, environ); code != exitError {
			t.Fatalf("%s: exit %d, want %d: %s", args[0], code, exitError, stderr.String())
		}
		for _, want := range []string{
			`walnut.yaml:3:12: sites[0].group: "${TEAM}" holds a NUL from the environment`,
			`walnut.yaml:8:43: sites[0].recipe.rules[0].reason: "up\x00" holds a NUL`,
		} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "database") || strings.Contains(stderr.String(), "SQLSTATE") {
			t.Errorf("%s reached the database:\n%s", args[0], stderr.String())
		}
	}
}
