package recipes

import (
	"context"
	"fmt"
	"strings"
)

// statuspage is the statuspage recipe, for Atlassian Statuspage's public
// API (/api/v2/status.json or /api/v2/summary.json). Without components it
// judges the page's overall indicator; with components, those components
// of summary.json, the worst winning.
type statuspage struct {
	components []string
}

// NewStatuspage is the factory of the statuspage recipe. Option:
//
//   - components: names of components to watch (summary.json only);
//     default none, meaning the page's overall indicator.
func NewStatuspage(opts Options) (Recipe, error) {
	if err := checkKnown("statuspage", opts, "components"); err != nil {
		return nil, err
	}
	s := &statuspage{}
	if v, ok := opts["components"]; ok {
		names, err := stringList("statuspage", "components", v)
		if err != nil {
			return nil, err
		}
		s.components = names
	}
	return s, nil
}

type statuspageDoc struct {
	Page *struct {
		Name string `json:"name"`
	} `json:"page"`
	Status *struct {
		Indicator   string `json:"indicator"`
		Description string `json:"description"`
	} `json:"status"`
	Components *[]struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"components"`
}

// Check implements Recipe.
func (s *statuspage) Check(_ context.Context, resp *Response, _ FetchFunc) Verdict {
	var doc statuspageDoc
	if v, ok := decodeAPI("Statuspage", resp, &doc); !ok {
		return v
	}
	who := "Statuspage"
	if doc.Page != nil && strings.TrimSpace(doc.Page.Name) != "" {
		who = clip(doc.Page.Name)
	}
	if len(s.components) > 0 {
		return s.checkComponents(who, &doc)
	}
	if doc.Status == nil {
		return Verdict{State: NotOK, Reason: who + ": no status indicator in the response"}
	}
	desc := clip(doc.Status.Description)
	say := func(fallback string) string {
		if desc != "" {
			return who + ": " + desc
		}
		return who + ": " + fallback
	}
	switch ind := doc.Status.Indicator; ind {
	case "none":
		return Verdict{State: OK}
	case "maintenance":
		return Verdict{State: Pending, Reason: say("maintenance")}
	case "minor", "major", "critical":
		return Verdict{State: NotOK, Reason: say(ind + " incident")}
	default:
		return Verdict{State: NotOK, Reason: fmt.Sprintf("%s: unknown indicator %q", who, clip(ind))}
	}
}

// checkComponents judges the named components; the worst state wins and
// the reason names every component in that state.
func (s *statuspage) checkComponents(who string, doc *statuspageDoc) Verdict {
	if doc.Components == nil {
		return Verdict{State: NotOK, Reason: who + ": no components in the response (use summary.json)"}
	}
	worst := OK
	var bad []string
	for _, name := range s.components {
		state, shown := NotOK, name+" missing"
		found := false
		for _, c := range *doc.Components {
			if !strings.EqualFold(strings.TrimSpace(c.Name), name) {
				continue
			}
			st := componentState(c.Status)
			if !found || worse(st, state) {
				state, shown = st, name+" "+clip(c.Status)
			}
			found = true
		}
		if !found {
			shown = fmt.Sprintf("component %q not found", name)
		}
		switch {
		case worse(state, worst):
			worst, bad = state, []string{shown}
		case state == worst && state != OK:
			bad = append(bad, shown)
		}
	}
	if worst == OK {
		return Verdict{State: OK}
	}
	return Verdict{State: worst, Reason: who + ": " + strings.Join(bad, ", ")}
}

func componentState(status string) State {
	switch status {
	case "operational":
		return OK
	case "under_maintenance":
		return Pending
	}
	// degraded_performance, partial_outage, major_outage, and anything new.
	return NotOK
}
