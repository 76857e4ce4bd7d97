package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/walnut-board/walnut/recipes"
)

// TestParseControlCharacters: a value Walnut stores or shows holds no
// control character and no bytes that are not UTF-8, whether written in the
// file or brought in by ${NAME}; each is an error at the value's line and
// column, and a value from the environment is never shown.
func TestParseControlCharacters(t *testing.T) {
	t.Parallel()
	const line = "it must be one line of UTF-8 text without control characters"
	tests := map[string]struct {
		yaml string
		env  map[string]string
		want []string
	}{
		"NULInName": {yaml: `
sites:
  - name: "Bad\0thing"
    url: https://api.example.com
`, want: []string{`walnut.yaml:2:11: sites[0].name: "Bad\x00thing" holds a NUL; ` + line}},
		"EscapeInGroup": {yaml: `
sites:
  - name: API
    group: "Apps\e[2J"
    url: https://api.example.com
`, want: []string{`walnut.yaml:3:12: sites[0].group: "Apps\x1b[2J" holds a control character (U+001B); ` + line}},
		"LineBreakInName": {yaml: `
sites:
  - name: "API\nBilling"
    url: https://api.example.com
`, want: []string{`walnut.yaml:2:11: sites[0].name: "API\nBilling" holds a line break; ` + line}},
		"C1InName": {yaml: `
sites:
  - name: "API\x9b2J"
    url: https://api.example.com
`, want: []string{`walnut.yaml:2:11: sites[0].name: "API\u009b2J" holds a control character (U+009B); ` + line}},
		"NULInDefaultGroup": {yaml: `
defaults:
  group: "A\0"
sites:
  - name: API
    url: https://api.example.com
`, want: []string{`walnut.yaml:2:10: defaults.group: "A\x00" holds a NUL; ` + line}},
		"NULInMaintenanceReason": {yaml: `
sites:
  - name: API
    url: https://api.example.com
maintenance:
  - sites: [api]
    from: 2026-12-01T22:00:00Z
    to: 2026-12-01T23:00:00Z
    reason: "db\0upgrade"
`, want: []string{`walnut.yaml:8:13: maintenance[0].reason: "db\x00upgrade" holds a NUL; ` + line}},
		"NULInRecipeOption": {yaml: `
sites:
  - name: API
    url: https://api.example.com
    recipe:
      name: rules
      rules:
        - {when: 'status == 200', reason: "up\0"}
`, want: []string{`walnut.yaml:7:43: sites[0].recipe.rules[0].reason: "up\x00" holds a NUL; a recipe option is UTF-8 text without control characters but tabs and line breaks`}},
		"ControlInHeader": {yaml: `
sites:
  - name: API
    url: https://api.example.com
    headers: {X-Token: "a\x01b"}
`, want: []string{`walnut.yaml:4:24: sites[0].headers.X-Token: "a\x01b" holds a control character (U+0001); a header value is one line, without control characters but tabs`}},
		"NULFromEnvInName": {yaml: `
sites:
  - name: ${SITE_NAME}
    url: https://api.example.com
`, env: map[string]string{"SITE_NAME": "s3cret\x00name"},
			want: []string{`walnut.yaml:2:11: sites[0].name: "${SITE_NAME}" holds a NUL from the environment; ` + line}},
		"LineBreakFromEnvInGroup": {yaml: `
sites:
  - name: API
    group: Team ${TEAM}
    url: https://api.example.com
`, env: map[string]string{"TEAM": "s3cret\nteam"},
			want: []string{`walnut.yaml:3:12: sites[0].group: "Team ${TEAM}" holds a line break from the environment; ` + line}},
		"NotUTF8FromEnv": {yaml: `
sites:
  - name: API
    url: https://api.example.com/${PATH_PART}
`, env: map[string]string{"PATH_PART": "s3cret\xff"},
			want: []string{`walnut.yaml:3:10: sites[0].url: "https://api.example.com/${PATH_PART}" holds bytes that are not UTF-8 from the environment; ` + line}},
		"NULFromEnvInRecipeOption": {yaml: `
sites:
  - name: API
    url: https://api.example.com
    recipe: {name: rules, rules: [{when: 'true', reason: "${WHY}"}]}
`, env: map[string]string{"WHY": "s3cret\x00why"},
			want: []string{`walnut.yaml:4:58: sites[0].recipe.rules[0].reason: "${WHY}" holds a NUL from the environment; a recipe option is UTF-8 text without control characters but tabs and line breaks`}},
		"EveryOneReported": {yaml: `
sites:
  - name: "A\0"
    url: https://a.example.com
  - name: B
    group: "\x7f"
    url: https://b.example.com
`, want: []string{
			`walnut.yaml:2:11: sites[0].name: "A\x00" holds a NUL; ` + line,
			`walnut.yaml:5:12: sites[1].group: "\x7f" holds a control character (U+007F); ` + line,
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, tt.yaml, tt.env)
			got := errLines(err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("an error shows a value from the environment:\n%s", err)
			}
		})
	}
}

// TestParseTextAllowed: what each value may hold stays allowed.
func TestParseTextAllowed(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, `
sites:
  - name: Zoë's API ✓
    group: "Apps "
    url: |
      https://api.example.com
    method: POST
    headers: {X-Tabbed: "a\tb", X-Latin: "${LATIN}"}
    body: "\0binary\x01\n"
    recipe:
      name: rules
      rules:
        - when: |
            status == 200
            && body != ""
          reason: |
            all good
`, map[string]string{"LATIN": "caf\xe9"})
	s := cfg.Sites[0]
	if s.Name != "Zoë's API ✓" || s.Headers["X-Tabbed"] != "a\tb" || s.Headers["X-Latin"] != "caf\xe9" || s.Body != "\x00binary\x01\n" {
		t.Errorf("site = %+v", s)
	}
}

// TestRulesReasonOneLine: a rules reason lands on a tile and in a page, so
// a line break inside it is refused at its line; one at its end (a block
// scalar's) is trimmed.
func TestRulesReasonOneLine(t *testing.T) {
	t.Parallel()
	reg := recipes.Builtin()
	check := func(name string, opts map[string]any) (any, error) {
		return reg.Build(name, recipes.Options(opts))
	}
	_, err := Parse("walnut.yaml", doc(`
sites:
  - name: API
    url: https://api.example.com
    recipe:
      name: rules
      rules:
        - when: 'true'
          reason: "up\nand running"
`), lookup(nil), check)
	want := []string{`walnut.yaml:8:19: sites[0].recipe: rules[0].reason: must be one line of text: it holds a line break`}
	if got := errLines(err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}
