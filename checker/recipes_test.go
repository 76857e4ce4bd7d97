package checker

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

// TestProbeWithFollowUp runs the circleci recipe through a real probe: its
// follow-up goes to the same host with the site's token, is bounded by the
// site's timeout, and the token shows nowhere in the reason even with no
// secrets to scrub.
func TestProbeWithFollowUp(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-circle-token"
	const pipelines = `{"items":[{"id":"5034460f-c7c4-4c43-9457-de07e2029e7b","number":1287,"state":"created"}]}`

	tests := map[string]struct {
		workflows func(w http.ResponseWriter, r *http.Request)
		want      store.State
		reason    string
	}{
		"Running": {
			workflows: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"items":[{"name":"deploy","status":"running","created_at":"2026-11-25T20:58:00Z"}]}`)
			},
			want: store.StatePending, reason: "CircleCI workflow deploy running",
		},
		"Failed": {
			workflows: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"items":[{"name":"build-and-test","status":"failed"}]}`)
			},
			want: store.StateNotOK, reason: "CircleCI workflow build-and-test failed",
		},
		"SlowFollowUp": {
			workflows: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			want:      store.StateNotOK, reason: "CircleCI workflows: timed out after 2s",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Circle-Token") != token || r.URL.Query().Get("circle-token") != token {
					http.Error(w, `{"message":"Invalid token provided."}`, http.StatusUnauthorized)
					return
				}
				switch r.URL.Path {
				case "/api/v2/project/gh/o/r/pipeline":
					io.WriteString(w, pipelines)
				case "/api/v2/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b/workflow":
					tt.workflows(w, r)
				default:
					http.NotFound(w, r)
				}
			}), false)
			rec, err := recipes.Builtin().Build("circleci", nil)
			if err != nil {
				t.Fatal(err)
			}
			site := Site{
				ID: 1, Slug: "ci", URL: srv.URL + "/api/v2/project/gh/o/r/pipeline?branch=main&circle-token=" + token,
				Headers: map[string]string{"Circle-Token": token},
				Timeout: 2 * time.Second, Recipe: rec,
			}
			p := Probe(probeCtx(t), nil, site, nil)
			if p.State != tt.want || !strings.HasPrefix(p.Reason, tt.reason) {
				t.Errorf("probe = {%s %q}, want {%s %q…}", p.State, p.Reason, tt.want, tt.reason)
			}
			if strings.Contains(p.Reason, token) || strings.Contains(p.Reason, srv.URL) {
				t.Errorf("reason %q shows the token or the URL", p.Reason)
			}
		})
	}
}
