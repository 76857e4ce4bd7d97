package recipes

import (
	"strings"
	"testing"
)

const herokuPath = "/api/v4/current-status"

func herokuV4(t *testing.T, apps, data string) map[string]route {
	return map[string]route{herokuPath: {body: fixture(t, "heroku-current-status.json",
		`"system": "Apps",
      "status": "green"`, `"system": "Apps",
      "status": "`+apps+`"`,
		`"system": "Data",
      "status": "green"`, `"system": "Data",
      "status": "`+data+`"`)}}
}

// herokuIncident is herokuV4 with v4's incidents list set to incidents.
func herokuIncident(t *testing.T, apps, data, incidents string) map[string]route {
	r := herokuV4(t, apps, data)
	body := r[herokuPath].body
	if !strings.Contains(body, `"incidents": []`) {
		t.Fatal(`the v4 fixture has no "incidents": []`)
	}
	r[herokuPath] = route{body: strings.Replace(body, `"incidents": []`, `"incidents": `+incidents, 1)}
	return r
}

func herokuV3(t *testing.T, production, development string) map[string]route {
	return map[string]route{herokuPath: {body: fixture(t, "heroku-status-v3.json",
		`"Production": "green"`, `"Production": "`+production+`"`,
		`"Development": "green"`, `"Development": "`+development+`"`)}}
}

func TestHeroku(t *testing.T) {
	t.Parallel()

	tests := map[string]verdictCase{
		"AllGreen":          {routes: herokuV4(t, "green", "green"), want: OK},
		"AppsRed":           {routes: herokuV4(t, "red", "green"), want: NotOK, reason: "Heroku: Apps red"},
		"DataYellow":        {routes: herokuV4(t, "green", "yellow"), want: NotOK, reason: "Heroku: Data yellow"},
		"BothNamed":         {routes: herokuV4(t, "red", "yellow"), want: NotOK, reason: "Heroku: Apps red, Data yellow"},
		"DataBlue":          {routes: herokuV4(t, "green", "blue"), want: Pending, reason: "Heroku: Data maintenance"},
		"BothBlue":          {routes: herokuV4(t, "BLUE", "blue"), want: Pending, reason: "Heroku: Apps maintenance, Data maintenance"},
		"RedBeatsBlue":      {routes: herokuV4(t, "red", "blue"), want: NotOK, reason: "Heroku: Apps red"},
		"YellowBeatsBlue":   {routes: herokuV4(t, "blue", "yellow"), want: NotOK, reason: "Heroku: Data yellow"},
		"BlueNotWatched":    {routes: herokuV4(t, "green", "blue"), opts: Options{"systems": []any{"Apps"}}, want: OK},
		"MissingBeatsBlue":  {routes: herokuV4(t, "blue", "green"), opts: Options{"systems": []any{"Apps", "Runtime"}}, want: NotOK, reason: `Heroku: system "Runtime" not found`},
		"UnknownColour":     {routes: herokuV4(t, "purple", "green"), want: NotOK, reason: "Heroku: Apps purple"},
		"BlueWithIncident":  {routes: herokuIncident(t, "green", "blue", `[{"title":"Heroku Postgres maintenance","created_at":"2026-12-02T05:00:00Z","full_url":"https://status.heroku.com/incidents/2890","updates":[{"update_type":"scheduled","contents":"Upgrading databases."}]}]`), want: Pending, reason: "Heroku: Data maintenance (Heroku Postgres maintenance)"},
		"RedWithIncidents":  {routes: herokuIncident(t, "red", "green", `[{"title":"Increased  error\nrates"},{"title":"Slow builds"}]`), want: NotOK, reason: "Heroku: Apps red (Increased error rates, and 1 more)"},
		"IncidentUntitled":  {routes: herokuIncident(t, "green", "blue", `[{"title":""}]`), want: Pending, reason: "Heroku: Data maintenance"},
		"IncidentsOddShape": {routes: herokuIncident(t, "green", "blue", `{"title":"x"}`), want: Pending, reason: "Heroku: Data maintenance"},
		"IncidentNotTold":   {routes: herokuIncident(t, "green", "blue", `[{"title":"Apps routing errors"}]`), opts: Options{"systems": "data"}, want: Pending, reason: "Heroku: Data maintenance"},
		"OldProductionBlue": {routes: herokuV3(t, "blue", "green"), want: Pending, reason: "Heroku: Production maintenance"},
		"UpperCaseGreen":    {routes: herokuV4(t, "GREEN", "green"), want: OK},
		"SystemsNarrow":     {routes: herokuV4(t, "green", "red"), opts: Options{"systems": []any{"Apps"}}, want: OK},
		"SystemsNarrowRed":  {routes: herokuV4(t, "red", "green"), opts: Options{"systems": "apps"}, want: NotOK, reason: "Heroku: Apps red"},
		"SystemMissing":     {routes: herokuV4(t, "green", "green"), opts: Options{"systems": []any{"Apps", "Runtime"}}, want: NotOK, reason: `Heroku: system "Runtime" not found`},
		"OldAllGreen":       {routes: herokuV3(t, "green", "green"), want: OK},
		"OldProductionRed":  {routes: herokuV3(t, "red", "green"), want: NotOK, reason: "Heroku: Production red"},
		"OldBothSorted":     {routes: herokuV3(t, "red", "yellow"), want: NotOK, reason: "Heroku: Development yellow, Production red"},
		"OldSystemsNarrow":  {routes: herokuV3(t, "green", "red"), opts: Options{"systems": []any{"Production"}}, want: OK},
		"EmptyList":         {routes: map[string]route{herokuPath: {body: `{"status":[],"incidents":[]}`}}, want: NotOK, reason: "Heroku: no systems in the response"},
		"EmptyStatus":       {routes: map[string]route{herokuPath: {body: `{"status":[{"system":"Apps"}]}`}}, want: NotOK, reason: "Heroku: Apps no status"},
		"NoStatus":          {routes: map[string]route{herokuPath: {body: `{"incidents":[]}`}}, want: NotOK, reason: "Heroku: unexpected response (no status)"},
		"StatusString":      {routes: map[string]route{herokuPath: {body: `{"status":"green"}`}}, want: NotOK, reason: "Heroku: unexpected response (no status)"},
		"ListOfWrongThings": {routes: map[string]route{herokuPath: {body: `{"status":[1,2]}`}}, want: NotOK, reason: "Heroku: unexpected response (status list)"},
		"MapOfWrongThings":  {routes: map[string]route{herokuPath: {body: `{"status":{"Production":{"a":1}}}`}}, want: NotOK, reason: "Heroku: unexpected response (status map)"},
		"BadJSON":           {routes: map[string]route{herokuPath: {body: `{"status":[`}}, want: NotOK, reason: "Heroku: response is not JSON"},
		"HTTPError":         {routes: map[string]route{herokuPath: {status: 502, body: `oops`}}, want: NotOK, reason: "Heroku: HTTP 502 Bad Gateway"},
		"Huge":              {routes: map[string]route{herokuPath: {body: `{"status":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`}}, want: NotOK, reason: "Heroku: response larger than the body limit"},
	}
	for name, tt := range tests {
		tt.path = herokuPath
		tests[name] = tt
	}
	runVerdictCases(t, "heroku", tests)
}

func TestHerokuBadOptions(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		opts Options
		want string
	}{
		"Unknown":      {Options{"system": "Apps"}, `unknown option "system" for recipe heroku`},
		"EmptySystems": {Options{"systems": []any{}}, `option "systems" of recipe heroku is empty`},
		"MapSystem":    {Options{"systems": []any{map[string]any{}}}, `option "systems" of recipe heroku: map[] is not a name`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Builtin().Build("heroku", tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
