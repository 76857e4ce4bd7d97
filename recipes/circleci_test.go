package recipes

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	circlePipelinesPath = "/api/v2/project/gh/walnut-board/walnut/pipeline"
	circleWorkflowPath  = "/api/v2/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b/workflow"
	circleBuildsPath    = "/api/v1.1/project/gh/walnut-board/walnut/tree/main"
)

// circleV2 serves the pipelines fixture and the workflows fixture with the
// two workflows' statuses set (build-and-test, deploy); "" removes one.
func circleV2(t *testing.T, build, deploy string) map[string]route {
	return map[string]route{
		circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")},
		circleWorkflowPath: {body: fixtureJSON(t, "circleci-workflows.json", func(v any) {
			m := v.(map[string]any)
			var keep []any
			for i, st := range []string{build, deploy} {
				if st != "" {
					w := items(v)[i].(map[string]any)
					w["status"] = st
					keep = append(keep, w)
				}
			}
			m["items"] = append([]any{}, keep...)
		})},
	}
}

func circleV1(t *testing.T, status string) map[string]route {
	return map[string]route{circleBuildsPath: {body: fixtureJSON(t, "circleci-builds.json", func(v any) {
		v.([]any)[0].(map[string]any)["status"] = status
	})}}
}

func TestCircleCIPipelines(t *testing.T) {
	t.Parallel()

	const p = circlePipelinesPath + "?branch=main"
	deploy := Options{"workflow": "deploy"}
	tests := map[string]verdictCase{
		"AllSuccess":      {routes: circleV2(t, "success", "success"), want: OK},
		"Failed":          {routes: circleV2(t, "failed", "success"), want: NotOK, reason: "CircleCI workflow build-and-test failed"},
		"Error":           {routes: circleV2(t, "error", "success"), want: NotOK, reason: "CircleCI workflow build-and-test errored"},
		"Failing":         {routes: circleV2(t, "failing", "running"), want: NotOK, reason: "CircleCI workflow build-and-test failing"},
		"Canceled":        {routes: circleV2(t, "success", "canceled"), want: NotOK, reason: "CircleCI workflow deploy canceled"},
		"Unauthorized":    {routes: circleV2(t, "unauthorized", "success"), want: NotOK, reason: "CircleCI workflow build-and-test unauthorized"},
		"UnknownStatus":   {routes: circleV2(t, "exploded", "success"), want: NotOK, reason: "CircleCI workflow build-and-test exploded"},
		"TwoFailed":       {routes: circleV2(t, "failed", "failed"), want: NotOK, reason: "CircleCI workflow build-and-test failed (and 1 more)"},
		"FailureBeatsRun": {routes: circleV2(t, "running", "failed"), want: NotOK, reason: "CircleCI workflow deploy failed"},
		"Running":         {routes: circleV2(t, "success", "running"), want: Pending, reason: "CircleCI workflow deploy running"},
		"OnHold":          {routes: circleV2(t, "success", "on_hold"), want: Pending, reason: "CircleCI workflow deploy on hold"},
		"NotRunIsDone":    {routes: circleV2(t, "not_run", "success"), want: OK},
		"AllNotRun":       {routes: circleV2(t, "not_run", "not_run"), want: OK},
		"NotRunAndRun":    {routes: circleV2(t, "not_run", "running"), want: Pending, reason: "CircleCI workflow deploy running"},
		"NotRunAndFailed": {routes: circleV2(t, "failed", "not_run"), want: NotOK, reason: "CircleCI workflow build-and-test failed"},
		"NoWorkflowYet":   {routes: circleV2(t, "", ""), want: Pending, reason: "CircleCI pipeline 1287 has no workflow yet"},

		"WorkflowOptionIgnoresOthers": {routes: circleV2(t, "failed", "success"), opts: deploy, want: OK},
		"WorkflowOptionRunning":       {routes: circleV2(t, "failed", "running"), opts: deploy, want: Pending, reason: "CircleCI workflow deploy running"},
		"WorkflowOptionAnyCase":       {routes: circleV2(t, "success", "running"), opts: Options{"workflow": " Deploy"}, want: Pending, reason: "CircleCI workflow deploy running"},
		"WorkflowOptionNotRun":        {routes: circleV2(t, "running", "not_run"), opts: deploy, want: OK},
		"WorkflowOptionNotInPipeline": {routes: circleV2(t, "success", ""), opts: deploy, want: Pending, reason: "CircleCI workflow deploy not started in pipeline 1287"},

		"RerunNewestCounts": {routes: map[string]route{
			circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")},
			circleWorkflowPath: {body: `{"items":[
				{"name":"build-and-test","status":"success","created_at":"2026-11-25T21:10:00Z"},
				{"name":"build-and-test","status":"failed","created_at":"2026-11-25T20:58:00Z"}]}`},
		}, want: OK},

		"NoPipelineYet": {routes: map[string]route{circlePipelinesPath: {body: `{"items":[],"next_page_token":null}`}},
			want: Pending, reason: "CircleCI: no pipeline yet"},
		"PipelineErrored": {routes: map[string]route{circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json",
			`"errors": [],
      "project_slug": "gh/walnut-board/walnut",
      "updated_at": "2026-11-25T20:58:02.136Z",
      "number": 1287,
      "trigger_parameters": {},
      "state": "created"`, `"errors": [{"type": "config", "message": "Config does not conform\nto schema"}],
      "number": 1287,
      "state": "errored"`)}},
			want: NotOK, reason: "CircleCI pipeline 1287 errored: Config does not conform to schema"},
		"PipelinesUnauthorized": {routes: map[string]route{circlePipelinesPath: {status: 401, body: `{"message":"Invalid token provided."}`}},
			want: NotOK, reason: "CircleCI: HTTP 401 Unauthorized (check the token)"},
		"PipelinesBadJSON": {routes: map[string]route{circlePipelinesPath: {body: `{"items": [`}},
			want: NotOK, reason: "CircleCI: response is not JSON"},
		"PipelinesWrongShape": {routes: map[string]route{circlePipelinesPath: {body: `{"message":"hi"}`}},
			want: NotOK, reason: "CircleCI: unexpected response (no pipeline items)"},
		"PipelineWithoutID": {routes: map[string]route{circlePipelinesPath: {body: `{"items":[{"number":3,"state":"created"}]}`}},
			want: NotOK, reason: "CircleCI: unexpected response (pipeline without an id)"},
		"PipelinesHuge": {routes: map[string]route{circlePipelinesPath: {body: `{"items":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`}},
			want: NotOK, reason: "CircleCI: response larger than the body limit"},

		"FollowUpNotFound": {routes: map[string]route{circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")}},
			want: NotOK, reason: "CircleCI workflows: HTTP 404 Not Found"},
		"FollowUpServerError": {routes: map[string]route{
			circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")},
			circleWorkflowPath:  {status: 500, body: `{}`},
		}, want: NotOK, reason: "CircleCI workflows: HTTP 500 Internal Server Error"},
		"FollowUpBadJSON": {routes: map[string]route{
			circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")},
			circleWorkflowPath:  {body: `<html>`},
		}, want: NotOK, reason: "CircleCI workflows: response is not JSON"},
		"FollowUpWrongShape": {routes: map[string]route{
			circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")},
			circleWorkflowPath:  {body: `{"items":{"a":1}}`},
		}, want: NotOK, reason: "CircleCI workflows: unexpected response (items is object)"},
		"FollowUpHuge": {routes: map[string]route{
			circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")},
			circleWorkflowPath:  {body: `{"items":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`},
		}, want: NotOK, reason: "CircleCI workflows: response larger than the body limit"},
	}
	for name, tt := range tests {
		tt.path = p
		tests[name] = tt
	}
	runVerdictCases(t, "circleci", tests)
}

func TestCircleCIRecentBuilds(t *testing.T) {
	t.Parallel()

	const p = circleBuildsPath + "?limit=1"
	tests := map[string]verdictCase{
		"Success":            {routes: circleV1(t, "success"), want: OK},
		"Fixed":              {routes: circleV1(t, "fixed"), want: OK},
		"NotRun":             {routes: circleV1(t, "not_run"), want: OK},
		"Running":            {routes: circleV1(t, "running"), want: Pending, reason: "CircleCI job test (build 4412) running"},
		"Queued":             {routes: circleV1(t, "queued"), want: Pending, reason: "CircleCI job test (build 4412) queued"},
		"NotRunning":         {routes: circleV1(t, "not_running"), want: Pending, reason: "CircleCI job test (build 4412) not running yet"},
		"Scheduled":          {routes: circleV1(t, "scheduled"), want: Pending, reason: "CircleCI job test (build 4412) scheduled"},
		"Failed":             {routes: circleV1(t, "failed"), want: NotOK, reason: "CircleCI job test (build 4412) failed"},
		"Canceled":           {routes: circleV1(t, "canceled"), want: NotOK, reason: "CircleCI job test (build 4412) canceled"},
		"InfrastructureFail": {routes: circleV1(t, "infrastructure_fail"), want: NotOK, reason: "CircleCI job test (build 4412) failed (infrastructure)"},
		"TimedOut":           {routes: circleV1(t, "timedout"), want: NotOK, reason: "CircleCI job test (build 4412) timed out"},
		"NoTests":            {routes: circleV1(t, "no_tests"), want: NotOK, reason: "CircleCI job test (build 4412) no tests"},
		"Retried":            {routes: circleV1(t, "retried"), want: NotOK, reason: "CircleCI job test (build 4412) retried"},
		"Empty":              {routes: map[string]route{circleBuildsPath: {body: `[]`}}, want: Pending, reason: "CircleCI: no build yet"},
		"NoWorkflowsField":   {routes: map[string]route{circleBuildsPath: {body: `[{"build_num":7,"status":"failed"}]`}}, want: NotOK, reason: "CircleCI build 7 failed"},
		"WorkflowFilterMiss": {routes: circleV1(t, "failed"), opts: Options{"workflow": "deploy"}, want: Pending, reason: "CircleCI: no build of workflow deploy yet"},
		"WorkflowFilterHit":  {routes: circleV1(t, "failed"), opts: Options{"workflow": "build-and-test"}, want: NotOK, reason: "CircleCI job test (build 4412) failed"},
		"BadJSON":            {routes: map[string]route{circleBuildsPath: {body: `[{"status":`}}, want: NotOK, reason: "CircleCI: response is not JSON"},
		"WrongShape":         {routes: map[string]route{circleBuildsPath: {body: `[1, 2]`}}, want: NotOK, reason: "CircleCI: unexpected response (the top level is number)"},
		"StatusNotText":      {routes: map[string]route{circleBuildsPath: {body: `[{"status": 3}]`}}, want: NotOK, reason: "CircleCI: unexpected response (status is number)"},
	}
	for name, tt := range tests {
		tt.path = p
		tests[name] = tt
	}
	runVerdictCases(t, "circleci", tests)
}

// TestCircleCIFollowUp checks the follow-up request: same host, the
// token header and query value carried over, and never shown.
func TestCircleCIFollowUp(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-circle-token"
	srv := newAPIServer(t, circleV2(t, "failed", "success"))
	got := checkURL(t, build(t, "circleci", nil),
		srv.URL+circlePipelinesPath+"?branch=main&circle-token="+token,
		probeOpts{header: http.Header{"Circle-Token": {token}}})
	if got.State != NotOK || strings.Contains(got.Reason, token) {
		t.Errorf("Check = %+v", got)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	f := reqs[1]
	if f.URL.Path != circleWorkflowPath {
		t.Errorf("follow-up path = %q", f.URL.Path)
	}
	if f.Header.Get("Circle-Token") != token || f.URL.Query().Get("circle-token") != token {
		t.Errorf("follow-up lost the token: header %q, query %q", f.Header.Get("Circle-Token"), f.URL.RawQuery)
	}
	if f.URL.Query().Has("branch") {
		t.Errorf("follow-up kept the pipelines query: %q", f.URL.RawQuery)
	}
}

// TestCircleCIFollowUpPathPrefix keeps a proxy's path prefix.
func TestCircleCIFollowUpPathPrefix(t *testing.T) {
	t.Parallel()
	routes := map[string]route{}
	for p, r := range circleV2(t, "success", "success") {
		routes["/circle"+p] = r
	}
	srv := newAPIServer(t, routes)
	got := checkURL(t, build(t, "circleci", nil), srv.URL+"/circle"+circlePipelinesPath, probeOpts{})
	if got.State != OK {
		t.Errorf("Check = %+v", got)
	}
}

// TestCircleCISlowFollowUp: a follow-up that never answers ends with the
// probe's deadline, as a notok verdict naming the timeout.
func TestCircleCISlowFollowUp(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, map[string]route{
		circlePipelinesPath: {body: fixture(t, "circleci-pipelines.json")},
		circleWorkflowPath:  {block: true},
	})
	got := checkURL(t, build(t, "circleci", nil), srv.URL+circlePipelinesPath, probeOpts{timeout: 2 * time.Second})
	if got.State != NotOK || got.Reason != "CircleCI workflows: timeout" {
		t.Errorf("Check = %+v", got)
	}
}

func TestCircleCIWithoutRequest(t *testing.T) {
	t.Parallel()
	got := build(t, "circleci", nil).Check(t.Context(),
		&Response{StatusCode: 200, Body: []byte(fixture(t, "circleci-pipelines.json"))}, nil)
	if got.State != NotOK || got.Reason != "CircleCI: cannot fetch the pipeline's workflows" {
		t.Errorf("Check = %+v", got)
	}
}

func TestCircleCIBadOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts Options
		want string
	}{
		"Unknown":       {Options{"workflows": "deploy"}, `unknown option "workflows" for recipe circleci`},
		"WorkflowList":  {Options{"workflow": []any{"deploy"}}, `option "workflow" of recipe circleci must be a name, not a list`},
		"WorkflowBlank": {Options{"workflow": ""}, `option "workflow" of recipe circleci must be a name`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Builtin().Build("circleci", tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
