package recipes

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkVerdict fails for a verdict no board could show: an unknown state,
// or a notok or pending without a reason.
func checkVerdict(t *testing.T, who string, v Verdict) {
	t.Helper()
	switch v.State {
	case OK:
	case NotOK, Pending:
		if v.Reason == "" {
			t.Errorf("%s: %s without a reason", who, v.State)
		}
	default:
		t.Errorf("%s: unknown state %q", who, v.State)
	}
}

// FuzzAPIRecipes feeds any body to the JSON-reading recipes: each must give
// a verdict, never panic. CircleCI's follow-up answers with the same body.
// The seeds are the recorded fixtures and a few broken shapes.
func FuzzAPIRecipes(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `[null]`, `{"items":null}`, `{"items":[null]}`, `{"items":[{"id":"../../x?y#z"}]}`,
		`{"status":null}`, `{"status":[null]}`, `{"status":{"a":null}}`, `{"components":[{"name":null}]}`,
		`{"workflow_runs":[{"status":"completed","conclusion":null}]}`, `[{"workflows":null,"status":null}]`,
		`{"page":{"name":"` + strings.Repeat("é", 100) + `"},"status":{"indicator":"major","description":"a\nb"}}`,
		"\xff\xfe{", `{"items":[{"id":"x","state":"errored","errors":[{"message":null}]}]}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{"status":{"indicator":"none"}}`), true)

	reg := Builtin()
	var recs []Recipe
	var names []string
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"statuspage", nil},
		{"statuspage", Options{"components": []any{"API Requests", "Dashboard"}}},
		{"circleci", nil},
		{"circleci", Options{"workflow": "deploy"}},
		{"github-actions", nil},
		{"github-actions", Options{"workflow": "CI"}},
		{"heroku", nil},
		{"heroku", Options{"systems": []any{"Apps"}}},
	} {
		r, err := reg.Build(c.name, c.opts)
		if err != nil {
			f.Fatal(err)
		}
		recs, names = append(recs, r), append(names, c.name)
	}
	f.Fuzz(func(t *testing.T, body []byte, truncated bool) {
		req := httptest.NewRequest(http.MethodGet, "https://circleci.example/api/v2/project/gh/o/r/pipeline?circle-token=T", nil)
		fetch := func(ctx context.Context, r *http.Request) (*Response, error) {
			return &Response{StatusCode: 200, Body: body, Request: r}, nil
		}
		for i, r := range recs {
			v := r.Check(t.Context(), &Response{StatusCode: 200, Body: body, Truncated: truncated, Request: req}, fetch)
			checkVerdict(t, names[i], v)
		}
	})
}

// FuzzRules compiles any expression and runs it over any body: a bad
// expression is an error, a running one a verdict, never a panic.
func FuzzRules(f *testing.F) {
	for _, s := range []struct{ when, body string }{
		{`json.status == "up"`, `{"status":"up"}`},
		{`json.status == "up"`, `<html>`},
		{`json?.a?.b[3] > 2`, `{"a":{"b":[1,2,3,4]}}`},
		{`css("h1") == "All good"`, `<h1>All good</h1>`},
		{`css("div > p:nth-child(2n+1)") contains "x"`, `<div><p>x</p></div>`},
		{`css("[[[") == ""`, `<p>`},
		{`headers["content-type"] startsWith "application/json"`, `{}`},
		{`status in [200, 204] && latency_ms < 500`, ``},
		{`len(json.items) > 0 && all(json.items, {.ok})`, `{"items":[{"ok":true}]}`},
		{`body matches "^(a+)+$"`, strings.Repeat("a", 30) + "b"},
		{`int(json.n) / 0 == 1`, `{"n": 1}`},
		{`json[0]`, `[true]`},
		{`1..1000000 | sum() > 0`, ``},
		{`json.status ==`, ``},
	} {
		f.Add(s.when, []byte(s.body), 200)
	}
	f.Fuzz(func(t *testing.T, when string, body []byte, status int) {
		r, err := NewRules(Options{"rules": []any{map[string]any{"when": when, "state": "pending"}}})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("compile error spans lines: %q", err)
			}
			return
		}
		v := r.Check(t.Context(), &Response{
			StatusCode: status, Body: body,
			Header: http.Header{"Content-Type": {"application/json"}},
		}, nil)
		checkVerdict(t, "rules", v)
	})
}
