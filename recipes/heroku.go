package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// heroku is the heroku recipe, for Heroku's status API: v4's
// current-status ({"status":[{"system":"Apps","status":"green"},…]}) or the
// older shape ({"status":{"Production":"green",…}}). Every watched system
// green is ok; blue, Heroku's colour for maintenance, is pending, as a
// Statuspage maintenance is; any other colour is notok. The worst state wins
// and the reason names the systems in it, and v4's current incidents.
type heroku struct {
	systems []string // watch only these; nil for all
}

// NewHeroku is the factory of the heroku recipe. Option:
//
//   - systems: the systems to watch ("Apps", "Data", "Tools"; or
//     "Production", "Development" on the older API); default all.
func NewHeroku(opts Options) (Recipe, error) {
	if err := checkKnown("heroku", opts, "systems"); err != nil {
		return nil, err
	}
	h := &heroku{}
	if v, ok := opts["systems"]; ok {
		s, err := stringList("heroku", "systems", v)
		if err != nil {
			return nil, err
		}
		h.systems = s
	}
	return h, nil
}

type herokuSystem struct {
	System string `json:"system"`
	Status string `json:"status"`
}

// Check implements Recipe.
func (h *heroku) Check(_ context.Context, resp *Response, _ FetchFunc) Verdict {
	var doc struct {
		Status    json.RawMessage `json:"status"`
		Incidents json.RawMessage `json:"incidents"`
	}
	if v, ok := decodeAPI("Heroku", resp, &doc); !ok {
		return v
	}
	var systems []herokuSystem
	raw := bytes.TrimSpace(doc.Status)
	switch {
	case bytes.HasPrefix(raw, []byte("[")):
		if err := json.Unmarshal(raw, &systems); err != nil {
			return Verdict{State: NotOK, Reason: "Heroku: unexpected response (status list)"}
		}
	case bytes.HasPrefix(raw, []byte("{")):
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return Verdict{State: NotOK, Reason: "Heroku: unexpected response (status map)"}
		}
		for name, st := range m {
			systems = append(systems, herokuSystem{System: name, Status: st})
		}
		slices.SortFunc(systems, func(a, b herokuSystem) int { return strings.Compare(a.System, b.System) })
	default:
		return Verdict{State: NotOK, Reason: "Heroku: unexpected response (no status)"}
	}

	var bad, blue []string
	judge := func(s herokuSystem) {
		switch {
		case strings.EqualFold(s.Status, "green"):
		case strings.EqualFold(s.Status, "blue"):
			blue = append(blue, clip(s.System)+" maintenance")
		default:
			bad = append(bad, herokuBad(s))
		}
	}
	if h.systems == nil {
		if len(systems) == 0 {
			return Verdict{State: NotOK, Reason: "Heroku: no systems in the response"}
		}
		for _, s := range systems {
			judge(s)
		}
	} else {
		for _, name := range h.systems {
			i := slices.IndexFunc(systems, func(s herokuSystem) bool { return sameName(s.System, name) })
			if i < 0 {
				bad = append(bad, fmt.Sprintf("system %q not found", name))
				continue
			}
			judge(systems[i])
		}
	}
	var v Verdict
	switch {
	case len(bad) > 0:
		v = Verdict{State: NotOK, Reason: "Heroku: " + strings.Join(bad, ", ")}
	case len(blue) > 0:
		v = Verdict{State: Pending, Reason: "Heroku: " + strings.Join(blue, ", ")}
	default:
		return Verdict{State: OK}
	}
	// The current incidents' titles say what is going on, but not which
	// system they concern: they are told only when every system is
	// watched, so that one about Apps is never given as Data's reason.
	if h.systems == nil {
		v.Reason += herokuIncidents(doc.Incidents)
	}
	return v
}

// herokuIncidents is " (TITLE)" or " (TITLE, and N more)" for v4's list of
// current incidents, or "" without one; an incident list of another shape
// is left out rather than failing the verdict.
func herokuIncidents(raw json.RawMessage) string {
	var incidents []struct {
		Title string `json:"title"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &incidents) != nil {
		return ""
	}
	var titles []string
	for _, in := range incidents {
		if t := clip(in.Title); t != "" {
			titles = append(titles, t)
		}
	}
	switch len(titles) {
	case 0:
		return ""
	case 1:
		return " (" + titles[0] + ")"
	}
	return fmt.Sprintf(" (%s, and %d more)", titles[0], len(titles)-1)
}

func herokuBad(s herokuSystem) string {
	st := clip(s.Status)
	if st == "" {
		st = "no status"
	}
	return clip(s.System) + " " + st
}
