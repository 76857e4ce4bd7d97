package recipes

import (
	"strings"
	"testing"
)

func TestStatuspage(t *testing.T) {
	t.Parallel()

	const statusPath, summaryPath = "/api/v2/status.json", "/api/v2/summary.json"
	status := func(indicator, description string) map[string]route {
		return map[string]route{statusPath: {body: fixture(t, "statuspage-status.json",
			`"indicator": "none"`, `"indicator": "`+indicator+`"`,
			`All Systems Operational`, description)}}
	}
	summary := func(apiStatus, dashboardStatus string) map[string]route {
		return map[string]route{summaryPath: {body: fixture(t, "statuspage-summary.json",
			`"name": "API Requests",
      "status": "operational"`, `"name": "API Requests",
      "status": "`+apiStatus+`"`,
			`"name": "Dashboard",
      "status": "operational"`, `"name": "Dashboard",
      "status": "`+dashboardStatus+`"`)}}
	}
	api := Options{"components": []any{"API Requests"}}
	both := Options{"components": []any{"API Requests", "Dashboard"}}

	runVerdictCases(t, "statuspage", map[string]verdictCase{
		"IndicatorNone":                         {routes: status("none", "All Systems Operational"), path: statusPath, want: OK},
		"IndicatorMaintenance":                  {routes: status("maintenance", "Service Under Maintenance"), path: statusPath, want: Pending, reason: "GitHub: Service Under Maintenance"},
		"IndicatorMinor":                        {routes: status("minor", "Minor Service Outage"), path: statusPath, want: NotOK, reason: "GitHub: Minor Service Outage"},
		"IndicatorMajor":                        {routes: status("major", "Partial System Outage"), path: statusPath, want: NotOK, reason: "GitHub: Partial System Outage"},
		"IndicatorCritical":                     {routes: status("critical", "Major Service Outage"), path: statusPath, want: NotOK, reason: "GitHub: Major Service Outage"},
		"IndicatorNoText":                       {routes: status("critical", ""), path: statusPath, want: NotOK, reason: "GitHub: critical incident"},
		"IndicatorUnknown":                      {routes: status("purple", "Huh"), path: statusPath, want: NotOK, reason: `GitHub: unknown indicator "purple"`},
		"SummaryWithoutComponentsUsesIndicator": {routes: summary("major_outage", "operational"), path: summaryPath, want: OK},

		"ComponentOperational":  {routes: summary("operational", "major_outage"), path: summaryPath, opts: api, want: OK},
		"ComponentMaintenance":  {routes: summary("under_maintenance", "operational"), path: summaryPath, opts: api, want: Pending, reason: "Stripe: API Requests under_maintenance"},
		"ComponentDegraded":     {routes: summary("degraded_performance", "operational"), path: summaryPath, opts: api, want: NotOK, reason: "Stripe: API Requests degraded_performance"},
		"ComponentPartial":      {routes: summary("partial_outage", "operational"), path: summaryPath, opts: api, want: NotOK, reason: "Stripe: API Requests partial_outage"},
		"ComponentMajor":        {routes: summary("major_outage", "operational"), path: summaryPath, opts: api, want: NotOK, reason: "Stripe: API Requests major_outage"},
		"ComponentUnknown":      {routes: summary("on_fire", "operational"), path: summaryPath, opts: api, want: NotOK, reason: "Stripe: API Requests on_fire"},
		"ComponentNameAnyCase":  {routes: summary("major_outage", "operational"), path: summaryPath, opts: Options{"components": "api requests"}, want: NotOK, reason: "Stripe: api requests major_outage"},
		"WorstWinsNotOK":        {routes: summary("under_maintenance", "partial_outage"), path: summaryPath, opts: both, want: NotOK, reason: "Stripe: Dashboard partial_outage"},
		"WorstWinsPending":      {routes: summary("under_maintenance", "operational"), path: summaryPath, opts: both, want: Pending, reason: "Stripe: API Requests under_maintenance"},
		"AllWorstNamed":         {routes: summary("major_outage", "partial_outage"), path: summaryPath, opts: both, want: NotOK, reason: "Stripe: API Requests major_outage, Dashboard partial_outage"},
		"MissingComponent":      {routes: summary("operational", "operational"), path: summaryPath, opts: Options{"components": []any{"API Requests", "Billing"}}, want: NotOK, reason: `Stripe: component "Billing" not found`},
		"ComponentsOnStatusURL": {routes: status("none", "All Systems Operational"), path: statusPath, opts: api, want: NotOK, reason: "GitHub: no components in the response (use summary.json)"},
		"EmptyComponentList":    {routes: map[string]route{summaryPath: {body: `{"page":{"name":"Stripe"},"components":[],"status":{"indicator":"none"}}`}}, path: summaryPath, opts: api, want: NotOK, reason: `Stripe: component "API Requests" not found`},

		"BadJSON":         {routes: map[string]route{statusPath: {body: `<html>Bad gateway</html>`}}, path: statusPath, want: NotOK, reason: "Statuspage: response is not JSON"},
		"WrongShape":      {routes: map[string]route{statusPath: {body: `{"status":"ok"}`}}, path: statusPath, want: NotOK, reason: "Statuspage: unexpected response (status is string)"},
		"NoStatus":        {routes: map[string]route{statusPath: {body: `{}`}}, path: statusPath, want: NotOK, reason: "Statuspage: no status indicator in the response"},
		"TopLevelArray":   {routes: map[string]route{statusPath: {body: `[]`}}, path: statusPath, want: NotOK, reason: "Statuspage: unexpected response (the top level is array)"},
		"EmptyBody":       {routes: map[string]route{statusPath: {body: ``}}, path: statusPath, want: NotOK, reason: "Statuspage: empty response"},
		"HTTPError":       {routes: map[string]route{statusPath: {status: 503, body: `{}`}}, path: statusPath, want: NotOK, reason: "Statuspage: HTTP 503 Service Unavailable"},
		"NotFound":        {routes: nil, path: statusPath, want: NotOK, reason: "Statuspage: HTTP 404 Not Found"},
		"NoPageName":      {routes: map[string]route{statusPath: {body: `{"status":{"indicator":"major","description":"Partial outage"}}`}}, path: statusPath, want: NotOK, reason: "Statuspage: Partial outage"},
		"HugeBody":        {routes: map[string]route{statusPath: {body: `{"status":{"indicator":"none"},"x":"` + strings.Repeat("a", 2<<20) + `"}`}}, path: statusPath, want: NotOK, reason: "Statuspage: response larger than the body limit"},
		"LongNameClipped": {routes: map[string]route{statusPath: {body: `{"page":{"name":"` + strings.Repeat("x", 200) + `"},"status":{"indicator":"minor","description":"Slow"}}`}}, path: statusPath, want: NotOK, reason: strings.Repeat("x", 80) + "…: Slow"},
	})
}

func TestStatuspageBadOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts Options
		want string
	}{
		"Unknown":         {Options{"component": []any{"API"}}, `unknown option "component" for recipe statuspage`},
		"EmptyComponents": {Options{"components": []any{}}, `option "components" of recipe statuspage is empty`},
		"NumberName":      {Options{"components": []any{1}}, `option "components" of recipe statuspage: 1 is not a name`},
		"BlankName":       {Options{"components": []any{" "}}, `" " is not a name`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Builtin().Build("statuspage", tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
