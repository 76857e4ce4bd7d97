package main

import (
	"testing"
	"time"

	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/recipes"
)

// TestCheckerSiteTakesConfigDefaults: the interval and timeout a site leaves
// out reach the checker as config resolved them; the checker has no
// defaults of its own to drift from config's.
func TestCheckerSiteTakesConfigDefaults(t *testing.T) {
	t.Parallel()
	yaml := `
sites:
  - {name: Plain, url: "https://plain.example.com/"}
  - {name: Fast, url: "https://fast.example.com/", interval: 4s}
  - {name: Set, url: "https://set.example.com/", interval: 1m, timeout: 20s}
`
	cfg, err := loadConfig("", fakeEnv(map[string]string{"WALNUT_CONFIG_YAML": yaml}), recipes.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]time.Duration{
		"plain": {config.DefaultInterval, config.DefaultTimeout},
		"fast":  {4 * time.Second, 4 * time.Second}, // the timeout never outlasts the interval
		"set":   {time.Minute, 20 * time.Second},
	}
	for _, s := range cfg.Sites {
		cs := checkerSite(s, 1)
		if got := [2]time.Duration{cs.Interval, cs.Timeout}; got != want[s.Slug] {
			t.Errorf("%s: interval, timeout = %v, want %v", s.Slug, got, want[s.Slug])
		}
	}
	if config.DefaultInterval != 30*time.Second || config.DefaultTimeout != 10*time.Second {
		t.Errorf("defaults are %v and %v; README.md says 30s and 10s", config.DefaultInterval, config.DefaultTimeout)
	}
}
