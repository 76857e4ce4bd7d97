package recipes

import (
	"net/http"
	"strings"
	"testing"
)

const githubRunsPath = "/repos/walnut-board/walnut/actions/runs"

// githubRunsRoutes serves the runs fixture with the newest run (CI) given
// status and conclusion ("null" for JSON null).
func githubRunsRoutes(t *testing.T, status, conclusion string) map[string]route {
	return map[string]route{githubRunsPath: {body: fixtureJSON(t, "github-actions-runs.json", func(v any) {
		r := v.(map[string]any)["workflow_runs"].([]any)[0].(map[string]any)
		r["status"] = status
		if conclusion == "null" {
			r["conclusion"] = nil
		} else {
			r["conclusion"] = conclusion
		}
	})}}
}

func TestGitHubActions(t *testing.T) {
	t.Parallel()

	deploy := Options{"workflow": "Deploy"}
	tests := map[string]verdictCase{
		"Success":        {routes: githubRunsRoutes(t, "completed", "success"), want: OK},
		"Neutral":        {routes: githubRunsRoutes(t, "completed", "neutral"), want: OK},
		"Skipped":        {routes: githubRunsRoutes(t, "completed", "skipped"), want: OK},
		"Failure":        {routes: githubRunsRoutes(t, "completed", "failure"), want: NotOK, reason: "GitHub Actions CI #562 failed"},
		"TimedOut":       {routes: githubRunsRoutes(t, "completed", "timed_out"), want: NotOK, reason: "GitHub Actions CI #562 timed out"},
		"Cancelled":      {routes: githubRunsRoutes(t, "completed", "cancelled"), want: NotOK, reason: "GitHub Actions CI #562 cancelled"},
		"ActionRequired": {routes: githubRunsRoutes(t, "completed", "action_required"), want: NotOK, reason: "GitHub Actions CI #562 needs approval (action required)"},
		"StartupFailure": {routes: githubRunsRoutes(t, "completed", "startup_failure"), want: NotOK, reason: "GitHub Actions CI #562 failed to start"},
		"Stale":          {routes: githubRunsRoutes(t, "completed", "stale"), want: NotOK, reason: "GitHub Actions CI #562 stale"},
		"NoConclusion":   {routes: githubRunsRoutes(t, "completed", "null"), want: NotOK, reason: "GitHub Actions CI #562 completed without a conclusion"},
		"NewConclusion":  {routes: githubRunsRoutes(t, "completed", "exploded"), want: NotOK, reason: `GitHub Actions CI #562: unknown conclusion "exploded"`},
		"Queued":         {routes: githubRunsRoutes(t, "queued", "null"), want: Pending, reason: "GitHub Actions CI #562 queued"},
		"InProgress":     {routes: githubRunsRoutes(t, "in_progress", "null"), want: Pending, reason: "GitHub Actions CI #562 in progress"},
		"Waiting":        {routes: githubRunsRoutes(t, "waiting", "null"), want: Pending, reason: "GitHub Actions CI #562 waiting"},
		"Requested":      {routes: githubRunsRoutes(t, "requested", "null"), want: Pending, reason: "GitHub Actions CI #562 requested"},
		"Pending":        {routes: githubRunsRoutes(t, "pending", "null"), want: Pending, reason: "GitHub Actions CI #562 pending"},
		"NewStatus":      {routes: githubRunsRoutes(t, "sleeping", "null"), want: NotOK, reason: `GitHub Actions CI #562: unknown status "sleeping"`},

		"WorkflowFilter":         {routes: githubRunsRoutes(t, "completed", "failure"), opts: deploy, want: OK},
		"WorkflowFilterAnyCase":  {routes: githubRunsRoutes(t, "completed", "failure"), opts: Options{"workflow": "ci"}, want: NotOK, reason: "GitHub Actions CI #562 failed"},
		"WorkflowFilterNoRunYet": {routes: githubRunsRoutes(t, "completed", "success"), opts: Options{"workflow": "Release"}, want: Pending, reason: "GitHub Actions: no run of Release yet"},

		"Empty":       {routes: map[string]route{githubRunsPath: {body: `{"total_count":0,"workflow_runs":[]}`}}, want: Pending, reason: "GitHub Actions: no run yet"},
		"BadJSON":     {routes: map[string]route{githubRunsPath: {body: `{"workflow_runs":[{`}}, want: NotOK, reason: "GitHub Actions: response is not JSON"},
		"WrongShape":  {routes: map[string]route{githubRunsPath: {body: `{"message":"Not Found"}`}}, want: NotOK, reason: "GitHub Actions: unexpected response (no workflow_runs)"},
		"RunsNotList": {routes: map[string]route{githubRunsPath: {body: `{"workflow_runs":"none"}`}}, want: NotOK, reason: "GitHub Actions: unexpected response (workflow_runs is string)"},
		"RateLimited": {routes: map[string]route{githubRunsPath: {status: 403, body: `{"message":"API rate limit exceeded"}`}}, want: NotOK, reason: "GitHub Actions: HTTP 403 Forbidden (check the token)"},
		"NotFound":    {want: NotOK, reason: "GitHub Actions: HTTP 404 Not Found"},
		"Huge":        {routes: map[string]route{githubRunsPath: {body: `{"workflow_runs":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`}}, want: NotOK, reason: "GitHub Actions: response larger than the body limit"},
	}
	for name, tt := range tests {
		tt.path = githubRunsPath + "?branch=main"
		tests[name] = tt
	}
	runVerdictCases(t, "github-actions", tests)
}

// TestGitHubActionsTokenNotInReason sends a token upstream in a header and
// checks a failing verdict does not show it.
func TestGitHubActionsTokenNotInReason(t *testing.T) {
	t.Parallel()
	const token = "ghp_s3cr3tT0ken"
	srv := newAPIServer(t, githubRunsRoutes(t, "completed", "failure"))
	got := checkURL(t, build(t, "github-actions", nil), srv.URL+githubRunsPath+"?branch=main&access_token="+token,
		probeOpts{header: http.Header{"Authorization": {"Bearer " + token}}})
	if got.State != NotOK || strings.Contains(got.Reason, token) {
		t.Errorf("Check = %+v", got)
	}
	if h := srv.requests()[0].Header.Get("Authorization"); h != "Bearer "+token {
		t.Errorf("token not sent upstream: %q", h)
	}
}

func TestGitHubActionsBadOptions(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		opts Options
		want string
	}{
		"Unknown":        {Options{"branch": "main"}, `unknown option "branch" for recipe github-actions`},
		"WorkflowNumber": {Options{"workflow": 3}, `option "workflow" of recipe github-actions must be a name, not a number`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Builtin().Build("github-actions", tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
