package config

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Roster sync defaults and limits.
const (
	DefaultRosterEvery = 5 * time.Minute
	// MinRosterEvery keeps a board well inside PagerDuty's REST API rate
	// limits, whatever the number of schedules.
	MinRosterEvery = time.Minute
)

// scheduleRE is a PagerDuty object id, such as PXXXXXX.
var scheduleRE = regexp.MustCompile(`^[A-Z0-9]{2,20}$`)

// Roster says where the support roster comes from besides CSV imports.
//
//	roster:
//	  pagerduty: {schedules: [PXXXXXX], every: 5m}
type Roster struct {
	PagerDuty *PagerDutyRoster // nil: the roster is only what walnut roster import wrote
}

// PagerDutyRoster reads who is on call in some PagerDuty schedules, with
// PAGERDUTY_API_TOKEN, every Every.
type PagerDutyRoster struct {
	Schedules []string // schedule ids, in file order, each once
	Every     time.Duration
}

// roster reads the top-level roster key.
func (d *decoder) roster(n ast.Node) *Roster {
	entries, ok := d.mapping(n, "roster")
	if !ok {
		return nil
	}
	r := &Roster{}
	for _, e := range entries {
		switch e.key {
		case "pagerduty":
			r.PagerDuty = d.pagerDutyRoster(e.value, "roster.pagerduty")
		default:
			d.errorf(e.keyNode, "roster", "unknown key %q (expected pagerduty)", e.key)
		}
	}
	return r
}

func (d *decoder) pagerDutyRoster(n ast.Node, path string) *PagerDutyRoster {
	entries, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	pd := &PagerDutyRoster{Every: DefaultRosterEvery}
	sawSchedules := false
	for _, e := range entries {
		p := path + "." + e.key
		switch e.key {
		case "schedules":
			sawSchedules = true
			ok = d.words(e.value, e.value, p, "the list is empty: name at least one schedule id, such as PXXXXXX", func(s *scalar, ip string) bool {
				id := strings.TrimSpace(s.value)
				if !scheduleRE.MatchString(id) {
					d.errorf(s.node, ip, "%s is not a PagerDuty schedule id (upper-case letters and digits, such as PXXXXXX, from the schedule's URL)", s.shown())
					return false
				}
				if !slices.Contains(pd.Schedules, id) {
					pd.Schedules = append(pd.Schedules, id)
				}
				return true
			}) && ok
		case "every":
			dur, dok := d.durationMin(e.value, p, MinRosterEvery, "%s is under the minimum of 1m")
			if !dok {
				ok = false
				continue
			}
			pd.Every = dur.d
		default:
			d.errorf(e.keyNode, path, "unknown key %q (expected schedules, every)", e.key)
			ok = false
		}
	}
	if !sawSchedules {
		d.errorf(n, path, `missing "schedules" (a list of PagerDuty schedule ids, such as [PXXXXXX])`)
		ok = false
	}
	if !ok {
		return nil
	}
	return pd
}
