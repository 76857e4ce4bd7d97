package config

import (
	"reflect"
	"testing"
	"time"
)

func TestRosterPagerDuty(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, `
roster:
  pagerduty: {schedules: [PABC123, "${SECOND_SCHEDULE}", PABC123]}
sites:
  - {name: API, url: "https://api.example.com/"}
`, map[string]string{"SECOND_SCHEDULE": "PXYZ789"})
	want := &Roster{PagerDuty: &PagerDutyRoster{Schedules: []string{"PABC123", "PXYZ789"}, Every: 5 * time.Minute}}
	if !reflect.DeepEqual(cfg.Roster, want) {
		t.Fatalf("Roster = %+v, want %+v", cfg.Roster.PagerDuty, want.PagerDuty)
	}
	if cfg := mustParse(t, "sites:\n  - {name: API, url: \"https://api.example.com/\"}\n", nil); cfg.Roster != nil {
		t.Fatalf("without a roster key, Roster = %+v", cfg.Roster)
	}
}

func TestRosterErrors(t *testing.T) {
	t.Parallel()
	const site = "sites:\n  - {name: API, url: \"https://api.example.com/\"}\n"
	for name, tc := range map[string]struct {
		yaml string
		want []string
	}{
		"NoSchedules": {"roster:\n  pagerduty: {every: 5m}\n" + site,
			[]string{`walnut.yaml:2:14: roster.pagerduty: missing "schedules" (a list of PagerDuty schedule ids, such as [PXXXXXX])`}},
		"EmptySchedules": {"roster:\n  pagerduty: {schedules: []}\n" + site,
			[]string{`walnut.yaml:2:26: roster.pagerduty.schedules: the list is empty: name at least one schedule id, such as PXXXXXX`}},
		"BadID": {"roster:\n  pagerduty:\n    schedules: [PABC123, https://acme.pagerduty.com/schedules/PABC123]\n" + site,
			[]string{`walnut.yaml:3:26: roster.pagerduty.schedules[1]: "https://acme.pagerduty.com/schedules/PABC123" is not a PagerDuty schedule id (upper-case letters and digits, such as PXXXXXX, from the schedule's URL)`}},
		"TooOften": {"roster:\n  pagerduty: {schedules: [PABC123], every: 10s}\n" + site,
			[]string{`walnut.yaml:2:44: roster.pagerduty.every: 10s is under the minimum of 1m`}},
		"UnknownKeys": {"roster:\n  opsgenie: {}\n  pagerduty: {schedules: [PABC123], evry: 5m}\n" + site,
			[]string{
				`walnut.yaml:2:3: roster: unknown key "opsgenie" (expected pagerduty)`,
				`walnut.yaml:3:37: roster.pagerduty: unknown key "evry" (expected schedules, every)`,
			}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, tc.yaml, nil)
			if got := errLines(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
