package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store/storetest"
)

const pdToken = "u+pd-e2e-0123456789abcd"

// newOnCallAPI is PagerDuty's GET /oncalls reduced to one page: Ada on call
// in PSUPPORT from yesterday to next week. failing turns every answer into
// a 500.
func newOnCallAPI(t *testing.T) (*httptest.Server, *atomic.Bool) {
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case failing.Load():
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error": {"message": "Internal Server Error", "code": 2001}}`)
		case r.Header.Get("Authorization") != "Token token="+pdToken:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": {"message": "Invalid Credentials", "code": 2006}}`)
		case r.URL.Path == "/oncalls" && r.URL.Query().Get("schedule_ids[]") == "PSUPPORT":
			now := time.Now().UTC()
			fmt.Fprintf(w, `{"oncalls": [{"user": {"id": "PADA", "type": "user", "name": "Ada Lovelace", "email": "ada@example.com", "contact_methods": []},
				"schedule": {"id": "PSUPPORT", "type": "schedule_reference"}, "escalation_policy": {"id": "PEP", "type": "escalation_policy_reference"},
				"escalation_level": 1, "start": %q, "end": %q}], "limit": 100, "offset": 0, "more": false, "total": null}`,
				now.AddDate(0, 0, -1).Format(time.RFC3339), now.AddDate(0, 0, 6).Format(time.RFC3339))
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error": {"message": "Not Found", "code": 2100}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &failing
}

func pagerDutyConfig(upstream, schedules string) string {
	return fmt.Sprintf("roster:\n  pagerduty: {schedules: [%s], every: 1h}\nsites:\n  - {name: App, url: %q, interval: 1s, timeout: 1s}\n", schedules, upstream+"/")
}

// TestServeRosterFromPagerDuty runs serve with roster.pagerduty against a
// fake PagerDuty: the board and walnut roster show who is on call today;
// when PagerDuty fails, the roster stays, the board says "as of", and
// /healthz says why.
func TestServeRosterFromPagerDuty(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, 200)
	pd, failing := newOnCallAPI(t)
	cfg := writeConfig(t, pagerDutyConfig(up.URL, "PSUPPORT"))
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"PAGERDUTY_API_TOKEN": pdToken, "PAGERDUTY_API_URL": pd.URL}
	s := startServeWith(t, cfg, dbURL, vars)

	board := func() string {
		resp, err := http.Get(s.base + "/")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	s.waitFor(t, "Ada on the board", func() bool { return strings.Contains(board(), "Ada Lovelace") })
	if b := board(); !strings.Contains(b, "ada@example.com") || strings.Contains(b, "support-asof") {
		t.Errorf("board support: want Ada's email and no \"as of\"")
	}

	var out, errOut bytes.Buffer
	environ := fakeEnv(map[string]string{"DATABASE_URL": dbURL})
	if code := run(context.Background(), []string{"roster"}, &out, &errOut, environ); code != exitOK {
		t.Fatalf("walnut roster: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "today") || !strings.Contains(out.String(), "Ada Lovelace (ada@example.com)") || !strings.Contains(out.String(), "from PagerDuty, synced") {
		t.Errorf("walnut roster:\n%s", out.String())
	}

	// PagerDuty fails; a new schedule in the config makes serve sync again
	// at once (the file is polled).
	failing.Store(true)
	if err := os.WriteFile(cfg, []byte(pagerDutyConfig(up.URL, "PSUPPORT, PSECOND")), 0o600); err != nil {
		t.Fatal(err)
	}
	type health struct {
		Roster []struct{ Source, Status, Error string }
	}
	s.waitFor(t, "/healthz to report the failing sync", func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h health
		return json.NewDecoder(resp.Body).Decode(&h) == nil && len(h.Roster) == 1 &&
			h.Roster[0].Source == "pagerduty" && h.Roster[0].Status == "failing" && strings.Contains(h.Roster[0].Error, "500")
	})
	b := board()
	if !strings.Contains(b, "Ada Lovelace") || !strings.Contains(b, `data-testid="support-asof">as of `) {
		t.Errorf("board after the failure: want Ada still, \"as of\" the last sync")
	}
	out.Reset()
	run(context.Background(), []string{"roster"}, &out, &errOut, environ)
	if !strings.Contains(out.String(), "Ada Lovelace") || !strings.Contains(out.String(), "PagerDuty sync failing") {
		t.Errorf("walnut roster after the failure:\n%s", out.String())
	}
	if strings.Contains(s.log.String(), pdToken) || strings.Contains(b, pdToken) {
		t.Error("the PagerDuty token was shown")
	}

	// roster.pagerduty leaves the config: PagerDuty gives its days back.
	// The board has no "as of", /healthz no failing sync, and a CSV import
	// covers today whole.
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("sites:\n  - {name: App, url: %q, interval: 1s, timeout: 1s}\n", up.URL+"/")), 0o600); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "/healthz to drop the PagerDuty sync", func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h health
		return json.NewDecoder(resp.Body).Decode(&h) == nil && len(h.Roster) == 0
	})
	if b := board(); strings.Contains(b, "support-asof") || strings.Contains(b, "Ada Lovelace") {
		t.Errorf("board without roster.pagerduty: want neither \"as of\" nor PagerDuty's Ada")
	}
	today := time.Now()
	csv := writeFile(t, "roster.csv", fmt.Sprintf("start,end,person,contact\n%s,%s,Grace Hopper,@grace\n",
		today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 8).Format(time.DateOnly)))
	errOut.Reset()
	if code := run(context.Background(), []string{"roster", "import", csv}, io.Discard, &errOut, environ); code != exitOK {
		t.Fatalf("roster import: exit %d: %s", code, errOut.String())
	}
	out.Reset()
	run(context.Background(), []string{"roster"}, &out, &errOut, environ)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.Contains(line, "Grace Hopper (@grace)") {
			t.Errorf("walnut roster after an import without PagerDuty: %q lacks the imported shift\n%s", line, out.String())
			break
		}
	}
	if strings.Contains(out.String(), "PagerDuty") {
		t.Errorf("walnut roster still names PagerDuty:\n%s", out.String())
	}
}
