package oncall_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/oncall"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const apiToken = "u+pd-read-only-0123456789"

// fakePagerDuty answers GET /oncalls and GET /users/{id}/contact_methods as
// PagerDuty's REST API v2 does, from a fixed set of on-calls. It never gives
// more than pageSize on-calls a page, whatever limit is asked, so paging
// with offset and more is exercised. status, when set, is the answer to
// every request instead.
type fakePagerDuty struct {
	*httptest.Server
	pageSize int
	status   atomic.Int32

	mu       sync.Mutex
	requests []string // path and query of each /oncalls request
}

type fakeOnCall struct {
	user, name, email string
	phoneRef          bool
	schedule          string // "" for a user named directly in an escalation policy
	level             int
	start, end        string // "" for null: on call for the whole window
}

var onCalls = []fakeOnCall{
	{"PADA", "Ada Lovelace", "ada@example.com", true, "PSUPPORT", 1, "2026-11-30T09:00:00Z", "2026-12-03T09:00:00Z"},
	{"PGRACE", "Grace Hopper", "grace@example.com", false, "PSUPPORT", 1, "2026-12-03T09:00:00Z", "2026-12-06T09:00:00Z"},
	{"PADA", "Ada Lovelace", "ada@example.com", true, "PSUPPORT", 1, "2026-12-06T09:00:00Z", "2026-12-10T09:00:00Z"},
	{"PLIN", "Linus Torvalds", "linus@example.com", true, "PSECOND", 2, "", ""},
	{"PDIRECT", "Someone Direct", "direct@example.com", false, "", 1, "", ""},
	{"POTHER", "Not Asked For", "other@example.com", false, "POTHER", 1, "", ""},
	{"PLATE", "Next Month", "late@example.com", false, "PSUPPORT", 1, "2027-01-01T00:00:00Z", "2027-01-08T00:00:00Z"},
}

func newFakePagerDuty(t *testing.T, pageSize int) *fakePagerDuty {
	f := &fakePagerDuty{pageSize: pageSize}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oncalls", f.oncalls)
	mux.HandleFunc("GET /users/{id}/contact_methods", f.contactMethods)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := f.status.Load(); s != 0 {
			writeError(w, int(s), "Internal Server Error", 2001)
			return
		}
		if r.Header.Get("Authorization") != "Token token="+apiToken {
			writeError(w, http.StatusUnauthorized, "Invalid Credentials", 2006)
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "application/vnd.pagerduty+json;version=2") {
			writeError(w, http.StatusBadRequest, "Wrong Accept header", 2001)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func writeError(w http.ResponseWriter, status int, msg string, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error": {"message": %q, "code": %d}}`, msg, code)
}

func (f *fakePagerDuty) oncalls(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.RawQuery)
	f.mu.Unlock()
	q := r.URL.Query()
	since, err1 := time.Parse(time.RFC3339, q.Get("since"))
	until, err2 := time.Parse(time.RFC3339, q.Get("until"))
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, "Invalid since or until", 2001)
		return
	}
	limit, _ := strconv.Atoi(cmpOr(q.Get("limit"), "25"))
	offset, _ := strconv.Atoi(cmpOr(q.Get("offset"), "0"))
	limit = min(limit, 100, f.pageSize)
	schedules := q["schedule_ids[]"]
	withUsers := slices.Contains(q["include[]"], "users")
	var all []map[string]any
	for _, oc := range onCalls {
		if oc.schedule != "" && !slices.Contains(schedules, oc.schedule) {
			continue
		}
		if oc.schedule == "" && len(schedules) > 0 {
			// PagerDuty lists on-calls of escalation policies that use the
			// schedules, levels without a schedule among them.
			if !slices.Contains(schedules, "PSUPPORT") {
				continue
			}
		}
		if oc.start != "" {
			s, _ := time.Parse(time.RFC3339, oc.start)
			e, _ := time.Parse(time.RFC3339, oc.end)
			if !s.Before(until) || !e.After(since) {
				continue
			}
		}
		user := map[string]any{"id": oc.user, "type": "user_reference", "summary": oc.name}
		if withUsers {
			methods := []map[string]any{{"id": "PE" + oc.user, "type": "email_contact_method_reference", "summary": "Default"}}
			if oc.phoneRef {
				methods = append(methods, map[string]any{"id": "PP" + oc.user, "type": "phone_contact_method_reference", "summary": "Mobile"})
			}
			user = map[string]any{"id": oc.user, "type": "user", "summary": oc.name, "name": oc.name, "email": oc.email, "contact_methods": methods}
		}
		entry := map[string]any{
			"user":              user,
			"escalation_policy": map[string]any{"id": "PEP1", "type": "escalation_policy_reference", "summary": "Support"},
			"escalation_level":  oc.level,
			"schedule":          nil,
			"start":             nil,
			"end":               nil,
		}
		if oc.schedule != "" {
			entry["schedule"] = map[string]any{"id": oc.schedule, "type": "schedule_reference", "summary": oc.schedule}
		}
		if oc.start != "" {
			entry["start"], entry["end"] = oc.start, oc.end
		}
		all = append(all, entry)
	}
	page := []map[string]any{}
	if offset < len(all) {
		page = all[offset:min(offset+limit, len(all))]
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // a test server
		"oncalls": page, "limit": limit, "offset": offset, "more": offset+len(page) < len(all), "total": nil,
	})
}

func (f *fakePagerDuty) contactMethods(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("id") {
	case "PADA":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"contact_methods": [
			{"id": "PEPADA", "type": "email_contact_method", "label": "Default", "address": "ada@example.com"},
			{"id": "PPPADA", "type": "phone_contact_method", "label": "Mobile", "address": "2079460000", "country_code": 44}]}`)
	default:
		// A key that may read schedules but not everyone's contacts.
		writeError(w, http.StatusForbidden, "Access Denied", 2010)
	}
}

func (f *fakePagerDuty) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func rosterOf(t *testing.T, st *store.Store, from, to string) []string {
	t.Helper()
	f, _ := time.Parse(time.DateOnly, from)
	l, _ := time.Parse(time.DateOnly, to)
	shifts, err := st.RosterBetween(context.Background(), f, l)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range shifts {
		out = append(out, fmt.Sprintf("%s..%s %s <%s>", s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly), s.Person, s.Contact))
	}
	return out
}

var syncNow = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func newSyncer(st *store.Store, url, token string, now *time.Time) *oncall.PagerDuty {
	p := oncall.New(oncall.Options{
		Token: token, APIURL: url, Store: st,
		Now: func() time.Time { return *now }, Location: time.UTC,
	})
	p.SetSchedules([]string{"PSUPPORT", "PSECOND"}, 5*time.Minute)
	return p
}

// A sync reads every page of on-calls of the schedules for today and the
// next 7 days and writes them as the roster's days, with emails and, where
// PagerDuty lets the key read them, phone numbers.
func TestSyncPagesThroughOnCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	fake := newFakePagerDuty(t, 2)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	// An imported roster that PagerDuty's days take over.
	if err := st.RosterReplace(ctx, []store.Shift{{Start: day("2026-12-01"), End: day("2026-12-04"), Person: "From CSV"}}); err != nil {
		t.Fatal(err)
	}
	now := syncNow
	if err := newSyncer(st, fake.URL, apiToken, &now).Sync(ctx); err != nil {
		t.Fatal(err)
	}

	reqs := fake.seen()
	if len(reqs) != 3 {
		t.Fatalf("%d requests to /oncalls, want 3 pages of 2: %q", len(reqs), reqs)
	}
	for i, raw := range reqs {
		q, _ := urlQuery(raw)
		if got := q.Get("offset"); got != fmt.Sprint(2*i) && !(i == 0 && got == "") {
			t.Errorf("request %d: offset %q, want %d", i, got, 2*i)
		}
		if !slices.Equal(q["schedule_ids[]"], []string{"PSUPPORT", "PSECOND"}) || !slices.Contains(q["include[]"], "users") {
			t.Errorf("request %d: %s", i, raw)
		}
		if q.Get("since") != "2026-12-02T00:00:00Z" || q.Get("until") != "2026-12-10T00:00:00Z" {
			t.Errorf("request %d: since %s until %s, want today and 8 days on", i, q.Get("since"), q.Get("until"))
		}
	}

	want := []string{
		"2026-12-01..2026-12-01 From CSV <>",
		"2026-12-02..2026-12-03 Ada Lovelace <ada@example.com · +44 2079460000>",
		"2026-12-02..2026-12-09 Linus Torvalds <linus@example.com>",
		"2026-12-03..2026-12-06 Grace Hopper <grace@example.com>",
		"2026-12-06..2026-12-09 Ada Lovelace <ada@example.com · +44 2079460000>",
	}
	if got := rosterOf(t, st, "2026-11-01", "2027-02-01"); !slices.Equal(got, want) {
		t.Fatalf("roster:\n got %q\nwant %q", got, want)
	}
	syncs, err := st.RosterSyncs(ctx)
	if err != nil || len(syncs) != 1 || syncs[0].SyncedAt == nil || !syncs[0].SyncedAt.Equal(now) || syncs[0].Error != "" {
		t.Fatalf("sync record = %+v, %v", syncs, err)
	}
}

// When PagerDuty refuses the key or fails, the last roster stays and the
// failure is recorded, without the token, for /healthz and the board.
func TestSyncFailureKeepsRoster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	fake := newFakePagerDuty(t, 100)
	now := syncNow
	good := newSyncer(st, fake.URL, apiToken, &now)
	if err := good.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	before := rosterOf(t, st, "2026-12-02", "2026-12-09")
	if len(before) != 4 {
		t.Fatalf("roster after the first sync: %q", before)
	}
	syncedAt := now

	for name, tc := range map[string]struct {
		syncer *oncall.PagerDuty
		status int32
		says   string
	}{
		"BadToken":    {newSyncer(st, fake.URL, "u+wrong-key-0123456789", &now), 0, "401"},
		"ServerError": {good, 500, "500"},
		"NoToken":     {newSyncer(st, fake.URL, "", &now), 0, "PAGERDUTY_API_TOKEN is not set"},
	} {
		now = now.Add(5 * time.Minute)
		fake.status.Store(tc.status)
		err := tc.syncer.Sync(ctx)
		fake.status.Store(0)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: err = %v, want one saying %s", name, err, tc.says)
		}
		syncs, rerr := st.RosterSyncs(ctx)
		if rerr != nil || len(syncs) != 1 {
			t.Fatalf("%s: syncs = %+v, %v", name, syncs, rerr)
		}
		s := syncs[0]
		if !strings.Contains(s.Error, tc.says) || !s.AttemptedAt.Equal(now) || s.SyncedAt == nil || !s.SyncedAt.Equal(syncedAt) {
			t.Errorf("%s: recorded %+v", name, s)
		}
		if strings.Contains(s.Error, "wrong-key") || strings.Contains(s.Error, apiToken) {
			t.Errorf("%s: the token is in the recorded error: %s", name, s.Error)
		}
		if got := rosterOf(t, st, "2026-12-02", "2026-12-09"); !slices.Equal(got, before) {
			t.Errorf("%s: the roster changed:\n%q\nwas %q", name, got, before)
		}
	}
}

func urlQuery(raw string) (url.Values, error) { return url.ParseQuery(raw) }
