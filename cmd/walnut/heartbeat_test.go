package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

const (
	workerToken = "worker-token-0123456789"
	cronToken   = "cron-token-0123456789ab"
	jobToken    = "job-token-0123456789abcd"
)

func heartbeatConfig(t *testing.T, upstream string) string {
	return writeConfig(t, fmt.Sprintf(`
sites:
  - name: Worker
    heartbeat: {every: 2s, grace: 1s, token: "${WORKER_TOKEN}"}
  - name: Cron
    heartbeat: {every: 1h, token: "${CRON_TOKEN}"}
  - name: Job
    heartbeat: {every: 1h, token: "%s"}
  - name: App
    url: %s/
    interval: 1s
    timeout: 1s
`, jobToken, upstream))
}

// post calls the heartbeat endpoint; token goes in the header unless the
// path carries it.
func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// siteAPI reads /api/v1/sites/{slug} with the board's password.
func siteAPI(base, slug, password string) (state, reason string) {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/sites/"+slug, nil)
	req.SetBasicAuth("", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", ""
	}
	defer resp.Body.Close()
	var v struct{ State, Reason string }
	json.NewDecoder(resp.Body).Decode(&v) //nolint:errcheck // a bad answer reads as no state
	return v.State, v.Reason
}

// callsStored counts a site's probes that came from calls, not from the
// runner's "no heartbeat" ones.
func callsStored(t *testing.T, dbURL, slug string) int {
	t.Helper()
	var n int
	err := storetest.Connect(t, dbURL).QueryRow(context.Background(), `
		SELECT count(*) FROM probes p JOIN sites s ON s.id = p.site_id
		 WHERE s.slug = $1 AND p.reason NOT LIKE 'no heartbeat%'`, slug).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServeHeartbeat runs serve with heartbeat sites behind a board
// password and calls in as a job would: refused calls store nothing, a
// run's start and end show on the site, silence turns it notok, and a
// flood is bounded.
func TestServeHeartbeat(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, 200)
	cfg := heartbeatConfig(t, up.URL)
	dbURL := storetest.NewDatabase(t)
	const password = "board-password"
	s := startServeWith(t, cfg, dbURL, map[string]string{
		"WORKER_TOKEN": workerToken, "CRON_TOKEN": cronToken, "WALNUT_PASSWORD": password,
	})
	pool := storetest.Connect(t, dbURL)
	s.waitFor(t, "the app probed", func() bool { st, _ := siteAPI(s.base, "app", password); return st == "ok" })

	hb := s.base + "/api/v1/heartbeat/"
	for name, tc := range map[string]struct {
		url, token, body string
		code             int
		says             string
	}{
		"WrongToken":        {hb + "worker", "worker-token-0123456788", "", 401, "wrong or missing token"},
		"WrongTokenBadJSON": {hb + "worker", "worker-token-0123456788", `{"state": ok}`, 401, "wrong or missing token"},
		"NoTokenTooBig":     {hb + "worker", "", `{"reason": "` + strings.Repeat("x", 9000) + `"}`, 401, "wrong or missing token"},
		"OtherSitesToken":   {hb + "worker", cronToken, "", 401, "wrong or missing token"},
		"NoToken":           {hb + "worker", "", "", 401, "wrong or missing token"},
		"WrongQueryToken":   {hb + "worker?token=nope", "", "", 401, "wrong or missing token"},
		"PasswordIsNot":     {hb + "worker", password, "", 401, "wrong or missing token"},
		"ProbedSite":        {hb + "app", workerToken, "", 404, "no heartbeat site"},
		"UnknownSlug":       {hb + "nope", workerToken, "", 404, "no heartbeat site"},
		"BadJSON":           {hb + "worker", workerToken, `{"state": ok}`, 400, "not a JSON object"},
		"BadState":          {hb + "worker", workerToken, `{"state": "fine"}`, 400, "is not one of ok, notok, pending"},
		"UnknownField":      {hb + "worker", workerToken, `{"status": "ok"}`, 400, "unknown field"},
		"NegativeTime":      {hb + "worker", workerToken, `{"duration_ms": -5}`, 400, "duration_ms -5"},
		"TooBig":            {hb + "worker", workerToken, `{"reason": "` + strings.Repeat("x", 9000) + `"}`, 400, "over 8192 bytes"},
	} {
		code, body := post(t, tc.url, tc.token, tc.body)
		if code != tc.code || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d %s; want %d saying %q", name, code, body, tc.code, tc.says)
		}
	}
	// One accepted call after the refused ones: once its probe is stored,
	// anything a refused call had handed over before it would be too.
	if code, body := post(t, hb+"worker", workerToken, ""); code != 202 {
		t.Fatalf("accepted call: %d %s", code, body)
	}
	s.waitFor(t, "the accepted call stored", func() bool { return callsStored(t, dbURL, "worker") > 0 })
	if n := callsStored(t, dbURL, "worker"); n != 1 {
		t.Fatalf("refused calls and one accepted call stored %d probes, want 1", n)
	}

	// A job reports its start, then its end, with the token in the query
	// for a tool that cannot set headers. Job calls once an hour: no
	// deadline passes while the test looks.
	if code, body := post(t, hb+"job", jobToken, `{"state": "pending", "reason": "run started"}`); code != 202 || !strings.Contains(body, `"state":"pending"`) {
		t.Fatalf("start: %d %s", code, body)
	}
	s.waitFor(t, "job pending", func() bool { st, _ := siteAPI(s.base, "job", password); return st == "pending" })
	if code, body := post(t, hb+"job?token="+jobToken, "", `{"state": "ok", "duration_ms": 1200}`); code != 202 {
		t.Fatalf("end: %d %s", code, body)
	}
	s.waitFor(t, "job ok", func() bool { st, _ := siteAPI(s.base, "job", password); return st == "ok" })

	// The worker's job stopped calling: every (2s) + grace (1s) after its
	// call it is notok.
	s.waitFor(t, "worker notok", func() bool {
		st, reason := siteAPI(s.base, "worker", password)
		return st == "notok" && strings.HasPrefix(reason, "no heartbeat for ")
	})

	// A flood: every call is answered, few are stored. The last call says
	// so in its reason: once its probe is stored (the latest word wins a
	// merge), every probe of the flood is.
	before := callsStored(t, dbURL, "cron")
	start := time.Now()
	for i := range 30 {
		body := ""
		if i == 29 {
			body = `{"reason": "last of the flood"}`
		}
		if code, body := post(t, hb+"cron", cronToken, body); code != 202 {
			t.Fatalf("flood: %d %s", code, body)
		}
	}
	s.waitFor(t, "the flood's last call stored", func() bool {
		var n int
		err := storetest.Connect(t, dbURL).QueryRow(context.Background(), `
			SELECT count(*) FROM probes p JOIN sites s ON s.id = p.site_id
			 WHERE s.slug = 'cron' AND p.reason = 'last of the flood'`).Scan(&n)
		return err == nil && n == 1
	})
	// At most one probe a second is stored, and the first at once: the
	// bound grows with the time the flood took, so a slow machine does
	// not fail it.
	bound := 2 + int(time.Since(start)/time.Second)
	n := callsStored(t, dbURL, "cron") - before
	if n > bound {
		t.Errorf("30 calls stored %d probes, want at most %d", n, bound)
	}
	t.Logf("flood: 30 calls in %s stored %d probes", time.Since(start).Round(time.Millisecond), n)

	if strings.Contains(s.log.String(), workerToken) || strings.Contains(s.log.String(), cronToken) {
		t.Errorf("a token reached the log")
	}
	var leaked int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM probes WHERE reason LIKE '%token-0123%'`).Scan(&leaked); err != nil || leaked != 0 {
		t.Errorf("tokens in stored reasons: %d, %v", leaked, err)
	}

	// walnut check on a heartbeat site: nothing to probe; the last call
	// from the database.
	environ := fakeEnv(map[string]string{"DATABASE_URL": dbURL, "WORKER_TOKEN": workerToken, "CRON_TOKEN": cronToken})
	for _, tc := range []struct {
		slug string
		env  env
		code int
		says []string
	}{
		{"cron", environ, 0, []string{"every      1h", "grace      12m", "last call", "state      ok"}},
		{"worker", environ, 1, []string{"no heartbeat for"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"check", "--config", cfg, tc.slug}, &stdout, &stderr, tc.env)
		out := stdout.String() + stderr.String()
		if code != tc.code {
			t.Errorf("check %s: exit %d, want %d:\n%s", tc.slug, code, tc.code, out)
		}
		for _, want := range append(tc.says, "none: the job calls POST /api/v1/heartbeat/"+tc.slug) {
			if !strings.Contains(out, want) {
				t.Errorf("check %s: output lacks %q:\n%s", tc.slug, want, out)
			}
		}
		if strings.Contains(out, cronToken) || strings.Contains(out, workerToken) {
			t.Errorf("check %s shows a token:\n%s", tc.slug, out)
		}
	}
}

// A restart keeps the silence's clock: the new process reads the last call
// from the database and reports a job that went quiet before it started.
func TestServeHeartbeatRestart(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, 200)
	cfg := heartbeatConfig(t, up.URL)
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"WORKER_TOKEN": workerToken, "CRON_TOKEN": cronToken}
	a := startServeWith(t, cfg, dbURL, vars)
	a.waitFor(t, "the app probed", func() bool { st, _ := siteAPI(a.base, "app", ""); return st == "ok" })
	if code, body := post(t, a.base+"/api/v1/heartbeat/cron", cronToken, ""); code != 202 {
		t.Fatalf("%d %s", code, body)
	}
	a.waitFor(t, "cron ok", func() bool { st, _ := siteAPI(a.base, "cron", ""); return st == "ok" })
	a.stop()

	// An hour and a quarter passes in the database.
	pool := storetest.Connect(t, dbURL)
	if _, err := pool.Exec(context.Background(), `UPDATE heartbeats SET last_at = last_at - interval '75 minutes'`); err != nil {
		t.Fatal(err)
	}
	b := startServeWith(t, cfg, dbURL, vars)
	b.waitFor(t, "cron notok at once", func() bool {
		st, reason := siteAPI(b.base, "cron", "")
		return st == "notok" && reason == "no heartbeat for 1h15m"
	})
}

// The example config's "Billing worker" is a heartbeat site that serve
// --demo feeds: it goes pending when a run starts and ok when it ends. A
// WALNUT_DEMO_HEARTBEAT_TOKEN set in the environment is the one it takes,
// so a person can call in with curl too.
func TestDemoFeedsBillingWorker(t *testing.T) {
	t.Parallel()
	const token = "my-demo-token-0123456789"
	s := serveOn(t, freePort(t), map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "WALNUT_DEMO_HEARTBEAT_TOKEN": token},
		"serve", "--demo", "--config", "../../walnut.example.yaml")
	seen := map[string]bool{}
	s.waitFor(t, "the billing worker's run to start and end", func() bool {
		st, _ := siteAPI(s.base, "billing-worker", "")
		seen[st] = true
		return seen["pending"] && st == "ok"
	})
	if code, body := post(t, s.base+"/api/v1/heartbeat/billing-worker", token, `{"state": "ok"}`); code != http.StatusAccepted {
		t.Errorf("a call with the token from the environment: %d %s", code, body)
	}
}

// With two instances, the call may reach the one that does not watch the
// site's deadline: the watcher reads the call from the database and stays
// quiet, for as long as the job keeps calling the other one.
func TestServeHeartbeatAcrossInstances(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, 200)
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - name: Worker
    heartbeat: {every: 2s, grace: 1s, token: "${WORKER_TOKEN}"}
  - {name: App, url: %q, interval: 1s, timeout: 1s}
`, up.URL+"/"))
	dbURL := storetest.NewDatabase(t)
	pool := storetest.Connect(t, dbURL)
	vars := map[string]string{"WORKER_TOKEN": workerToken}
	a := startServeWith(t, cfg, dbURL, vars)
	a.waitFor(t, "the app probed", func() bool { st, _ := siteAPI(a.base, "app", ""); return st == "ok" })
	b := startServeWith(t, cfg, dbURL, vars)
	owner := func() string {
		var o string
		pool.QueryRow(context.Background(), `SELECT l.owner FROM site_leases l JOIN sites s ON s.id = l.site_id WHERE s.slug = 'worker'`).Scan(&o) //nolint:errcheck // "" until leased
		return o
	}
	instanceOf := func(s *served) string {
		// The log is JSON: {"msg":"walnut is serving",…,"instance":"ID",…}
		_, after, _ := strings.Cut(s.log.String(), `"instance":"`)
		id, _, _ := strings.Cut(after, `"`)
		return id
	}
	// Each instance holds one of the two sites once they have split.
	var other *served
	a.waitFor(t, "the sites split between the instances", func() bool {
		var n int
		pool.QueryRow(context.Background(), `SELECT count(DISTINCT owner) FROM site_leases`).Scan(&n) //nolint:errcheck // retried
		if n != 2 {
			return false
		}
		switch owner() {
		case instanceOf(a):
			other = b
		case instanceOf(b):
			other = a
		default:
			return false
		}
		return true
	})

	// The job calls the instance that does not hold the worker, twice a
	// second, over five deadlines' worth of calls.
	for i := range 30 {
		if code, body := post(t, other.base+"/api/v1/heartbeat/worker", workerToken, ""); code != 202 {
			t.Fatalf("call %d: %d %s", i, code, body)
		}
		tick := time.NewTimer(500 * time.Millisecond)
		<-tick.C
	}
	// Before the job started the worker was overdue, and a "no heartbeat"
	// probe may have raced its first call. Any later one would come every +
	// grace (3s) after a call at the soonest, so the probes counted are
	// those from 3s after the first call's on: no clock of the test's.
	other.waitFor(t, "the first call stored", func() bool { return callsStored(t, dbURL, "worker") > 0 })
	var overdue int
	if err := pool.QueryRow(context.Background(), `
		WITH first AS (
		  SELECT min(p.at) AS at FROM probes p JOIN sites s ON s.id = p.site_id
		   WHERE s.slug = 'worker' AND p.reason NOT LIKE 'no heartbeat%')
		SELECT count(*) FROM probes p JOIN sites s ON s.id = p.site_id, first
		 WHERE s.slug = 'worker' AND p.state = 'notok' AND p.at >= first.at + interval '3 seconds'`).Scan(&overdue); err != nil {
		t.Fatal(err)
	}
	if overdue != 0 {
		t.Fatalf("the watching instance wrote %d notok probes while the job called the other one", overdue)
	}
	if st, _ := siteAPI(other.base, "worker", ""); st != "ok" {
		t.Fatalf("worker is %q, want ok", st)
	}
}

// A maintenance window covers heartbeat sites like the others: a job's
// failure and its silence are grey "maintenance", and nobody is told.
func TestServeHeartbeatMaintenance(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - name: Worker
    heartbeat: {every: 2s, grace: 1s, token: "${WORKER_TOKEN}"}
maintenance:
  - sites: [worker]
    from: %s
    to: %s
    reason: database upgrade
`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	s := startServeWith(t, cfg, storetest.NewDatabase(t), map[string]string{"WORKER_TOKEN": workerToken})
	s.waitFor(t, "serve up", func() bool { st, _ := siteAPI(s.base, "worker", ""); return st != "" })
	if code, body := post(t, s.base+"/api/v1/heartbeat/worker", workerToken, `{"state": "notok", "reason": "exit 1"}`); code != 202 {
		t.Fatalf("%d %s", code, body)
	}
	s.waitFor(t, "worker pending maintenance", func() bool {
		st, reason := siteAPI(s.base, "worker", "")
		return st == "pending" && reason == "maintenance: database upgrade"
	})
}

// walnut config check lists a heartbeat site with its every and grace,
// and never its token.
func TestConfigCheckHeartbeat(t *testing.T) {
	t.Parallel()
	cfg := heartbeatConfig(t, "https://app.example.com")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"config", "check", "--config", cfg}, &stdout, &stderr,
		fakeEnv(map[string]string{"WORKER_TOKEN": workerToken, "CRON_TOKEN": cronToken}))
	out := stdout.String()
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, stderr.String())
	}
	for _, want := range []string{"worker  Worker", "2s", "grace 1s", "heartbeat", "/api/v1/heartbeat/worker", "4 sites, config OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, workerToken) || strings.Contains(out, cronToken) {
		t.Errorf("a token is shown:\n%s", out)
	}
}

// walnut check on a heartbeat site without DATABASE_URL reads the local
// PostgreSQL under .walnut/, as serve and walnut roster do, and says how long
// the job has been silent as the board would: "no heartbeat for 2…s", not
// "0s". Not parallel: it changes the working directory.
func TestCheckHeartbeatLocalDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a local PostgreSQL")
	}
	t.Chdir(t.TempDir())
	cfg := writeConfig(t, "sites:\n  - name: Worker\n    heartbeat: {every: 10s, grace: 2s, token: \"${WORKER_TOKEN}\"}\n")
	vars := map[string]string{"WORKER_TOKEN": workerToken, "WALNUT_LOG_LEVEL": "warn"}
	ctx := context.Background()

	// What a serve on the local database would have left: the site, and a
	// call 20 s ago.
	st, closeDB, err := openDatabase(ctx, fakeEnv(vars), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		closeDB()
		t.Fatal(err)
	}
	ids, err := st.SiteSync(ctx, []store.SiteSpec{{Slug: "worker", Name: "Worker", URL: "/api/v1/heartbeat/worker", Interval: 12 * time.Second}})
	if err == nil {
		err = st.HeartbeatTouch(ctx, ids["worker"], time.Now().Add(-20*time.Second))
	}
	closeDB()
	if err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"check", "--config", cfg, "worker"}, &stdout, &stderr, fakeEnv(vars))
	out := stdout.String() + stderr.String()
	if code != 1 {
		t.Errorf("check worker: exit %d, want 1:\n%s", code, out)
	}
	m := regexp.MustCompile(`state +notok: no heartbeat for (\d+)s\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("check worker: no \"no heartbeat for …s\" line:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 20 {
		t.Errorf("check worker: silent for %ss, want at least 20s:\n%s", m[1], out)
	}
}
