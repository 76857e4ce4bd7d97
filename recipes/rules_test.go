package recipes

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func rulesOpts(rules ...map[string]any) Options {
	list := make([]any, len(rules))
	for i, r := range rules {
		list[i] = r
	}
	return Options{"rules": list}
}

func TestRulesVerdicts(t *testing.T) {
	t.Parallel()

	upDown := rulesOpts(
		map[string]any{"when": `json.status == "up"`, "state": "ok"},
		map[string]any{"when": `json.status == "maintenance"`, "state": "pending", "reason": "in maintenance"},
		map[string]any{"when": `json.status == "down"`, "state": "notok", "reason": "app says down"},
	)
	html := "<html><body><h1>  All good </h1><p class=x>one</p><p class=x>two</p></body></html>"

	tests := map[string]struct {
		opts   Options
		resp   Response
		want   State
		reason string
	}{
		"JSONUp":          {opts: upDown, resp: Response{StatusCode: 200, Body: []byte(`{"status":"up"}`)}, want: OK},
		"JSONMaintenance": {opts: upDown, resp: Response{StatusCode: 200, Body: []byte(`{"status":"maintenance"}`)}, want: Pending, reason: "in maintenance"},
		"JSONDown":        {opts: upDown, resp: Response{StatusCode: 200, Body: []byte(`{"status":"down"}`)}, want: NotOK, reason: "app says down"},
		"NoRuleMatched":   {opts: upDown, resp: Response{StatusCode: 200, Body: []byte(`{"status":"weird"}`)}, want: NotOK, reason: "no rule matched"},
		"NotJSON": {opts: upDown, resp: Response{StatusCode: 200, Body: []byte(`<html>oops</html>`)}, want: NotOK,
			reason: `rule 1 (json.status == "up"): the body is not JSON`},
		"EmptyBody": {opts: upDown, resp: Response{StatusCode: 200}, want: NotOK,
			reason: `rule 1 (json.status == "up"): the body is not JSON`},
		"JSONArrayWhereObjectWanted": {opts: upDown, resp: Response{StatusCode: 200, Body: []byte(`[1]`)}, want: NotOK,
			reason: `rule 1 (json.status == "up") failed:`},
		"SafeNavigationOnNil": {opts: rulesOpts(map[string]any{"when": `json?.status == "up"`}),
			resp: Response{StatusCode: 200, Body: []byte(`nope`)}, want: NotOK, reason: "no rule matched (the body is not JSON)"},
		"TruncatedSaysSo": {opts: rulesOpts(map[string]any{"when": `json?.status == "up"`}),
			resp: Response{StatusCode: 200, Body: []byte(`{"status":"u`), Truncated: true}, want: NotOK,
			reason: "no rule matched (the body is not JSON) (the body was cut at the size limit)"},
		"FirstMatchWins": {opts: rulesOpts(
			map[string]any{"when": `status >= 500`, "state": "notok", "reason": "server error"},
			map[string]any{"when": `status == 503`, "state": "pending"},
		), resp: Response{StatusCode: 503}, want: NotOK, reason: "server error"},
		"CSS": {opts: rulesOpts(map[string]any{"when": `css("h1") == "All good"`}),
			resp: Response{StatusCode: 200, Body: []byte(html)}, want: OK},
		"CSSFirstMatchOnly": {opts: rulesOpts(map[string]any{"when": `css("p.x") == "one"`}),
			resp: Response{StatusCode: 200, Body: []byte(html)}, want: OK},
		"CSSNoMatchIsEmpty": {opts: rulesOpts(map[string]any{"when": `css("h2") == ""`}),
			resp: Response{StatusCode: 200, Body: []byte(html)}, want: OK},
		"CSSBadSelectorIsEmpty": {opts: rulesOpts(map[string]any{"when": `css("[[[") == ""`}),
			resp: Response{StatusCode: 200, Body: []byte(html)}, want: OK},
		"HeadersLowerCase": {opts: rulesOpts(map[string]any{"when": `headers["x-app-state"] == "green"`}),
			resp: Response{StatusCode: 200, Header: http.Header{"X-App-State": {"green", "red"}}}, want: OK},
		"MissingHeaderIsEmpty": {opts: rulesOpts(map[string]any{"when": `headers["x-nope"] == ""`}),
			resp: Response{StatusCode: 200}, want: OK},
		"Body": {opts: rulesOpts(map[string]any{"when": `body contains "healthy"`}),
			resp: Response{StatusCode: 200, Body: []byte("I am healthy")}, want: OK},
		"Latency": {opts: rulesOpts(map[string]any{"when": `latency_ms > 1000`, "state": "notok", "reason": "slow"}),
			resp: Response{StatusCode: 200, Latency: 1500 * time.Millisecond}, want: NotOK, reason: "slow"},
		"DefaultReasonIsExpression": {opts: rulesOpts(map[string]any{"when": `status == 418`, "state": "pending"}),
			resp: Response{StatusCode: 418}, want: Pending, reason: "status == 418"},
		"OtherwiseState": {opts: Options{"rules": []any{map[string]any{"when": "false"}}, "otherwise": "pending"},
			resp: Response{StatusCode: 200}, want: Pending, reason: "no rule matched"},
		"OtherwiseMap": {opts: Options{"rules": []any{map[string]any{"when": "false"}}, "otherwise": map[string]any{"state": "ok"}},
			resp: Response{StatusCode: 200}, want: OK},
		"OtherwiseReason": {opts: Options{"rules": []any{map[string]any{"when": "false"}}, "otherwise": map[string]any{"reason": "unexpected page"}},
			resp: Response{StatusCode: 200}, want: NotOK, reason: "unexpected page"},
		"NestedJSON": {opts: rulesOpts(map[string]any{"when": `json.checks.db.ok == true && len(json.items) == 2`}),
			resp: Response{StatusCode: 200, Body: []byte(`{"checks":{"db":{"ok":true}},"items":[1,2]}`)}, want: OK},
		"NumberCompare": {opts: rulesOpts(map[string]any{"when": `json.queue < 100`}),
			resp: Response{StatusCode: 200, Body: []byte(`{"queue": 12}`)}, want: OK},
		"RuntimeErrorNamesRule": {opts: rulesOpts(
			map[string]any{"when": `status == 1`},
			map[string]any{"when": `json.count > 3`},
		), resp: Response{StatusCode: 200, Body: []byte(`{"count":"many"}`)}, want: NotOK, reason: "rule 2 (json.count > 3) failed:"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := Builtin().Build("rules", tt.opts)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got := r.Check(t.Context(), &tt.resp, nil)
			if got.State != tt.want || !strings.HasPrefix(got.Reason, tt.reason) || (tt.reason == "" && got.Reason != "") {
				t.Errorf("Check = %+v, want {State:%s Reason:%s…}", got, tt.want, tt.reason)
			}
		})
	}
}

func TestRulesBadOptions(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		opts Options
		want string
		path string // RuleError's path, formatted; empty when not a RuleError
	}{
		"NoRules":        {Options{}, `needs option "rules"`, ""},
		"RulesNotList":   {Options{"rules": "status == 200"}, `must be a list`, ""},
		"EmptyRules":     {Options{"rules": []any{}}, `is empty`, ""},
		"UnknownOption":  {Options{"rules": []any{}, "else": "ok"}, `unknown option "else" for recipe rules`, ""},
		"RuleNotMap":     {Options{"rules": []any{"status == 200"}}, `rules[0]: must be a map`, "rules[0]"},
		"MissingWhen":    {rulesOpts(map[string]any{"state": "ok"}), `rules[0].when: missing`, "rules[0].when"},
		"UnknownRuleKey": {rulesOpts(map[string]any{"when": "true", "then": "ok"}), `rules[0].then: unknown key`, "rules[0].then"},
		"BadState":       {rulesOpts(map[string]any{"when": "true", "state": "green"}), `rules[0].state: "green" is not a state`, "rules[0].state"},
		"ReasonNotText":  {rulesOpts(map[string]any{"when": "true", "reason": []any{1}}), `rules[0].reason: must be text`, "rules[0].reason"},
		"SyntaxError": {rulesOpts(map[string]any{"when": "true"}, map[string]any{"when": `json.status ==`}),
			`rules[1].when: unexpected token EOF (column 14)`, "rules[1].when"},
		"UnknownName":     {rulesOpts(map[string]any{"when": `jsn.status == "up"`}), `rules[0].when: unknown name jsn`, "rules[0].when"},
		"TypeError":       {rulesOpts(map[string]any{"when": `status == "200"`}), `rules[0].when: invalid operation`, "rules[0].when"},
		"NotBoolean":      {rulesOpts(map[string]any{"when": `status + 1`}), `rules[0].when: expected bool`, "rules[0].when"},
		"CSSWrongArg":     {rulesOpts(map[string]any{"when": `css(1) == ""`}), `rules[0].when:`, "rules[0].when"},
		"BadOtherwise":    {Options{"rules": []any{map[string]any{"when": "true"}}, "otherwise": "grey"}, `otherwise: "grey" is not a state`, "otherwise"},
		"OtherwiseNumber": {Options{"rules": []any{map[string]any{"when": "true"}}, "otherwise": 3}, `otherwise: must be a state`, "otherwise"},
		"OtherwiseKey":    {Options{"rules": []any{map[string]any{"when": "true"}}, "otherwise": map[string]any{"colour": "red"}}, `otherwise.colour: unknown key`, "otherwise.colour"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Builtin().Build("rules", tt.opts)
			if err == nil {
				t.Fatalf("Build succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
			var re *RuleError
			if errors.As(err, &re) != (tt.path != "") || (re != nil && formatPath(re.OptionPath()) != tt.path) {
				t.Errorf("error %#v: want a RuleError with path %q", err, tt.path)
			}
		})
	}
}

// TestRulesHugeBody checks a rule over a body of the checker's full limit
// stays a verdict.
func TestRulesHugeBody(t *testing.T) {
	t.Parallel()
	r, err := NewRules(rulesOpts(map[string]any{"when": `json?.ok == true || css("h1") == "x"`}))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.Repeat("<div>", 1<<20/5))
	got := r.Check(t.Context(), &Response{StatusCode: 200, Body: body, Truncated: true}, nil)
	if got.State != NotOK || !strings.Contains(got.Reason, "size limit") {
		t.Errorf("Check = %+v", got)
	}
}
