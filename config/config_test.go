package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // time zones in tests do not depend on the machine
)

// fakeCheck knows every recipe but "nope", and fails on an option "fail",
// quoting its value as a careless builder might.
func fakeCheck(name string, opts map[string]any) (any, error) {
	if name == "nope" {
		return nil, fmt.Errorf("unknown recipe %q", name)
	}
	if v, ok := opts["fail"]; ok {
		return nil, fmt.Errorf("bad option fail: %v", v)
	}
	return nil, nil
}

func lookup(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// doc trims the newline after the opening backquote, so line 1 of the YAML
// is the first line of the literal.
func doc(s string) []byte { return []byte(strings.TrimPrefix(s, "\n")) }

// errLines returns each joined error's message.
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, errLines(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

func parse(t *testing.T, yaml string, vars map[string]string) (*Config, error) {
	t.Helper()
	return Parse("walnut.yaml", doc(yaml), lookup(vars), fakeCheck)
}

func mustParse(t *testing.T, yaml string, vars map[string]string) *Config {
	t.Helper()
	cfg, err := parse(t, yaml, vars)
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%s", err)
	}
	return cfg
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{
			name: "UnknownKeyNamesSite",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    intervall: 5s
`,
			want: []string{`walnut.yaml:4:5: unknown key "intervall" in site "API"`},
		},
		{
			name: "UnknownKeyBeforeNameStillNamesSite",
			yaml: `
sites:
  - colour: red
    name: API
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:2:5: unknown key "colour" in site "API"`},
		},
		{
			name: "UnknownKeyInUnnamedSite",
			yaml: `
sites:
  - url: https://api.example.com
    colour: red
`,
			want: []string{
				`walnut.yaml:2:5: sites[0]: missing "name"`,
				`walnut.yaml:3:5: unknown key "colour" in sites[0]`,
			},
		},
		{
			name: "UnknownTopLevelKey",
			yaml: `
site:
  - name: API
sites:
  - name: API
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:1:1: unknown key "site" at the top level (expected defaults, sites, maintenance, roster, or x-… for anchors)`},
		},
		{
			name: "UnknownKeyInDefaults",
			yaml: `
defaults:
  intrval: 5s
sites:
  - name: API
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:2:3: unknown key "intrval" in defaults`},
		},
		{
			name: "SiteOnlyKeyInDefaults",
			yaml: `
defaults:
  url: https://api.example.com
sites:
  - name: API
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:2:3: defaults: "url" cannot have a default: set it on each site`},
		},
		{
			name: "BareIntegerDuration",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    interval: 5
`,
			want: []string{`walnut.yaml:4:15: sites[0].interval: "5" is not a duration (use a unit, e.g. "5s")`},
		},
		{
			name: "QuotedNumberDuration",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    timeout: "1.5"
`,
			want: []string{`walnut.yaml:4:14: sites[0].timeout: "1.5" is not a duration (use a unit, e.g. "1.5s")`},
		},
		{
			name: "WordIsNotADuration",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    max_pending: soon
`,
			want: []string{`walnut.yaml:4:18: sites[0].max_pending: "soon" is not a duration (e.g. "30s" or "1m")`},
		},
		{
			name: "MapIsNotADuration",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    interval: {seconds: 5}
`,
			want: []string{`walnut.yaml:4:15: sites[0].interval: expected a duration such as "30s", got a map`},
		},
		{
			name: "IntervalUnderMinimum",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    interval: 500ms
`,
			want: []string{`walnut.yaml:4:15: sites[0].interval: 500ms is under the minimum of 1s`},
		},
		{
			name: "TimeoutLongerThanInterval",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    timeout: 40s
`,
			want: []string{`walnut.yaml:4:14: sites[0].timeout: 40s is longer than the interval (30s)`},
		},
		{
			name: "TimeoutNotPositive",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    timeout: 0s
`,
			want: []string{`walnut.yaml:4:14: sites[0].timeout: 0s must be more than zero`},
		},
		{
			name: "NegativeMaxPending",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    max_pending: -1m
`,
			want: []string{`walnut.yaml:4:18: sites[0].max_pending: -1m must not be negative (0 means no limit)`},
		},
		{
			name: "SiteIntervalShorterThanDefaultTimeout",
			yaml: `
defaults:
  timeout: 20s
sites:
  - name: API
    url: https://api.example.com
    interval: 10s
  - name: Web
    url: https://web.example.com
`,
			want: []string{`walnut.yaml:6:15: sites[0].interval: 10s is shorter than the timeout (20s, from defaults)`},
		},
		{
			name: "DefaultTimeoutLongerThanDefaultIntervalReportedOnce",
			yaml: `
defaults:
  interval: 5s
  timeout: 6s
sites:
  - name: API
    url: https://api.example.com
  - name: Web
    url: https://web.example.com
`,
			want: []string{`walnut.yaml:3:12: defaults.timeout: 6s is longer than the interval (5s)`},
		},
		{
			name: "DuplicateExplicitSlug",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
  - name: API v2
    slug: api
    url: https://api.example.com/v2
`,
			want: []string{`walnut.yaml:5:11: sites[1].slug: duplicate slug "api" (first used at line 2)`},
		},
		{
			name: "DuplicateSlugFromName",
			yaml: `
sites:
  - name: API
    slug: api
    url: https://api.example.com
  - name: api!
    url: https://api.example.com/v2
`,
			want: []string{`walnut.yaml:5:11: sites[1].name: duplicate slug "api" (first used at line 3)`},
		},
		{
			// Both errors at once: fixing the URL must not reveal the
			// duplicate only on the next run.
			name: "DuplicateSlugOfSiteWithBadURL",
			yaml: `
sites:
  - name: API
    url: ftp://api.example.com
  - name: API
    url: https://api.example.com/v2
`,
			want: []string{
				`walnut.yaml:3:10: sites[0].url: "ftp://api.example.com" must be http, https, tcp or tls`,
				`walnut.yaml:4:11: sites[1].name: duplicate slug "api" (first used at line 2)`,
			},
		},
		{
			name: "BadExplicitSlug",
			yaml: `
sites:
  - name: API
    slug: My_API
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:3:11: sites[0].slug: "My_API" must be lower-case letters, digits and dashes, starting with a letter or digit`},
		},
		{
			name: "NameWithoutSlugCharacters",
			yaml: `
sites:
  - name: "!!!"
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:2:11: sites[0].name: cannot make a slug from "!!!": set slug`},
		},
		{
			name: "URLNotHTTP",
			yaml: `
sites:
  - name: API
    url: ftp://x
`,
			want: []string{`walnut.yaml:3:10: sites[0].url: "ftp://x" must be http, https, tcp or tls`},
		},
		{
			name: "URLWithoutHost",
			yaml: `
sites:
  - name: API
    url: https:///path
`,
			want: []string{`walnut.yaml:3:10: sites[0].url: "https:///path" has no host`},
		},
		{
			name: "URLDoesNotParse",
			yaml: `
sites:
  - name: API
    url: "http://[::1"
`,
			want: []string{`walnut.yaml:3:10: sites[0].url: "http://[::1" does not parse as a URL: missing ']' in host`},
		},
		{
			name: "MissingNameAndURL",
			yaml: `
sites:
  - group: Vendors
`,
			want: []string{
				`walnut.yaml:2:5: sites[0]: missing "name"`,
				`walnut.yaml:2:5: sites[0]: missing "url"`,
			},
		},
		{
			name: "MissingURLNamesSite",
			yaml: `
sites:
  - name: API
    group: Ours
`,
			want: []string{`walnut.yaml:2:5: sites[0]: missing "url" in site "API"`},
		},
		{
			name: "SelfMergingAnchor",
			yaml: `
x-loop: &loop {group: G, <<: *loop}
sites:
  - name: API
    url: https://api.example.com
    <<: *loop
`,
			want: []string{`walnut.yaml:1:15: sites[0]: merge keys (<<) nested too deeply`},
		},
		{
			name: "SelfReferencingOption",
			yaml: `
x-loop: &loop [*loop]
sites:
  - name: API
    url: https://api.example.com
    recipe: {name: status, o: *loop}
`,
			want: []string{`walnut.yaml:1:15: sites[0].recipe.o` + strings.Repeat("[0]", maxDepth+1) + `: value is nested too deeply or too large`},
		},
		{
			name: "EmptyName",
			yaml: `
sites:
  - name: ""
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:2:11: sites[0].name: must not be empty`},
		},
		{
			name: "ConfirmNotAnInteger",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    confirm: two
`,
			want: []string{`walnut.yaml:4:14: sites[0].confirm: expected an integer, got "two"`},
		},
		{
			name: "ConfirmUnderOne",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    confirm: 0
`,
			want: []string{`walnut.yaml:4:14: sites[0].confirm: 0 must be at least 1`},
		},
		{
			name: "FlapChangesUnderTwo",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    flapping: {changes: 1}
`,
			want: []string{`walnut.yaml:4:25: sites[0].flapping.changes: 1 must be at least 2 (or flapping: off)`},
		},
		{
			name: "FlapWithinNotPositive",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    flapping:
      within: 0s
`,
			want: []string{`walnut.yaml:5:15: sites[0].flapping.within: 0s must be more than zero`},
		},
		{
			name: "FlapSettleNotADuration",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    flapping: {settle: soon, within: 30}
`,
			want: []string{
				`walnut.yaml:4:24: sites[0].flapping.settle: "soon" is not a duration (e.g. "30s" or "1m")`,
				`walnut.yaml:4:38: sites[0].flapping.within: "30" is not a duration (use a unit, e.g. "30s")`,
			},
		},
		{
			name: "FlapUnknownKeyNamesSite",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    flapping: {changes: 3, window: 10m}
`,
			want: []string{`walnut.yaml:4:28: unknown key "window" in flapping of site "API" (expected changes, within, settle)`},
		},
		{
			name: "FlapNotOffOrMap",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    flapping: never
  - name: Web
    url: https://web.example.com
    flapping: [5, 30m]
`,
			want: []string{
				`walnut.yaml:4:15: sites[0].flapping: "never" is not one of off, on, or a map with changes, within and settle`,
				`walnut.yaml:7:15: sites[1].flapping: expected off, on, or a map with changes, within and settle, got a list`,
			},
		},
		{
			name: "FlapBadDefaultReportedOnce",
			yaml: `
defaults:
  flapping: {changes: 0, every: 1m}
sites:
  - name: API
    url: https://api.example.com
  - name: Web
    url: https://web.example.com
`,
			want: []string{
				`walnut.yaml:2:23: defaults.flapping.changes: 0 must be at least 2 (or flapping: off)`,
				`walnut.yaml:2:26: unknown key "every" in defaults.flapping (expected changes, within, settle)`,
			},
		},
		{
			name: "StringGotList",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    group: [a, b]
`,
			want: []string{`walnut.yaml:4:12: sites[0].group: expected a string, got a list`},
		},
		{
			name: "BadMethod",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    method: fetch
`,
			want: []string{`walnut.yaml:4:13: sites[0].method: "FETCH" is not an HTTP method (use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT, TRACE)`},
		},
		{
			name: "BadSeverity",
			yaml: `
defaults:
  severity: fatal
sites:
  - name: API
    url: https://api.example.com
`,
			want: []string{`walnut.yaml:2:13: defaults.severity: "fatal" is not one of critical, error, warning, info`},
		},
		{
			name: "BadNotify",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    notify: [slack, email]
`,
			want: []string{`walnut.yaml:4:21: sites[0].notify[1]: "email" is not one of pagerduty, slack, webhook`},
		},
		{
			name: "BadHeaders",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    headers:
      X-Token: a
      x-token: b
      "Bad Name": c
      X-List: [1]
`,
			want: []string{
				`walnut.yaml:6:7: sites[0].headers.x-token: header X-Token is also set at line 5 (names ignore case)`,
				`walnut.yaml:7:7: sites[0].headers.Bad Name: "Bad Name" is not a valid header name`,
				`walnut.yaml:8:15: sites[0].headers.X-List: expected a string, got a list`,
			},
		},
		{
			name: "SitesNotAList",
			yaml: `
sites:
  name: API
`,
			want: []string{`walnut.yaml:2:3: sites: expected a list, got a map`},
		},
		{
			name: "SiteNotAMap",
			yaml: `
sites:
  - https://api.example.com
`,
			want: []string{`walnut.yaml:2:5: sites[0]: expected a map, got "https://api.example.com"`},
		},
		{
			name: "NoSitesKey",
			yaml: `
defaults:
  interval: 1m
`,
			want: []string{`walnut.yaml:1:1: no sites: add a "sites" list`},
		},
		{
			name: "EmptySitesList",
			yaml: `
sites: []
`,
			want: []string{`walnut.yaml:1:1: sites: no sites: the list is empty`},
		},
		{
			name: "EmptyFile",
			yaml: `
# nothing here yet
`,
			want: []string{`walnut.yaml:1:1: no sites: the file is empty`},
		},
		{
			name: "TopLevelNotAMap",
			yaml: `
- name: API
`,
			want: []string{`walnut.yaml:1:1: expected a map, got a list`},
		},
		{
			name: "TwoDocuments",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
---
sites: []
`,
			want: []string{`walnut.yaml:4:1: only one YAML document is allowed (remove the second ---)`},
		},
		{
			name: "SyntaxError",
			yaml: `
sites:
  - name: API
    url: [https://api.example.com
`,
			want: []string{`walnut.yaml:3:10: sequence end token ']' not found`},
		},
		{
			name: "DuplicateKey",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    url: https://api.example.org
`,
			want: []string{`walnut.yaml:4:5: mapping key "url" already defined at [3:5]`},
		},
		{
			name: "MissingEnvVarNamed",
			yaml: `
sites:
  - name: CircleCI
    group: CI
    url: https://circleci.com/api/v2/project?circle-token=${CIRCLECI_TOKEN}
`,
			want: []string{`walnut.yaml:4:10: sites[0].url: environment variable "CIRCLECI_TOKEN" is not set`},
		},
		{
			name: "EveryMissingEnvVarNamed",
			yaml: `
sites:
  - name: API
    url: https://${HOST}/x
    headers:
      Authorization: ${USER}:${PASS}
`,
			env: map[string]string{"HOST": "api.example.com"},
			want: []string{
				`walnut.yaml:5:22: sites[0].headers.Authorization: environment variable "USER" is not set`,
				`walnut.yaml:5:22: sites[0].headers.Authorization: environment variable "PASS" is not set`,
			},
		},
		{
			name: "MalformedReference",
			yaml: `
sites:
  - name: API
    url: https://api.example.com/?t=${API-TOKEN}
`,
			want: []string{`walnut.yaml:3:10: sites[0].url: "${API-TOKEN}" is not a valid reference: write ${NAME} with letters, digits and _, or $${ for a literal ${`},
		},
		{
			name: "UnclosedReference",
			yaml: `
sites:
  - name: API
    url: https://api.example.com/
    body: "{\"a\": \"${A\"}"
`,
			want: []string{`walnut.yaml:4:11: sites[0].body: "${A\"}" is not a valid reference: write ${NAME} with letters, digits and _, or $${ for a literal ${`},
		},
		{
			name: "URLErrorQuotesRawNotSecret",
			yaml: `
sites:
  - name: API
    url: ftp://${HOST}/?token=${TOKEN}
`,
			env:  map[string]string{"HOST": "internal.example.com", "TOKEN": "hunter2"},
			want: []string{`walnut.yaml:3:10: sites[0].url: "ftp://${HOST}/?token=${TOKEN}" must be http, https, tcp or tls`},
		},
		{
			name: "URLParseErrorFromEnvHidesDetail",
			yaml: `
sites:
  - name: API
    url: ${URL}
`,
			env:  map[string]string{"URL": "http://[hunter2"},
			want: []string{`walnut.yaml:3:10: sites[0].url: "${URL}" does not parse as a URL`},
		},
		{
			name: "DurationFromEnvQuotesRaw",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    interval: ${EVERY}
`,
			env:  map[string]string{"EVERY": "hunter2"},
			want: []string{`walnut.yaml:4:15: sites[0].interval: "${EVERY}" is not a duration (e.g. "30s" or "1m")`},
		},
		{
			name: "HeaderLineBreakFromEnv",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    headers:
      Authorization: Bearer ${TOKEN}
`,
			env:  map[string]string{"TOKEN": "hunter2\r\nX-Evil: 1"},
			want: []string{`walnut.yaml:5:22: sites[0].headers.Authorization: "Bearer ${TOKEN}" holds a line break from the environment; a header value is one line, without control characters but tabs`},
		},
		{
			name: "ValuesFromEnvNeverShown",
			yaml: `
sites:
  - name: API
    slug: ${SLUG}
    url: https://api.example.com
    confirm: ${CONFIRM}
    recipe: ${RECIPE}
  - name: Web
    slug: ${SLUG}
    url: https://web.example.com
`,
			env: map[string]string{"SLUG": "hunter2", "CONFIRM": "-7", "RECIPE": "nope"},
			want: []string{
				`walnut.yaml:5:14: sites[0].confirm: "${CONFIRM}" must be at least 1`,
				`walnut.yaml:6:13: sites[0].recipe: unknown recipe "***"`,
				`walnut.yaml:8:11: sites[1].slug: duplicate slug "${SLUG}" (first used at line 3)`,
			},
		},
		{
			name: "RecipeBuilderErrorAtRecipeLine",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
  - name: Web
    url: https://web.example.com
    recipe: nope
`,
			want: []string{`walnut.yaml:6:13: sites[1].recipe: unknown recipe "nope"`},
		},
		{
			name: "RecipeBuilderErrorScrubbed",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    recipe:
      name: status
      fail: ${TOKEN}
`,
			env:  map[string]string{"TOKEN": "hunter2"},
			want: []string{`walnut.yaml:5:7: sites[0].recipe: bad option fail: ***`},
		},
		{
			name: "DefaultRecipeErrorReportedOnce",
			yaml: `
defaults:
  recipe: {name: nope}
sites:
  - name: API
    url: https://api.example.com
  - name: Web
    url: https://web.example.com
`,
			want: []string{`walnut.yaml:2:11: defaults.recipe: unknown recipe "nope"`},
		},
		{
			name: "RecipeMapWithoutName",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    recipe: {expect: [200]}
`,
			want: []string{`walnut.yaml:4:13: sites[0].recipe: missing "name" (the recipe to use, e.g. status)`},
		},
		{
			name: "RecipeOfWrongType",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
    recipe: [status]
`,
			want: []string{`walnut.yaml:4:13: sites[0].recipe: expected a recipe name, or a map with name: and options, got a list`},
		},
		{
			name: "UnknownAlias",
			yaml: `
sites:
  - name: API
    url: *nowhere
`,
			want: []string{`walnut.yaml:3:10: sites[0].url: unknown alias *nowhere (no &nowhere before it)`},
		},
		{
			name: "MaintenanceBadTimezone",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    weekly: {days: [sun], start: "02:00", end: "03:00", timezone: Mars/Olympus}
`,
			want: []string{`walnut.yaml:6:67: maintenance[0].weekly.timezone: unknown time zone "Mars/Olympus" (use an IANA name such as "Europe/Paris")`},
		},
		{
			name: "MaintenanceBadDay",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    weekly:
      days: [mon, funday]
      start: "02:00"
      end: "03:00"
`,
			want: []string{`walnut.yaml:7:19: maintenance[0].weekly.days[1]: "funday" is not a day (use mon, tue, wed, thu, fri, sat or sun)`},
		},
		{
			name: "MaintenanceBadClock",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    weekly:
      days: [mon]
      start: "25:00"
      end: "02:00"
`,
			want: []string{`walnut.yaml:8:14: maintenance[0].weekly.start: "25:00" is not a time of day (use HH:MM, e.g. "22:30")`},
		},
		{
			name: "MaintenanceWeeklyMissingEnd",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    weekly:
      days: [mon]
      start: "02:00"
`,
			want: []string{`walnut.yaml:7:7: maintenance[0].weekly: missing "end"`},
		},
		{
			name: "MaintenanceToBeforeFrom",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    from: 2026-03-01T22:00:00Z
    to: 2026-03-01T21:00:00Z
`,
			want: []string{`walnut.yaml:7:9: maintenance[0].to: must be after from`},
		},
		{
			name: "MaintenanceBadTime",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    from: 2026-03-01 22:00
    to: 2026-03-01T23:00:00Z
`,
			want: []string{`walnut.yaml:6:11: maintenance[0].from: "2026-03-01 22:00" is not an RFC 3339 time (e.g. "2026-03-01T22:00:00Z")`},
		},
		{
			name: "MaintenanceBothKinds",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    from: 2026-03-01T22:00:00Z
    to: 2026-03-01T23:00:00Z
    weekly: {days: [mon], start: "01:00", end: "02:00"}
`,
			want: []string{`walnut.yaml:5:5: maintenance[0]: give from and to, or weekly, not both`},
		},
		{
			name: "MaintenanceNeitherKind",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    reason: upgrade
`,
			want: []string{`walnut.yaml:5:5: maintenance[0]: give from and to (a one-off window), or weekly`},
		},
		{
			name: "MaintenanceFromWithoutTo",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    from: 2026-03-01T22:00:00Z
`,
			want: []string{`walnut.yaml:5:5: maintenance[0]: missing "to"`},
		},
		{
			name: "MaintenanceUnknownSlugAndBadPattern",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [apii, "db-[", "web-*"]
    from: 2026-03-01T22:00:00Z
    to: 2026-03-01T23:00:00Z
    why: upgrade
`,
			want: []string{
				`walnut.yaml:5:13: maintenance[0].sites[0]: no site has the slug "apii"`,
				`walnut.yaml:5:19: maintenance[0].sites[1]: "db-[" is not a valid pattern (use * and ? as in path.Match)`,
				`walnut.yaml:8:5: unknown key "why" in maintenance[0]`,
			},
		},
		{
			name: "MaintenanceMissingSites",
			yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - from: 2026-03-01T22:00:00Z
    to: 2026-03-01T23:00:00Z
`,
			want: []string{`walnut.yaml:5:5: maintenance[0]: missing "sites" (slugs, or patterns such as "db-*" or "*")`},
		},
		{
			name: "MultipleErrorsJoinedInFileOrder",
			yaml: `
maintenance:
  - sites: [api]
    weekly: {days: [someday], start: "01:00", end: "02:00"}
defaults:
  confirm: many
sites:
  - name: API
    url: ftp://api.example.com
    interval: 5
  - name: Web
    url: https://web.example.com
    severity: low
`,
			want: []string{
				`walnut.yaml:3:21: maintenance[0].weekly.days[0]: "someday" is not a day (use mon, tue, wed, thu, fri, sat or sun)`,
				`walnut.yaml:5:12: defaults.confirm: expected an integer, got "many"`,
				`walnut.yaml:8:10: sites[0].url: "ftp://api.example.com" must be http, https, tcp or tls`,
				`walnut.yaml:9:15: sites[0].interval: "5" is not a duration (use a unit, e.g. "5s")`,
				`walnut.yaml:12:15: sites[1].severity: "low" is not one of critical, error, warning, info`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parse(t, tt.yaml, tt.env)
			if err == nil {
				t.Fatalf("Parse succeeded (%d sites), want errors:\n%s", len(cfg.Sites), strings.Join(tt.want, "\n"))
			}
			if cfg != nil {
				t.Errorf("Parse returned a config with its error")
			}
			got := errLines(err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
			for _, v := range tt.env {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error shows the value of an environment variable %q:\n%s", v, err)
				}
			}
			for _, e := range errLines(err) {
				if !strings.HasPrefix(e, "walnut.yaml:") {
					t.Errorf("error without file and line: %s", e)
				}
			}
		})
	}
}

func TestParseErrorValues(t *testing.T) {
	t.Parallel()
	_, err := parse(t, `
sites:
  - name: API
    url: https://api.example.com
    interval: 5
    recipe: nope
`, nil)
	var errs []*Error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var ce *Error
			if !errors.As(e, &ce) {
				t.Fatalf("%v is not a *config.Error", e)
			}
			errs = append(errs, ce)
		}
	}
	if len(errs) != 2 {
		t.Fatalf("got %d errors, want 2: %v", len(errs), err)
	}
	want := Error{File: "walnut.yaml", Line: 4, Column: 15, Path: "sites[0].interval", Msg: `"5" is not a duration (use a unit, e.g. "5s")`}
	if got := *errs[0]; got.File != want.File || got.Line != want.Line || got.Column != want.Column || got.Path != want.Path || got.Msg != want.Msg {
		t.Errorf("first error = %+v, want %+v", got, want)
	}
	if errs[1].Unwrap() == nil || !strings.Contains(errs[1].Unwrap().Error(), "unknown recipe") {
		t.Errorf("recipe error does not wrap the builder's error: %v", errs[1].Unwrap())
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()

	t.Run("BuiltInDefaults", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
sites:
  - name: API
    url: https://api.example.com/health
`, nil)
		want := Site{
			Name: "API", Slug: "api",
			URL: "https://api.example.com/health", RedactedURL: "https://api.example.com/health",
			Method: "GET", Interval: 30 * time.Second, Timeout: 10 * time.Second, Confirm: 1,
			RecipeName: "status", RecipeLine: 2,
			Severity: "critical", Line: 2,
			Flapping: Flapping{Changes: 5, Within: 30 * time.Minute, Settle: 10 * time.Minute},
			Kind:     KindHTTP, CertWarning: 14 * 24 * time.Hour, CertCritical: 2 * 24 * time.Hour,
		}
		if !reflect.DeepEqual(cfg.Sites, []Site{want}) {
			t.Errorf("site:\n got %+v\nwant %+v", cfg.Sites[0], want)
		}
		if cfg.Path != "walnut.yaml" {
			t.Errorf("Path = %q", cfg.Path)
		}
	})

	t.Run("SiteOverridesDefaultsAndHeadersMerge", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
defaults:
  group: Vendors
  method: head
  interval: 1m
  timeout: 20s
  confirm: 2
  max_pending: 1h
  notify: [pagerduty, slack]
  severity: warning
  recipe: {name: statuspage, component: API}
  headers:
    User-Agent: walnut
    Authorization: Bearer default
  flapping: {changes: 3, within: 10m}
sites:
  - name: Inherits
    url: https://a.example.com
  - name: Overrides
    url: https://b.example.com
    group: Ours
    method: post
    body: '{"ping": true}'
    interval: 2m
    timeout: 1m
    confirm: 3
    max_pending: 0s
    notify: []
    severity: info
    recipe: status
    headers:
      authorization: Bearer mine
      X-Extra: "1"
    flapping: {settle: 1m}
`, nil)
		a, b := cfg.Sites[0], cfg.Sites[1]
		wantA := Site{
			Name: "Inherits", Slug: "inherits", Group: "Vendors",
			URL: "https://a.example.com", RedactedURL: "https://a.example.com",
			Method: "HEAD", Headers: map[string]string{"User-Agent": "walnut", "Authorization": "Bearer default"},
			Interval: time.Minute, Timeout: 20 * time.Second, Confirm: 2,
			RecipeName: "statuspage", RecipeOptions: map[string]any{"component": "API"}, RecipeLine: 10,
			MaxPending: time.Hour, Notify: []string{"pagerduty", "slack"}, Severity: "warning", Line: 16,
			Flapping: Flapping{Changes: 3, Within: 10 * time.Minute, Settle: DefaultFlapSettle},
			Kind:     KindHTTP, CertWarning: DefaultCertWarning, CertCritical: DefaultCertCritical,
		}
		if !reflect.DeepEqual(a, wantA) {
			t.Errorf("inheriting site:\n got %+v\nwant %+v", a, wantA)
		}
		wantB := Site{
			Name: "Overrides", Slug: "overrides", Group: "Ours",
			URL: "https://b.example.com", RedactedURL: "https://b.example.com",
			Method: "POST", Headers: map[string]string{"User-Agent": "walnut", "Authorization": "Bearer mine", "X-Extra": "1"},
			Body:     `{"ping": true}`,
			Interval: 2 * time.Minute, Timeout: time.Minute, Confirm: 3,
			RecipeName: "status", RecipeLine: 29,
			MaxPending: 0, Notify: []string{}, Severity: "info", Line: 18,
			// The site's settle, the defaults' changes and within.
			Flapping: Flapping{Changes: 3, Within: 10 * time.Minute, Settle: time.Minute},
			Kind:     KindHTTP, CertWarning: DefaultCertWarning, CertCritical: DefaultCertCritical,
		}
		if !reflect.DeepEqual(b, wantB) {
			t.Errorf("overriding site:\n got %+v\nwant %+v", b, wantB)
		}
	})

	t.Run("TimeoutFollowsShortInterval", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
defaults:
  interval: 5s
sites:
  - name: Fast
    url: https://a.example.com
  - name: Faster
    url: https://b.example.com
    interval: 2s
  - name: Slow
    url: https://c.example.com
    interval: 1m
  - name: Explicit
    url: https://d.example.com
    timeout: 3s
`, nil)
		want := []time.Duration{5 * time.Second, 2 * time.Second, 10 * time.Second, 3 * time.Second}
		for i, s := range cfg.Sites {
			if s.Timeout != want[i] {
				t.Errorf("%s: Timeout = %s, want %s", s.Name, s.Timeout, want[i])
			}
		}
	})

	t.Run("EmptySectionsAreEmpty", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
defaults:
maintenance:
sites:
  - name: API
    url: |
      https://api.example.com
    headers:
`, nil)
		if len(cfg.Sites) != 1 || len(cfg.Maintenance) != 0 || cfg.Sites[0].URL != "https://api.example.com" || cfg.Sites[0].Headers != nil {
			t.Errorf("config = %+v", cfg)
		}
	})

	t.Run("DefaultTimeoutFitsEverySiteInterval", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
defaults:
  timeout: 40s
sites:
  - name: API
    url: https://api.example.com
    interval: 1m
`, nil)
		if s := cfg.Sites[0]; s.Timeout != 40*time.Second || s.Interval != time.Minute {
			t.Errorf("timeout %s, interval %s", s.Timeout, s.Interval)
		}
	})

	t.Run("AnchorsAndMergeKeys", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
x-ci: &ci
  group: CI
  interval: 2m
sites:
  - name: Build
    url: https://ci.example.com
    <<: *ci
  - name: Deploy
    url: https://cd.example.com
    <<: *ci
    interval: 5m
`, nil)
		if got := cfg.Sites[0]; got.Group != "CI" || got.Interval != 2*time.Minute {
			t.Errorf("merged site: group %q interval %s", got.Group, got.Interval)
		}
		if got := cfg.Sites[1]; got.Group != "CI" || got.Interval != 5*time.Minute {
			t.Errorf("overriding merged site: group %q interval %s", got.Group, got.Interval)
		}
	})
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"GitHub API (v3)":     "github-api-v3",
		"API":                 "api",
		"  Checkout -- API  ": "checkout-api",
		"Café au lait":        "caf-au-lait",
		"a_b.c/d":             "a-b-c-d",
		"2024 Build":          "2024-build",
		"!!!":                 "",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Slugify(name); got != want {
				t.Errorf("Slugify(%q) = %q, want %q", name, got, want)
			}
		})
	}
}

func TestParseSlugs(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, `
sites:
  - name: GitHub API (v3)
    url: https://api.github.com
  - name: Checkout
    slug: checkout-prod
    url: https://checkout.example.com
`, nil)
	if got := []string{cfg.Sites[0].Slug, cfg.Sites[1].Slug}; !reflect.DeepEqual(got, []string{"github-api-v3", "checkout-prod"}) {
		t.Errorf("slugs = %q", got)
	}
}

func TestParseEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"TOKEN":   "s3cret-token",
		"HOST":    "api.example.com",
		"USER":    "bot",
		"PASS":    "pa55",
		"GROUP":   "Vendors",
		"EMPTY":   "",
		"CONFIRM": "3",
		"EVERY":   "45s",
	}

	t.Run("ExpandsEveryStringAndListsSecrets", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
sites:
  - name: API
    group: ${GROUP}
    url: https://${USER}:${PASS}@${HOST}/v1/status?token=${TOKEN}&x=${EMPTY}#top
    interval: ${EVERY}
    confirm: ${CONFIRM}
    headers:
      Authorization: Bearer ${TOKEN}
    body: '{"user": "${USER}"}'
    recipe:
      name: rules
      token: ${TOKEN}
      rules: [{when: "status == 200", say: ok}]
`, env)
		s := cfg.Sites[0]
		if s.URL != "https://bot:pa55@api.example.com/v1/status?token=s3cret-token&x=#top" {
			t.Errorf("URL = %q", s.URL)
		}
		if s.RedactedURL != "https://api.example.com/v1/status" {
			t.Errorf("RedactedURL = %q", s.RedactedURL)
		}
		if s.Group != "Vendors" || s.Interval != 45*time.Second || s.Confirm != 3 {
			t.Errorf("group %q, interval %s, confirm %d", s.Group, s.Interval, s.Confirm)
		}
		if s.Headers["Authorization"] != "Bearer s3cret-token" || s.Body != `{"user": "bot"}` {
			t.Errorf("headers %q, body %q", s.Headers, s.Body)
		}
		if s.RecipeOptions["token"] != "s3cret-token" {
			t.Errorf("recipe options = %v", s.RecipeOptions)
		}
		// Longest first; GROUP, EVERY and CONFIRM are not secrets; EMPTY
		// has nothing to scrub.
		want := []string{"api.example.com", "s3cret-token", "pa55", "bot"}
		if !reflect.DeepEqual(s.Secrets, want) {
			t.Errorf("Secrets = %q, want %q", s.Secrets, want)
		}
	})

	t.Run("EscapesAndLoneDollars", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
sites:
  - name: Costs $5
    url: https://api.example.com/$path
    body: "literal $${TOKEN}, price $$ and ${TOKEN}"
`, env)
		s := cfg.Sites[0]
		if s.Name != "Costs $5" || s.URL != "https://api.example.com/$path" {
			t.Errorf("name %q, url %q", s.Name, s.URL)
		}
		if want := "literal ${TOKEN}, price $$ and s3cret-token"; s.Body != want {
			t.Errorf("Body = %q, want %q", s.Body, want)
		}
		if !reflect.DeepEqual(s.Secrets, []string{"s3cret-token"}) {
			t.Errorf("Secrets = %q", s.Secrets)
		}
	})

	t.Run("NilLookupMeansNothingIsSet", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("walnut.yaml", doc(`
sites:
  - name: API
    url: https://${HOST}/
`), nil, nil)
		want := []string{`walnut.yaml:3:10: sites[0].url: environment variable "HOST" is not set`}
		if got := errLines(err); !reflect.DeepEqual(got, want) {
			t.Errorf("errors = %q, want %q", got, want)
		}
	})
}

func TestExpand(t *testing.T) {
	t.Parallel()
	env := lookup(map[string]string{"A": "1", "B_2": "two", "E": ""})
	tests := []struct {
		name, in, want string
		missing        []string
		bad            string
	}{
		{name: "Plain", in: "no refs", want: "no refs"},
		{name: "One", in: "x${A}y", want: "x1y"},
		{name: "Several", in: "${A}${B_2}${A}", want: "1two1"},
		{name: "Empty", in: "[${E}]", want: "[]"},
		{name: "Escaped", in: "$${A}", want: "${A}"},
		{name: "LoneDollar", in: "$A $ $$ $", want: "$A $ $$ $"},
		{name: "Missing", in: "${A}${NOPE}", want: "1", missing: []string{"NOPE"}},
		{name: "BadName", in: "${1A}", want: "${1A}", bad: "${1A}"},
		{name: "Unclosed", in: "x${A", want: "x${A", bad: "${A"},
		{name: "EmptyName", in: "${}", want: "${}", bad: "${}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := expand(tt.in, env)
			if x.value != tt.want || !reflect.DeepEqual(x.missing, tt.missing) || x.bad != tt.bad {
				t.Errorf("expand(%q) = %q, missing %q, bad %q; want %q, %q, %q", tt.in, x.value, x.missing, x.bad, tt.want, tt.missing, tt.bad)
			}
		})
	}
}

func TestParseRedactedURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"StripsQuery":    "https://api.example.com/v1?token=abc",
		"StripsUserinfo": "https://user:pw@api.example.com/v1",
		"StripsFragment": "https://api.example.com/v1#section",
		"KeepsPort":      "http://localhost:8080/v1",
	}
	want := map[string]string{
		"StripsQuery":    "https://api.example.com/v1",
		"StripsUserinfo": "https://api.example.com/v1",
		"StripsFragment": "https://api.example.com/v1",
		"KeepsPort":      "http://localhost:8080/v1",
	}
	for name, u := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := mustParse(t, fmt.Sprintf("sites:\n  - name: A\n    url: %q\n", u), nil)
			if got := cfg.Sites[0].RedactedURL; got != want[name] {
				t.Errorf("RedactedURL = %q, want %q", got, want[name])
			}
			if got := cfg.Sites[0].URL; got != u {
				t.Errorf("URL = %q, want %q", got, u)
			}
		})
	}
}

func TestParseRecipe(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, `
sites:
  - name: Plain
    url: https://a.example.com
  - name: Named
    url: https://b.example.com
    recipe: circleci
  - name: Options
    url: https://c.example.com
    recipe:
      name: status
      expect: [200, "3xx"]
      pending: 202
      ratio: 0.5
      strict: true
      nothing:
      nested: {a: [1, {b: c}]}
`, nil)
	wantOpts := map[string]any{
		"expect":  []any{200, "3xx"},
		"pending": 202,
		"ratio":   0.5,
		"strict":  true,
		"nothing": nil,
		"nested":  map[string]any{"a": []any{1, map[string]any{"b": "c"}}},
	}
	tests := []struct {
		name string
		opts map[string]any
		line int // of the recipe's value, or of the site without one
	}{{"status", nil, 2}, {"circleci", nil, 6}, {"status", wantOpts, 10}}
	for i, tt := range tests {
		s := cfg.Sites[i]
		if s.RecipeName != tt.name || !reflect.DeepEqual(s.RecipeOptions, tt.opts) {
			t.Errorf("%s: recipe %q %#v, want %q %#v", s.Name, s.RecipeName, s.RecipeOptions, tt.name, tt.opts)
		}
		if s.RecipeLine != tt.line {
			t.Errorf("%s: RecipeLine = %d, want %d", s.Name, s.RecipeLine, tt.line)
		}
	}

	t.Run("NoCheckTakesAnyName", func(t *testing.T) {
		t.Parallel()
		cfg, err := Parse("walnut.yaml", doc(`
sites:
  - name: A
    url: https://a.example.com
    recipe: nope
`), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Sites[0].RecipeName != "nope" {
			t.Errorf("RecipeName = %q", cfg.Sites[0].RecipeName)
		}
	})
}

func TestParseFlapping(t *testing.T) {
	t.Parallel()
	def := DefaultFlapping()
	tests := []struct {
		name string
		yaml string
		want []Flapping // per site
	}{
		{
			name: "OffOnAndMaps",
			yaml: `
sites:
  - {name: A, url: "https://a.example.com"}
  - {name: B, url: "https://b.example.com", flapping: off}
  - {name: C, url: "https://c.example.com", flapping: false}
  - {name: D, url: "https://d.example.com", flapping: on}
  - {name: E, url: "https://e.example.com", flapping: {changes: 3}}
  - {name: F, url: "https://f.example.com", flapping: {changes: "${FLAPS}", within: 1h, settle: 90s}}
  - {name: G, url: "https://g.example.com", flapping: }
`,
			want: []Flapping{
				def, {Off: true}, {Off: true}, def,
				{Changes: 3, Within: DefaultFlapWithin, Settle: DefaultFlapSettle},
				{Changes: 8, Within: time.Hour, Settle: 90 * time.Second},
				def,
			},
		},
		{
			name: "SiteKeysOverrideDefaultsOneByOne",
			yaml: `
defaults:
  flapping: {changes: 4, within: 1h}
sites:
  - {name: A, url: "https://a.example.com"}
  - {name: B, url: "https://b.example.com", flapping: {within: 5m}}
  - {name: C, url: "https://c.example.com", flapping: off}
  - {name: D, url: "https://d.example.com", flapping: on}
`,
			want: []Flapping{
				{Changes: 4, Within: time.Hour, Settle: DefaultFlapSettle},
				{Changes: 4, Within: 5 * time.Minute, Settle: DefaultFlapSettle},
				{Off: true},
				{Changes: 4, Within: time.Hour, Settle: DefaultFlapSettle},
			},
		},
		{
			name: "SiteTurnsDampingBackOn",
			yaml: `
defaults:
  flapping: off
sites:
  - {name: A, url: "https://a.example.com"}
  - {name: B, url: "https://b.example.com", flapping: on}
  - {name: C, url: "https://c.example.com", flapping: {settle: 1m}}
`,
			want: []Flapping{
				{Off: true},
				def,
				{Changes: DefaultFlapChanges, Within: DefaultFlapWithin, Settle: time.Minute},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := mustParse(t, tt.yaml, map[string]string{"FLAPS": "8"})
			var got []Flapping
			for _, s := range cfg.Sites {
				got = append(got, s.Flapping)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("flapping:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseMaintenance(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, `
sites:
  - name: API
    url: https://api.example.com
  - name: DB primary
    url: https://db1.example.com
maintenance:
  - sites: [api]
    from: 2026-03-01T22:00:00+01:00
    to: 2026-03-02T01:00:00+01:00
    reason: Database upgrade
  - sites: ["db-*"]
    weekly:
      days: [sun, Wed]
      start: 2:30
      end: "24:00"
      timezone: Europe/Paris
  - sites: ["*"]
    weekly: {days: [sat], start: "23:00", end: "01:00"}
`, nil)
	if len(cfg.Maintenance) != 3 {
		t.Fatalf("got %d windows, want 3", len(cfg.Maintenance))
	}
	once, weekly, overnight := cfg.Maintenance[0], cfg.Maintenance[1], cfg.Maintenance[2]
	cet := time.FixedZone("", 3600)
	if !once.From.Equal(time.Date(2026, 3, 1, 22, 0, 0, 0, cet)) || !once.To.Equal(time.Date(2026, 3, 2, 1, 0, 0, 0, cet)) {
		t.Errorf("one-off window %s to %s", once.From, once.To)
	}
	if once.Weekly != nil || once.Reason != "Database upgrade" || once.Line != 7 || !reflect.DeepEqual(once.Sites, []string{"api"}) {
		t.Errorf("one-off window = %+v", once)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	wantWeekly := &Weekly{Days: []time.Weekday{time.Sunday, time.Wednesday}, Start: "02:30", End: "24:00", Location: paris}
	if !reflect.DeepEqual(weekly.Weekly, wantWeekly) || !weekly.From.IsZero() || weekly.Line != 11 {
		t.Errorf("weekly window = %+v %+v", weekly, weekly.Weekly)
	}
	if w := overnight.Weekly; w.Location != time.UTC || w.Start != "23:00" || w.End != "01:00" {
		t.Errorf("overnight window = %+v", w)
	}
	matches := map[string][]bool{
		"api":        {true, false, true},
		"db-primary": {false, true, true},
	}
	for slug, want := range matches {
		for i, m := range cfg.Maintenance {
			if got := m.Matches(slug); got != want[i] {
				t.Errorf("window %d Matches(%q) = %v, want %v", i, slug, got, want[i])
			}
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("ReadsFileAndNamesItInErrors", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "walnut.yaml")
		if err := os.WriteFile(path, []byte("sites:\n  - name: A\n    url: https://a.example.com\n    intervall: 1m\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, nil, fakeCheck)
		want := path + `:4:5: unknown key "intervall" in site "A"`
		if got := errLines(err); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("errors = %q, want %q", got, want)
		}
	})

	t.Run("MissingFile", func(t *testing.T) {
		t.Parallel()
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil, fakeCheck)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want one wrapping os.ErrNotExist", err)
		}
	})
}
