package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

// configFlag adds --config to a command's flags.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "the config file (default $WALNUT_CONFIG, else $WALNUT_CONFIG_YAML's text, else walnut.yaml)")
}

// configPath resolves where the config comes from: --config, WALNUT_CONFIG,
// the YAML in WALNUT_CONFIG_YAML (for Heroku apps without a repository of
// their own; the path is then ""), or walnut.yaml, in that order.
func configPath(flagPath string, lookup env) string {
	switch {
	case flagPath != "":
		return flagPath
	case lookup.get("WALNUT_CONFIG") != "":
		return lookup.get("WALNUT_CONFIG")
	case lookup.get("WALNUT_CONFIG_YAML") != "":
		return ""
	}
	return defaultConfigPath
}

// defaultConfigPath is read when nothing names the config.
const defaultConfigPath = "walnut.yaml"

// loadConfig reads the config from where configPath says, building each
// site's recipe from the registry as it goes, so that a bad one is
// reported with the file's other problems, at its line.
func loadConfig(flagPath string, lookup env, reg *recipes.Registry) (*config.Config, error) {
	check := func(name string, opts map[string]any) (any, error) {
		return reg.Build(name, recipes.Options(opts))
	}
	path := configPath(flagPath, lookup)
	if path == "" {
		return config.Parse("WALNUT_CONFIG_YAML", []byte(lookup.get("WALNUT_CONFIG_YAML")), lookup, check)
	}
	return config.Load(path, lookup, check)
}

// siteRecipe is the recipe of cfg.Sites[i]: the one loadConfig built, or
// built from the registry for a Config made otherwise; nil for a site
// without one (heartbeat, tcp).
func siteRecipe(cfg *config.Config, i int, reg *recipes.Registry) (recipes.Recipe, error) {
	s := cfg.Sites[i]
	if s.RecipeName == "" {
		return nil, nil
	}
	if rec, ok := s.Recipe.(recipes.Recipe); ok {
		return rec, nil
	}
	rec, err := reg.Build(s.RecipeName, recipes.Options(s.RecipeOptions))
	if err != nil {
		return nil, fmt.Errorf("%s: sites[%d].recipe: %w", cfg.Path, i, err)
	}
	return rec, nil
}

// printConfigError writes each of the config's problems on its own line.
func printConfigError(w io.Writer, err error) {
	fmt.Fprintln(w, "walnut: the config has errors:")
	for _, e := range unjoin(err) {
		fmt.Fprintln(w, "  "+e.Error())
	}
	if strings.Contains(err.Error(), `"WALNUT_DEMO_URL"`) {
		fmt.Fprintln(w, "hint: WALNUT_DEMO_URL is set by `walnut serve --demo`, which serves the example's upstreams")
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// siteSpecs is what the database keeps of the config's sites.
func siteSpecs(cfg *config.Config) []store.SiteSpec {
	specs := make([]store.SiteSpec, len(cfg.Sites))
	for i, s := range cfg.Sites {
		specs[i] = store.SiteSpec{
			Slug: s.Slug, Name: s.Name, Group: s.Group, URL: s.RedactedURL,
			Interval: s.Interval, Confirm: s.Confirm,
		}
	}
	return specs
}

// checkerSite is what the checker needs to probe a site, with its recipe
// built (see siteRecipe).
func checkerSite(s config.Site, id int32, rec recipes.Recipe) checker.Site {
	cs := checker.Site{
		ID: id, Slug: s.Slug, URL: s.URL, RedactedURL: s.RedactedURL,
		Method: s.Method, Headers: s.Headers, Body: s.Body,
		Interval: s.Interval, Timeout: s.Timeout, Recipe: rec, Secrets: s.Secrets,
		MaxPending: s.MaxPending,
		TCP:        s.Kind == config.KindTCP, CA: s.TLS.CA, Insecure: s.TLS.Insecure,
		CertWarning: s.CertWarning, CertCritical: s.CertCritical,
	}
	if hb := s.Heartbeat; hb != nil {
		cs.Heartbeat = &checker.Heartbeat{Every: hb.Every, Grace: hb.Grace, Token: hb.Token}
	}
	return cs
}
