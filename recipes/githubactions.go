package recipes

import (
	"context"
	"fmt"
	"strings"
)

// githubActions is the github-actions recipe, for GitHub's
// /repos/OWNER/REPO/actions/runs?branch=main: the newest run decides.
type githubActions struct {
	workflow string // only runs of this name; "" for any
}

// NewGitHubActions is the factory of the github-actions recipe. Option:
//
//   - workflow: only runs whose name is this (the workflow's name: line,
//     "CI"); default the newest run of any workflow.
func NewGitHubActions(opts Options) (Recipe, error) {
	if err := checkKnown("github-actions", opts, "workflow"); err != nil {
		return nil, err
	}
	wf, err := stringOption("github-actions", "workflow", opts)
	if err != nil {
		return nil, err
	}
	return &githubActions{workflow: wf}, nil
}

type githubRuns struct {
	WorkflowRuns *[]struct {
		Name       string  `json:"name"`
		RunNumber  int64   `json:"run_number"`
		Status     string  `json:"status"`
		Conclusion *string `json:"conclusion"`
	} `json:"workflow_runs"`
}

// Check implements Recipe.
func (g *githubActions) Check(_ context.Context, resp *Response, _ FetchFunc) Verdict {
	var runs githubRuns
	if v, ok := decodeAPI("GitHub Actions", resp, &runs); !ok {
		return v
	}
	if runs.WorkflowRuns == nil {
		return Verdict{State: NotOK, Reason: "GitHub Actions: unexpected response (no workflow_runs)"}
	}
	// Newest first, as GitHub lists them.
	for _, r := range *runs.WorkflowRuns {
		if g.workflow != "" && !sameName(r.Name, g.workflow) {
			continue
		}
		what := fmt.Sprintf("GitHub Actions %s #%d", clip(r.Name), r.RunNumber)
		switch r.Status {
		case "queued", "in_progress", "waiting", "requested", "pending":
			return Verdict{State: Pending, Reason: what + " " + strings.ReplaceAll(r.Status, "_", " ")}
		case "completed":
		default:
			return Verdict{State: NotOK, Reason: fmt.Sprintf("%s: unknown status %q", what, clip(r.Status))}
		}
		conclusion := ""
		if r.Conclusion != nil {
			conclusion = *r.Conclusion
		}
		switch conclusion {
		case "success", "neutral", "skipped":
			return Verdict{State: OK}
		case "failure":
			return Verdict{State: NotOK, Reason: what + " failed"}
		case "timed_out":
			return Verdict{State: NotOK, Reason: what + " timed out"}
		case "cancelled":
			return Verdict{State: NotOK, Reason: what + " cancelled"}
		case "action_required":
			return Verdict{State: NotOK, Reason: what + " needs approval (action required)"}
		case "startup_failure":
			return Verdict{State: NotOK, Reason: what + " failed to start"}
		case "stale":
			return Verdict{State: NotOK, Reason: what + " stale"}
		case "":
			return Verdict{State: NotOK, Reason: what + " completed without a conclusion"}
		default:
			return Verdict{State: NotOK, Reason: fmt.Sprintf("%s: unknown conclusion %q", what, clip(conclusion))}
		}
	}
	if g.workflow != "" {
		return Verdict{State: Pending, Reason: fmt.Sprintf("GitHub Actions: no run of %s yet", clip(g.workflow))}
	}
	return Verdict{State: Pending, Reason: "GitHub Actions: no run yet"}
}
