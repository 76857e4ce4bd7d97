package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fakePagerDuty answers like the Events API v2: 202 with a JSON body, or the
// programmed failures first.
type fakePagerDuty struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []int // status codes to answer before 202, in order
	requests []pagerduty.V2Event
	accepted []pagerduty.V2Event
	got      chan pagerduty.V2Event
}

func newFakePagerDuty(t *testing.T, replies ...int) *fakePagerDuty {
	f := &fakePagerDuty{replies: replies, got: make(chan pagerduty.V2Event, 100)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
			http.NotFound(w, r)
			return
		}
		var ev pagerduty.V2Event
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("fake pagerduty: bad JSON: %v", err)
		}
		f.mu.Lock()
		f.requests = append(f.requests, ev)
		status := http.StatusAccepted
		if len(f.replies) > 0 {
			status, f.replies = f.replies[0], f.replies[1:]
		}
		if status == http.StatusAccepted {
			f.accepted = append(f.accepted, ev)
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch status {
		case http.StatusAccepted:
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"status":"success","message":"Event processed","dedup_key":%q}`, ev.DedupKey)
			f.got <- ev
		case http.StatusBadRequest:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}`)
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			fmt.Fprint(w, `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`)
		default:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"status":"error","message":"internal error"}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakePagerDuty) snapshot() (requests, accepted []pagerduty.V2Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests), slices.Clone(f.accepted)
}

// wait returns the next accepted event, or fails the test after a generous
// timeout (a hang, not a slow machine).
func (f *fakePagerDuty) wait(t *testing.T) pagerduty.V2Event {
	t.Helper()
	select {
	case ev := <-f.got:
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for a PagerDuty event")
		return pagerduty.V2Event{}
	}
}

type testBundle struct {
	st    *store.Store
	dbURL string
	pool  *storetest.DB // for the test's own SQL
	pd    *fakePagerDuty
	ids   map[string]int32
	clock time.Time // the probes' time; each probe advances it
}

func setup(t *testing.T, slugs []string, replies ...int) *testBundle {
	t.Helper()
	dbURL := storetest.NewDatabase(t)
	pool := storetest.Connect(t, dbURL)
	st := store.New(pool.Pool)
	specs := make([]store.SiteSpec, len(slugs))
	routes := make([]store.NotifyRoute, len(slugs))
	for i, s := range slugs {
		specs[i] = store.SiteSpec{Slug: s, Name: strings.ToUpper(s) + " Site", URL: "https://" + s + ".example.com/health", Interval: time.Minute, Confirm: 1}
		routes[i] = store.NotifyRoute{Slug: s, Sinks: []string{SinkPagerDuty}, Severity: "error"}
	}
	ids, err := st.SiteSync(t.Context(), specs)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.NotifyRoutesSync(t.Context(), routes); err != nil {
		t.Fatal(err)
	}
	b := &testBundle{st: st, dbURL: dbURL, pool: pool, pd: newFakePagerDuty(t, replies...), ids: ids, clock: time.Now().Add(-time.Hour).Truncate(time.Second)}
	return b
}

func (b *testBundle) dispatcher(t *testing.T, mutate func(*Options)) *Dispatcher {
	t.Helper()
	opts := Options{
		Store:             b.st,
		Sinks:             map[string]Sink{SinkPagerDuty: NewPagerDuty("routing-key", b.pd.URL, b.pd.Client())},
		BaseURL:           "https://walnut.example.com/",
		Backoff:           func(int) time.Duration { return 10 * time.Millisecond },
		DefaultFlapping:   Flapping(config.DefaultFlapping()),
		FetchPollInterval: 50 * time.Millisecond,
	}
	if mutate != nil {
		mutate(&opts)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func start(t *testing.T, d *Dispatcher) {
	t.Helper()
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, d) })
}

func stop(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Errorf("stop dispatcher: %v", err)
	}
}

// probe writes one probe of a site, a minute after the previous one.
func (b *testBundle) probe(t *testing.T, slug string, state store.State, status int, reason string) {
	t.Helper()
	b.clock = b.clock.Add(time.Minute)
	if _, err := b.st.WriteProbes(t.Context(), []store.Probe{{
		SiteID: b.ids[slug], At: b.clock, State: state, HTTPStatus: status, Reason: reason,
		Latency: 120 * time.Millisecond, TTFB: 80 * time.Millisecond,
	}}); err != nil {
		t.Fatal(err)
	}
}

// waitIdle waits until no notification is pending.
func (b *testBundle) waitIdle(t *testing.T) []store.SinkHealth {
	t.Helper()
	var h []store.SinkHealth
	storetest.WaitFor(t, "no notification pending and no stream held", func() bool {
		var err error
		if h, err = b.st.NotifyHealth(t.Context()); err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, s := range h {
			pending += s.Pending
		}
		// Each notice is recorded as its sink answers, so a dispatcher
		// may still hold the stream, about to tell a sink that a hold
		// has ended: a stream is held by an advisory lock.
		var held int
		if err := b.pool.QueryRow(t.Context(), `
			SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			 WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		return pending == 0 && held == 0
	})
	return h
}

func TestPagerDutyTriggerThenResolve(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api"})
	start(t, b.dispatcher(t, nil))

	b.probe(t, "api", store.StateOK, 200, "")            // first verdict: pages nobody
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503") // trigger
	b.probe(t, "api", store.StateOK, 200, "")            // resolve

	trig, res := b.pd.wait(t), b.pd.wait(t)
	if trig.Action != "trigger" || res.Action != "resolve" {
		t.Fatalf("actions = %s, %s; want trigger, resolve", trig.Action, res.Action)
	}
	if trig.DedupKey != "walnut/api" || res.DedupKey != "walnut/api" {
		t.Errorf("dedup keys = %q, %q; want walnut/api for both", trig.DedupKey, res.DedupKey)
	}
	if trig.RoutingKey != "routing-key" {
		t.Errorf("routing key = %q", trig.RoutingKey)
	}
	p := trig.Payload
	if p == nil || !strings.Contains(p.Summary, "API Site") || !strings.Contains(p.Summary, "HTTP 503") {
		t.Fatalf("summary should name the site and the reason: %+v", p)
	}
	if p.Severity != "error" {
		t.Errorf("severity = %q, want the site's", p.Severity)
	}
	details, _ := p.Details.(map[string]any)
	if details["http_status"] != float64(503) || details["url"] != "https://api.example.com/health" ||
		details["link"] != "https://walnut.example.com/sites/api" || details["timings_ms"] == nil {
		t.Errorf("custom_details = %v", details)
	}
	b.waitIdle(t)
	if reqs, _ := b.pd.snapshot(); len(reqs) != 2 {
		t.Errorf("PagerDuty got %d requests, want 2", len(reqs))
	}
}

func TestServerErrorsAndRateLimitThenDeliverOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api"}, 500, 429, 502)
	start(t, b.dispatcher(t, nil))

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 0, "connection refused")
	if ev := b.pd.wait(t); ev.Action != "trigger" {
		t.Fatalf("action = %s", ev.Action)
	}
	b.waitIdle(t)
	reqs, accepted := b.pd.snapshot()
	if len(reqs) != 4 || len(accepted) != 1 {
		t.Errorf("requests = %d, accepted = %d; want 4 attempts and 1 delivery", len(reqs), len(accepted))
	}
}

func TestBadRoutingKeyIsReportedNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api"}, 400, 400)
	start(t, b.dispatcher(t, nil))

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 500, "HTTP 500")
	b.probe(t, "api", store.StateOK, 200, "")
	h := b.waitIdle(t)
	reqs, _ := b.pd.snapshot()
	if len(reqs) != 2 {
		t.Errorf("requests = %d, want 2: one per notice, none retried", len(reqs))
	}
	if len(h) != 1 || h[0].Sink != SinkPagerDuty || h[0].LastOutcome != "failed" ||
		!strings.Contains(h[0].LastDetail, "HTTP 400: Event object is invalid: Length of 'routing_key' is incorrect") {
		rows, _ := b.pool.Query(t.Context(), "SELECT id, sink, coalesce(done_at::text,''), outcome, detail, attempts FROM notifications")
		for rows.Next() {
			var id int64
			var sink, done, outcome, detail string
			var attempts int
			_ = rows.Scan(&id, &sink, &done, &outcome, &detail, &attempts)
			t.Logf("row %d %s %q %q %q %d", id, sink, done, outcome, detail, attempts)
		}
		rows.Close()
		t.Errorf("health = %+v, want pagerduty failed with the 400", h)
	}
}

func TestPendingNotificationDeliveredAfterRestart(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api"})
	first := b.dispatcher(t, func(o *Options) { o.ClientID = "first" })
	if err := first.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stop(t, first)

	// Written while no process works the queue.
	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 500, "HTTP 500")

	start(t, b.dispatcher(t, func(o *Options) { o.ClientID = "second" }))
	if ev := b.pd.wait(t); ev.Action != "trigger" || ev.DedupKey != "walnut/api" {
		t.Fatalf("event = %s %s", ev.Action, ev.DedupKey)
	}
}

func TestTwoProcessesDeliverEachNoticeOnce(t *testing.T) {
	t.Parallel()
	slugs := []string{"a", "b", "c", "d"}
	b := setup(t, slugs)
	// A second process: its own pool, its own River client.
	pool2 := storetest.Connect(t, b.dbURL)
	start(t, b.dispatcher(t, func(o *Options) { o.ClientID = "one" }))
	start(t, b.dispatcher(t, func(o *Options) { o.ClientID = "two"; o.Store = store.New(pool2.Pool) }))

	for _, s := range slugs {
		b.probe(t, s, store.StateOK, 200, "")
	}
	for range 2 {
		for _, s := range slugs {
			b.probe(t, s, store.StateNotOK, 500, "HTTP 500")
		}
		for _, s := range slugs {
			b.probe(t, s, store.StateOK, 200, "")
		}
	}
	b.waitIdle(t)
	reqs, _ := b.pd.snapshot()
	bySite := map[string][]string{}
	for _, ev := range reqs {
		bySite[ev.DedupKey] = append(bySite[ev.DedupKey], ev.Action)
	}
	want := []string{"trigger", "resolve", "trigger", "resolve"}
	for _, s := range slugs {
		if got := bySite["walnut/"+s]; !slices.Equal(got, want) {
			t.Errorf("site %s: %v, want %v in order, once each", s, got, want)
		}
	}
}

func TestFlappingSendsOneNotice(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api"})
	clock := storetest.NewClock(b.clock)
	d := b.dispatcher(t, func(o *Options) { o.Now = clock.Now })
	start(t, d)

	b.probe(t, "api", store.StateOK, 200, "")
	for i := range 8 {
		if i%2 == 0 {
			b.probe(t, "api", store.StateNotOK, 500, "HTTP 500")
		} else {
			b.probe(t, "api", store.StateOK, 200, "")
		}
	}
	clock.Set(b.clock.Add(time.Second)) // the site has not settled yet
	// Same batch order, so the dispatcher sees them at once or in steps;
	// either way the outcome is the same.
	b.waitIdle(t)
	reqs, _ := b.pd.snapshot()
	var flapping int
	for _, ev := range reqs {
		if ev.Payload != nil && ev.Payload.Class == string(EventFlapping) {
			flapping++
		}
	}
	// Changes 1-4 are sent, the 5th is the flapping notice, 6-8 are held.
	if flapping != 1 || len(reqs) != 5 {
		t.Fatalf("requests = %d with %d flapping notices, want 5 with 1", len(reqs), flapping)
	}

	// Once quiet for the settle time, the sink hears where the site stands
	// (ok after eight changes): the incident is resolved.
	clock.Set(b.clock.Add(11 * time.Minute))
	for range 5 {
		b.pd.wait(t)
	}
	if err := b.st.NotifyWakeAt(t.Context(), b.ids["api"], SinkPagerDuty, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ev := b.pd.wait(t); ev.Action != "resolve" {
		t.Fatalf("after settling: %s, want resolve", ev.Action)
	}
}

func TestMaintenancePagesNobody(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api", "web"})
	windows := config.Windows{{Sites: []string{"a*"}, From: b.clock, To: b.clock.Add(24 * time.Hour)}}
	start(t, b.dispatcher(t, func(o *Options) { o.Maintenance = windows }))

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "web", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
	b.probe(t, "web", store.StateNotOK, 503, "HTTP 503")
	if ev := b.pd.wait(t); ev.DedupKey != "walnut/web" {
		t.Fatalf("paged %s; only web is outside the window", ev.DedupKey)
	}
	b.waitIdle(t)
	if reqs, _ := b.pd.snapshot(); len(reqs) != 1 {
		t.Errorf("requests = %d, want 1", len(reqs))
	}
}

func TestMaintenanceEndTellsWhereTheSiteIs(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api", "db"})
	windows := config.Windows{{Sites: []string{"*"}, From: b.clock, To: time.Now().Add(time.Hour)}}
	d := b.dispatcher(t, func(o *Options) { o.Maintenance = windows })
	start(t, d)

	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "db", store.StateOK, 200, "")
	// api goes down and stays down; db goes down and comes back.
	b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
	b.probe(t, "db", store.StateNotOK, 503, "HTTP 503")
	b.probe(t, "db", store.StateOK, 200, "")
	b.waitIdle(t)
	if reqs, _ := b.pd.snapshot(); len(reqs) != 0 {
		t.Fatalf("paged during maintenance: %+v", reqs)
	}

	// The window ends (here: is removed) and the dispatcher looks again,
	// as it would at the window's end.
	d.SetMaintenance(nil)
	for _, slug := range []string{"api", "db"} {
		if err := b.st.NotifyWakeAt(t.Context(), b.ids[slug], SinkPagerDuty, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ev := b.pd.wait(t)
	if ev.Action != "trigger" || ev.DedupKey != "walnut/api" || ev.Payload.Class != string(EventSettled) {
		t.Fatalf("after the window: %s %s; want a trigger for api, still down", ev.Action, ev.DedupKey)
	}
	b.waitIdle(t)
	if reqs, _ := b.pd.snapshot(); len(reqs) != 1 {
		t.Errorf("requests = %d, want 1: db is back as it was", len(reqs))
	}
}

func TestSweepWakesNoticesWithoutAJob(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"api"})
	b.probe(t, "api", store.StateOK, 200, "")
	b.probe(t, "api", store.StateNotOK, 500, "HTTP 500")
	// As if River had given up on the job after its last attempt.
	if _, err := b.pool.Exec(t.Context(), "DELETE FROM river_job"); err != nil {
		t.Fatal(err)
	}
	start(t, b.dispatcher(t, func(o *Options) { o.SweepInterval = 200 * time.Millisecond }))
	if ev := b.pd.wait(t); ev.Action != "trigger" {
		t.Fatalf("action = %s", ev.Action)
	}
}
