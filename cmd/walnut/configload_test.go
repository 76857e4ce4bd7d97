package main

import (
	"errors"
	"reflect"
	"strings"
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
		cs := checkerSite(s, 1, nil)
		if got := [2]time.Duration{cs.Interval, cs.Timeout}; got != want[s.Slug] {
			t.Errorf("%s: interval, timeout = %v, want %v", s.Slug, got, want[s.Slug])
		}
	}
	if config.DefaultInterval != 30*time.Second || config.DefaultTimeout != 10*time.Second {
		t.Errorf("defaults are %v and %v; README.md says 30s and 10s", config.DefaultInterval, config.DefaultTimeout)
	}
}

// TestSiteRecipeBuiltOnce: loadConfig builds each site's recipe from the
// registry with the options the config read, once, and siteRecipe hands
// that one over; a recipe the registry cannot build is an error at its
// place in the file, as the config's own are.
func TestSiteRecipeBuiltOnce(t *testing.T) {
	t.Parallel()
	yaml := `
sites:
  - name: API
    url: https://api.example.com
    recipe:
      name: counted
      limit: 3
  - name: Web
    url: https://web.example.com
    recipe: {name: counted, limit: 99}
`
	reg := recipes.NewRegistry()
	var got []any
	err := reg.Register("counted", func(opts recipes.Options) (recipes.Recipe, error) {
		got = append(got, opts["limit"])
		if opts["limit"] == 99 {
			return nil, errors.New("limit 99 is too many")
		}
		return recipes.Builtin().Build("status", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = loadConfig("", fakeEnv(map[string]string{"WALNUT_CONFIG_YAML": strings.TrimPrefix(yaml, "\n")}), reg)
	if want := "WALNUT_CONFIG_YAML:9:13: sites[1].recipe: limit 99 is too many"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("loadConfig error = %v, want %s", err, want)
	}

	got = nil
	good := strings.Replace(yaml, "limit: 99", "limit: 4", 1)
	cfg, err := loadConfig("", fakeEnv(map[string]string{"WALNUT_CONFIG_YAML": good}), reg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Sites {
		rec, err := siteRecipe(cfg, i, reg)
		if err != nil || rec == nil {
			t.Fatalf("siteRecipe(%s) = %v, %v", cfg.Sites[i].Slug, rec, err)
		}
		if cs := checkerSite(cfg.Sites[i], 1, rec); cs.Recipe != rec {
			t.Errorf("checkerSite dropped the recipe")
		}
	}
	if !reflect.DeepEqual(got, []any{3, 4}) {
		t.Errorf("the factory got limits %v, want [3 4]: each recipe built once", got)
	}
}
