package recipes

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// circleci is the circleci recipe. The site URL is either a project's v2
// pipelines (/api/v2/project/gh/ORG/REPO/pipeline?branch=main), whose newest
// pipeline's workflows are then fetched from the same host, or v1.1 recent
// builds (/api/v1.1/project/gh/ORG/REPO/tree/main?limit=1). The two are told
// apart by the answer: v1.1 answers a JSON array.
type circleci struct {
	workflow string // watch only this workflow; "" for all
}

// NewCircleCI is the factory of the circleci recipe. Option:
//
//   - workflow: the name of the one workflow to watch; default all of the
//     newest pipeline's.
func NewCircleCI(opts Options) (Recipe, error) {
	if err := checkKnown("circleci", opts, "workflow"); err != nil {
		return nil, err
	}
	wf, err := stringOption("circleci", "workflow", opts)
	if err != nil {
		return nil, err
	}
	return &circleci{workflow: wf}, nil
}

// Check implements Recipe.
func (c *circleci) Check(ctx context.Context, resp *Response, fetch FetchFunc) Verdict {
	if resp != nil && bytes.HasPrefix(bytes.TrimSpace(resp.Body), []byte("[")) {
		return c.checkBuilds(resp)
	}
	return c.checkPipelines(ctx, resp, fetch)
}

type circlePipelines struct {
	Items *[]struct {
		ID     string `json:"id"`
		Number int64  `json:"number"`
		State  string `json:"state"`
		Errors []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"items"`
}

type circleWorkflows struct {
	Items *[]circleWorkflow `json:"items"`
}

type circleWorkflow struct {
	Name      string `json:"name"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

func (w circleWorkflow) created() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, w.CreatedAt)
	return t
}

func (c *circleci) checkPipelines(ctx context.Context, resp *Response, fetch FetchFunc) Verdict {
	var pl circlePipelines
	if v, ok := decodeAPI("CircleCI", resp, &pl); !ok {
		return v
	}
	if pl.Items == nil {
		return Verdict{State: NotOK, Reason: "CircleCI: unexpected response (no pipeline items)"}
	}
	if len(*pl.Items) == 0 {
		return Verdict{State: Pending, Reason: "CircleCI: no pipeline yet"}
	}
	p := (*pl.Items)[0] // newest first
	if p.State == "errored" {
		reason := fmt.Sprintf("CircleCI pipeline %d errored", p.Number)
		if len(p.Errors) > 0 && p.Errors[0].Message != "" {
			reason += ": " + clip(p.Errors[0].Message)
		}
		return Verdict{State: NotOK, Reason: reason}
	}
	if p.ID == "" {
		return Verdict{State: NotOK, Reason: "CircleCI: unexpected response (pipeline without an id)"}
	}
	if fetch == nil || resp.Request == nil || resp.Request.URL == nil {
		return Verdict{State: NotOK, Reason: "CircleCI: cannot fetch the pipeline's workflows"}
	}
	req, err := workflowsRequest(ctx, resp.Request, p.ID)
	if err != nil {
		return Verdict{State: NotOK, Reason: "CircleCI: cannot fetch the pipeline's workflows"}
	}
	wresp, err := fetch(ctx, req)
	if err != nil {
		return Verdict{State: NotOK, Reason: "CircleCI workflows: " + err.Error()}
	}
	var wl circleWorkflows
	if v, ok := decodeAPI("CircleCI workflows", wresp, &wl); !ok {
		return v
	}
	if wl.Items == nil {
		return Verdict{State: NotOK, Reason: "CircleCI workflows: unexpected response (no items)"}
	}
	return c.judgeWorkflows(p.Number, *wl.Items)
}

// workflowsRequest is GET {prefix}/api/v2/pipeline/{id}/workflow on the
// pipelines URL's host, with its headers (Circle-Token) and its
// circle-token query value, if any.
func workflowsRequest(ctx context.Context, orig *http.Request, id string) (*http.Request, error) {
	u := *orig.URL
	prefix := ""
	if i := strings.Index(u.Path, "/api/v2/"); i >= 0 {
		prefix = u.Path[:i]
	}
	u.Path = prefix + "/api/v2/pipeline/" + id + "/workflow"
	u.RawPath = prefix + "/api/v2/pipeline/" + url.PathEscape(id) + "/workflow"
	q := url.Values{}
	if tok := orig.URL.Query().Get("circle-token"); tok != "" {
		q.Set("circle-token", tok)
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header = orig.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Host = orig.Host
	return req, nil
}

// judgeWorkflows maps the newest pipeline's workflows: any failure is
// notok, else anything in progress (or no workflow yet) is pending, else
// ok. A rerun makes a second workflow of the same name: the newest counts.
func (c *circleci) judgeWorkflows(pipeline int64, items []circleWorkflow) Verdict {
	latest := map[string]circleWorkflow{}
	var names []string
	for _, w := range items {
		if c.workflow != "" && !sameName(w.Name, c.workflow) {
			continue
		}
		prev, seen := latest[w.Name]
		if !seen {
			names = append(names, w.Name)
		}
		if !seen || w.created().After(prev.created()) {
			latest[w.Name] = w
		}
	}
	if len(names) == 0 {
		if c.workflow != "" {
			return Verdict{State: Pending, Reason: fmt.Sprintf("CircleCI workflow %s not started in pipeline %d", clip(c.workflow), pipeline)}
		}
		return Verdict{State: Pending, Reason: fmt.Sprintf("CircleCI pipeline %d has no workflow yet", pipeline)}
	}
	worst, worstName, worstStatus, count := OK, "", "", 0
	for _, name := range names {
		st := latest[name].Status
		s := circleWorkflowState(st)
		switch {
		case worse(s, worst):
			worst, worstName, worstStatus, count = s, name, st, 1
		case s == worst:
			count++
		}
	}
	if worst == OK {
		return Verdict{State: OK}
	}
	reason := fmt.Sprintf("CircleCI workflow %s %s", clip(worstName), circleWords(worstStatus))
	if count > 1 {
		reason += fmt.Sprintf(" (and %d more)", count-1)
	}
	return Verdict{State: worst, Reason: reason}
}

func circleWorkflowState(status string) State {
	switch status {
	// not_run is a workflow the pipeline skipped (a branch filter, a
	// "when" that was false): it will never run, so waiting for it would
	// leave the site pending for good. v1.1's not_run is ok for the same
	// reason.
	case "success", "not_run":
		return OK
	case "running", "on_hold":
		return Pending
	}
	// failed, error, failing, canceled, unauthorized, and anything new.
	return NotOK
}

// circleWords says a CircleCI status the way a person would.
func circleWords(status string) string {
	switch status {
	case "on_hold":
		return "on hold"
	case "not_running":
		return "not running yet"
	case "error":
		return "errored"
	case "timedout":
		return "timed out"
	case "infrastructure_fail":
		return "failed (infrastructure)"
	case "":
		return "has no status"
	}
	return clip(strings.ReplaceAll(status, "_", " "))
}

type circleBuild struct {
	BuildNum  int64  `json:"build_num"`
	Status    string `json:"status"`
	Workflows *struct {
		WorkflowName string `json:"workflow_name"`
		JobName      string `json:"job_name"`
	} `json:"workflows"`
}

// checkBuilds maps v1.1 recent builds, newest first.
func (c *circleci) checkBuilds(resp *Response) Verdict {
	var builds []circleBuild
	if v, ok := decodeAPI("CircleCI", resp, &builds); !ok {
		return v
	}
	i := slices.IndexFunc(builds, func(b circleBuild) bool {
		return c.workflow == "" || (b.Workflows != nil && sameName(b.Workflows.WorkflowName, c.workflow))
	})
	if i < 0 {
		if c.workflow != "" {
			return Verdict{State: Pending, Reason: fmt.Sprintf("CircleCI: no build of workflow %s yet", clip(c.workflow))}
		}
		return Verdict{State: Pending, Reason: "CircleCI: no build yet"}
	}
	b := builds[i]
	var state State
	switch b.Status {
	case "running", "queued", "not_running", "scheduled":
		state = Pending
	case "success", "fixed", "not_run":
		return Verdict{State: OK}
	default:
		state = NotOK
	}
	what := fmt.Sprintf("build %d", b.BuildNum)
	if b.Workflows != nil && b.Workflows.JobName != "" {
		what = fmt.Sprintf("job %s (build %d)", clip(b.Workflows.JobName), b.BuildNum)
	}
	return Verdict{State: state, Reason: fmt.Sprintf("CircleCI %s %s", what, circleWords(b.Status))}
}
