package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
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

func TestConfigCheckProjectsSize(t *testing.T) {
	t.Parallel()
	sites := func(n int, interval string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "defaults: {interval: %s}\nsites:\n", interval)
		for i := range n {
			fmt.Fprintf(&b, "  - {name: S%d, url: \"https://s%d.example.com/\"}\n", i, i)
		}
		return b.String()
	}
	check := func(t *testing.T, yaml string, vars map[string]string) (string, string, int) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"config", "check", "--config", writeConfig(t, yaml)}, &stdout, &stderr, fakeEnv(vars))
		return stdout.String(), stderr.String(), code
	}
	f := store.CurrentFootprint
	sizeLine := regexp.MustCompile(`(?m)^  after (30 days|90 days|a year) +([\d.]+) (MB|GB)$`)

	// The goal of the storage layout of 00008: 100 sites at 30 s, every
	// probe for 90 days and hourly history for 400, in 1 GB.
	t.Run("HundredSitesFitAGigabyte", func(t *testing.T) {
		t.Parallel()
		out, stderr, code := check(t, sites(100, "30s"), map[string]string{"WALNUT_DB_BUDGET": "1GB"})
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(out, "Database size, projected (raw probes kept 90d, hourly history 400d):") {
			t.Fatalf("no projection:\n%s", out)
		}
		if got := sizeLine.FindAllStringSubmatch(out, -1); len(got) != 3 {
			t.Fatalf("want three sizes:\n%s", out)
		}
		if !regexp.MustCompile(`(?m)^  fits in WALNUT_DB_BUDGET 1GB \(at most \d+ % of it\)$`).MatchString(out) {
			t.Errorf("100 sites at 30 s do not fit 1 GB:\n%s", out)
		}
	})

	t.Run("FourHundredSitesExceedAGigabyte", func(t *testing.T) {
		t.Parallel()
		out, stderr, code := check(t, sites(400, "30s"), map[string]string{"WALNUT_DB_BUDGET": "1GB"})
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		intervals := make([]time.Duration, 400)
		for i := range intervals {
			intervals[i] = 30 * time.Second
		}
		days, ok := f.DaysToReach(1e9, intervals, 90*24*time.Hour, 400*24*time.Hour)
		if !ok {
			t.Fatal("the footprint puts 400 sites under 1 GB forever")
		}
		if want := fmt.Sprintf("  exceeds WALNUT_DB_BUDGET 1GB after %d days", days); !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
		if !strings.Contains(out, "from then on the oldest probes are dropped to stay under it") {
			t.Errorf("output does not say what serve does past the budget:\n%s", out)
		}
	})

	t.Run("OneSiteFits", func(t *testing.T) {
		t.Parallel()
		out, _, code := check(t, sites(1, "1m"), map[string]string{"WALNUT_DB_BUDGET": "1.5GiB"})
		if code != 0 || !regexp.MustCompile(`(?m)^  fits in WALNUT_DB_BUDGET 1\.5GiB \(at most \d+ % of it\)$`).MatchString(out) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})

	t.Run("ShorterRetentionIsSmaller", func(t *testing.T) {
		t.Parallel()
		long, _, _ := check(t, sites(10, "30s"), nil)
		short, _, _ := check(t, sites(10, "30s"), map[string]string{"WALNUT_RAW_RETENTION": "7d"})
		if !strings.Contains(long, "no WALNUT_DB_BUDGET set") || !strings.Contains(short, "raw probes kept 7d") {
			t.Fatalf("outputs:\n%s\n%s", long, short)
		}
		size := func(out string) float64 {
			m := sizeLine.FindStringSubmatch(out) // after 30 days
			v, _ := strconv.ParseFloat(m[2], 64)
			if m[3] == "GB" {
				v *= 1000
			}
			return v
		}
		if size(short) >= size(long) {
			t.Errorf("7 days of raw probes project %.0f MB after 30 days, 90 days of them %.0f MB", size(short), size(long))
		}
	})

	t.Run("BadBudgetIsAnError", func(t *testing.T) {
		t.Parallel()
		_, stderr, code := check(t, sites(1, "30s"), map[string]string{"WALNUT_DB_BUDGET": "lots"})
		if code != exitError || !strings.Contains(stderr, `WALNUT_DB_BUDGET="lots"`) {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}
