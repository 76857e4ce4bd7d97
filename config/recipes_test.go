package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/recipes"
)

// TestBuiltinRecipeErrors parses configs with the real registry: an option
// error names the file and the line of the value at fault.
func TestBuiltinRecipeErrors(t *testing.T) {
	t.Parallel()
	reg := recipes.Builtin()
	check := func(name string, opts map[string]any) (any, error) {
		return reg.Build(name, recipes.Options(opts))
	}

	tests := map[string]struct {
		yaml string
		want string
	}{
		"RuleSyntaxErrorAtItsWhen": {`
sites:
  - name: API
    url: https://api.example.com
    recipe:
      name: rules
      rules:
        - when: 'status == 200'
        - when: 'json.status =='
          state: notok
`, `walnut.yaml:9:17: sites[0].recipe: rules[1].when: unexpected token EOF (column 14)`},
		"RuleTypeErrorFlowStyle": {`
sites:
  - name: API
    url: https://api.example.com
    recipe: {name: rules, rules: [{when: 'status == "200"'}]}
`, `walnut.yaml:5:42: sites[0].recipe: rules[0].when: invalid operation`},
		"RuleBadState": {`
sites:
  - name: API
    url: https://api.example.com
    recipe:
      name: rules
      rules:
        - when: 'true'
          state: green
`, `walnut.yaml:9:18: sites[0].recipe: rules[0].state: "green" is not a state`},
		"StatusBadOptionAtRecipe": {`
sites:
  - name: API
    url: https://api.example.com
    recipe: {name: status, expect: [999]}
`, `walnut.yaml:5:13: sites[0].recipe: option "expect" of recipe status: 999 is not a status code`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("walnut.yaml", []byte(tt.yaml), func(string) (string, bool) { return "", false }, check)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error =\n%s\nwant it to contain\n%s", err, tt.want)
			}
		})
	}
}

func TestMaxPendingParsed(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("walnut.yaml", []byte(`
sites:
  - name: CI
    url: https://circleci.com/api/v2/project/gh/o/r/pipeline
    recipe: {name: rules, rules: [{when: 'status == 200'}]}
    max_pending: 2h
`), func(string) (string, bool) { return "", false }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sites[0].MaxPending; got != 2*time.Hour {
		t.Errorf("MaxPending = %v", got)
	}
}

// TestREADMEExamples parses every YAML example with a sites: list in the
// READMEs with the real recipes, so the documentation cannot drift.
func TestREADMEExamples(t *testing.T) {
	t.Parallel()
	reg := recipes.Builtin()
	check := func(name string, opts map[string]any) (any, error) {
		return reg.Build(name, recipes.Options(opts))
	}
	env := func(name string) (string, bool) { return "x-" + strings.ToLower(name), true }
	// The examples' tls.ca files, beside the config as they say.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs", "internal-ca.pem"), testCAPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"../recipes/README.md", "../README.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(string(b), "```yaml\n")[1:]
		n := 0
		for i, blk := range blocks {
			blk = blk[:strings.Index(blk, "```")]
			if !strings.HasPrefix(blk, "sites:") && !(strings.HasPrefix(blk, "defaults:") && strings.Contains(blk, "\nsites:")) {
				continue
			}
			n++
			if _, err := Parse(filepath.Join(dir, fmt.Sprintf("example-%d.yaml", i)), []byte(blk), env, check); err != nil {
				t.Errorf("example %d of %s:\n%s\n%v", i, file, blk, err)
			}
		}
		if n == 0 {
			t.Errorf("%s: no examples found", file)
		}
	}
}

// TestParseBuildsRecipes: Parse with a RecipeCheck hands each site what the
// check built, so that cmd builds no recipe twice; a recipe's error names
// its place and shows no value from the environment.
func TestParseBuildsRecipes(t *testing.T) {
	t.Parallel()
	reg := recipes.Builtin()
	check := func(name string, opts map[string]any) (any, error) {
		return reg.Build(name, recipes.Options(opts))
	}
	env := lookup(map[string]string{"EXPECT": "hunter2"})
	cfg, err := Parse("walnut.yaml", doc(`
sites:
  - name: API
    url: https://api.example.com
  - name: Rules
    url: https://rules.example.com
    recipe:
      name: rules
      rules:
        - when: 'status == 200'
  - name: Beat
    heartbeat: {every: 1m, token: "0123456789abcdef0123"}
`), env, check)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Sites {
		_, built := s.Recipe.(recipes.Recipe)
		if built != (s.RecipeName != "") {
			t.Errorf("site %s: recipe %q, built %T", s.Slug, s.RecipeName, s.Recipe)
		}
	}
	_, err = Parse("walnut.yaml", doc(`
sites:
  - name: Web
    url: https://web.example.com
    recipe: {name: status, expect: ["${EXPECT}"]}
`), env, check)
	if err == nil || !strings.Contains(err.Error(), "walnut.yaml:4:") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad recipe: %v; want it placed at line 4, without the value from the environment", err)
	}
}
