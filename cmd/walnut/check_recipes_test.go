package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCheckRecipes tries the named recipes through `walnut check`: the
// verdict, its reason and the exit code, with the token kept out of the
// output.
func TestCheckRecipes(t *testing.T) {
	t.Parallel()
	const token = "s3cret-circle-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v2/project/gh/o/r/pipeline":
			if r.Header.Get("Circle-Token") != token {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, `{"items":[{"id":"p1","number":7,"state":"created"}]}`)
		case "/api/v2/pipeline/p1/workflow":
			if r.Header.Get("Circle-Token") != token {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, `{"items":[{"name":"deploy","status":"running"}]}`)
		case "/api/v2/status.json":
			io.WriteString(w, `{"page":{"name":"GitHub"},"status":{"indicator":"major","description":"Partial System Outage"}}`)
		case "/health":
			io.WriteString(w, `{"status":"up"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - name: CI
    url: %[1]s/api/v2/project/gh/o/r/pipeline?branch=main
    headers: {Circle-Token: "${CIRCLECI_TOKEN}"}
    recipe: circleci
  - name: GitHub
    url: %[1]s/api/v2/status.json
    recipe: statuspage
  - name: App
    url: %[1]s/health
    recipe: {name: rules, rules: [{when: 'json.status == "up"'}]}
`, srv.URL))
	bad := writeConfig(t, fmt.Sprintf(`
sites:
  - name: App
    url: %s/health
    recipe:
      name: rules
      rules:
        - when: 'json.status = "up"'
`, srv.URL))
	environ := fakeEnv(map[string]string{"CIRCLECI_TOKEN": token})

	for name, tc := range map[string]struct {
		args []string
		code int
		out  string
	}{
		"CircleCIPending":  {[]string{"check", "--config", cfg, "ci"}, 2, "CircleCI workflow deploy running"},
		"StatuspageNotOK":  {[]string{"check", "--config", cfg, "github"}, 1, "GitHub: Partial System Outage"},
		"RulesOK":          {[]string{"check", "--config", cfg, "app"}, 0, "state        ok"},
		"RulesConfigError": {[]string{"check", "--config", bad, "app"}, 3, "walnut.yaml:8:17: sites[0].recipe: rules[0].when:"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, environ)
			out := stdout.String() + stderr.String()
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("walnut %v: exit %d, want %d with %q; output:\n%s", tc.args, code, tc.code, tc.out, out)
			}
			if strings.Contains(out, token) {
				t.Fatalf("the token reached the output:\n%s", out)
			}
		})
	}
}
