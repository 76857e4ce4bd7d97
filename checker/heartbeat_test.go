package checker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

const testToken = "s3cret-heartbeat-token"

// fakeHeartbeatStore is the heartbeats table of a database shared with
// other instances: lastFunc, when set, stands for calls they took.
type fakeHeartbeatStore struct {
	mu       sync.Mutex
	last     map[int32]time.Time
	reads    int
	touches  int
	lastFunc func() time.Time
	read     chan struct{}
}

func newFakeHeartbeatStore() *fakeHeartbeatStore {
	return &fakeHeartbeatStore{last: map[int32]time.Time{}, read: make(chan struct{}, 100)}
}

func (f *fakeHeartbeatStore) HeartbeatTouch(_ context.Context, id int32, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.touches++
	if at.After(f.last[id]) {
		f.last[id] = at
	}
	return nil
}

func (f *fakeHeartbeatStore) HeartbeatLast(_ context.Context, id int32) (time.Time, error) {
	f.mu.Lock()
	f.reads++
	at := f.last[id]
	if f.lastFunc != nil {
		at = f.lastFunc()
	}
	f.mu.Unlock()
	select {
	case f.read <- struct{}{}:
	default:
	}
	return at, nil
}

func (f *fakeHeartbeatStore) counts() (reads, touches int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads, f.touches
}

func heartbeatSite(every, grace time.Duration) Site {
	return Site{
		ID: 7, Slug: "billing-worker", RedactedURL: "/api/v1/heartbeat/billing-worker",
		Interval: every + grace, Heartbeat: &Heartbeat{Every: every, Grace: grace, Token: testToken},
		Secrets: []string{testToken},
	}
}

func TestHeartbeatReceive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sink := newCountSink()
	st := newFakeHeartbeatStore()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{Now: func() time.Time { return now }})
	probed := Site{ID: 8, Slug: "api", URL: "https://api.example.com/"}
	hbs.SetSites([]Site{heartbeatSite(time.Minute, 10*time.Second), probed})

	for name, tc := range map[string]struct {
		slug, token string
		want        error
	}{
		"WrongToken":   {"billing-worker", "s3cret-heartbeat-tokem", ErrHeartbeatToken},
		"PrefixToken":  {"billing-worker", "s3cret", ErrHeartbeatToken},
		"MissingToken": {"billing-worker", "", ErrHeartbeatToken},
		"ProbedSite":   {"api", testToken, ErrNotHeartbeat},
		"UnknownSlug":  {"nope", testToken, ErrNotHeartbeat},
	} {
		if _, err := hbs.Receive(ctx, tc.slug, tc.token, Report{}); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if _, err := hbs.Receive(ctx, "billing-worker", testToken, Report{State: "broken"}); err == nil {
		t.Error("a state that is not ok, notok or pending was taken")
	}
	if n := sink.count(7) + sink.count(8); n != 0 {
		t.Fatalf("refused calls stored %d probes", n)
	}
	if _, touches := st.counts(); touches != 0 {
		t.Fatalf("refused calls were recorded %d times", touches)
	}

	rcpt, err := hbs.Receive(ctx, "billing-worker", testToken, Report{State: store.StateNotOK, Reason: "exit 1: curl -H 'Bearer " + testToken + "'", Duration: 1500 * time.Millisecond})
	if err != nil || rcpt.Merged || rcpt.State != store.StateNotOK {
		t.Fatalf("Receive = %+v, %v", rcpt, err)
	}
	sink.waitCount(t, 7, 1)
	p := sink.last[7]
	if p.State != store.StateNotOK || p.Latency != 1500*time.Millisecond || !p.At.Equal(now) {
		t.Errorf("probe = %+v", p)
	}
	if strings.Contains(p.Reason, testToken) || !strings.HasPrefix(p.Reason, "exit 1") {
		t.Errorf("reason %q: want the job's words without the token", p.Reason)
	}
	if last := st.last[7]; !last.Equal(now) {
		t.Errorf("the call was recorded at %v, want %v", last, now)
	}
}

// A job's reason is scrubbed of the alert sinks' credentials too, as a
// probed site's is.
func TestHeartbeatReasonScrubsSinkCredentials(t *testing.T) {
	t.Parallel()
	const routingKey = "pd-routing-key-0123456789"
	sink := newCountSink()
	hbs := NewHeartbeats(sink, nil, nil, HeartbeatOptions{Secrets: secret.New(routingKey)})
	hbs.SetSites([]Site{heartbeatSite(time.Minute, 10*time.Second)})
	if _, err := hbs.Receive(context.Background(), "billing-worker", testToken, Report{State: store.StateNotOK, Reason: "PagerDuty refused " + routingKey}); err != nil {
		t.Fatal(err)
	}
	sink.waitCount(t, 7, 1)
	if got := sink.last[7].Reason; got != "PagerDuty refused ***" {
		t.Errorf("reason %q, want the routing key hidden", got)
	}
}

// A job calling in a loop stores one probe at once and one more, the
// latest word, when the gap has passed: however many calls, however fast.
func TestHeartbeatFloodIsMerged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sink := newCountSink()
	st := newFakeHeartbeatStore()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{Now: func() time.Time { return now }})
	hbs.SetSites([]Site{heartbeatSite(time.Minute, 10*time.Second)})

	merged := 0
	for i := range 200 {
		rep := Report{State: store.StatePending, Reason: "run started"}
		if i == 199 {
			rep = Report{State: store.StateOK}
		}
		rcpt, err := hbs.Receive(ctx, "billing-worker", testToken, rep)
		if err != nil {
			t.Fatal(err)
		}
		if rcpt.Merged {
			merged++
		}
	}
	if merged != 199 {
		t.Errorf("%d calls merged, want 199", merged)
	}
	sink.waitCount(t, 7, 2)
	sink.mu.Lock()
	n, last := sink.counts[7], sink.last[7]
	sink.mu.Unlock()
	if n != 2 {
		t.Fatalf("200 calls in one instant stored %d probes, want 2", n)
	}
	if last.State != store.StateOK {
		t.Errorf("the merged probe is %s, want the latest word (ok)", last.State)
	}
	if _, touches := st.counts(); touches != 1 {
		t.Errorf("the database was touched %d times, want 1", touches)
	}
}

// Close stores a merged probe still waiting, so a shutdown loses no word.
func TestHeartbeatCloseFlushes(t *testing.T) {
	t.Parallel()
	sink := newCountSink()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	hbs := NewHeartbeats(sink, nil, nil, HeartbeatOptions{Now: func() time.Time { return now }})
	hbs.SetSites([]Site{heartbeatSite(time.Hour, time.Hour)})
	for range 2 {
		if _, err := hbs.Receive(context.Background(), "billing-worker", testToken, Report{}); err != nil {
			t.Fatal(err)
		}
	}
	hbs.Close()
	if n := sink.count(7); n != 2 {
		t.Fatalf("after Close %d probes, want 2", n)
	}
}

func runHeartbeatChecker(t *testing.T, sink Sink, hbs *Heartbeats, s Site) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := New(sink, nil, Options{Heartbeats: hbs, StaggerDisabled: true})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, []Site{s})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// A silent job turns its site notok once every+grace has passed, and the
// runner says so again every `every` while the silence lasts; a call puts
// it right, and the next silence is counted from that call.
func TestHeartbeatRunnerSilence(t *testing.T) {
	t.Parallel()
	sink := newChanSink(t)
	st := newFakeHeartbeatStore()
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{})
	s := heartbeatSite(150*time.Millisecond, 50*time.Millisecond)
	hbs.SetSites([]Site{s})
	runHeartbeatChecker(t, sink, hbs, s)

	p := sink.next(t)
	if p.State != store.StateNotOK || p.Reason != "no heartbeat yet" {
		t.Fatalf("first probe of a silent site: %s %q", p.State, p.Reason)
	}
	q := sink.next(t)
	if q.State != store.StateNotOK || !q.At.After(p.At) {
		t.Fatalf("the runner did not repeat itself while silent: %+v", q)
	}

	go func() {
		if _, err := hbs.Receive(context.Background(), s.Slug, testToken, Report{}); err != nil {
			t.Error(err)
		}
	}()
	// Overdue probes may have been on their way; the call's ok follows.
	for p = sink.next(t); p.State != store.StateOK; p = sink.next(t) {
	}
	called := p.At
	p = sink.next(t)
	if p.State != store.StateNotOK || !strings.HasPrefix(p.Reason, "no heartbeat for ") {
		t.Fatalf("after the call went silent: %s %q", p.State, p.Reason)
	}
	if gap := p.At.Sub(called); gap < 200*time.Millisecond {
		t.Errorf("notok %s after the call, before every+grace (200ms)", gap)
	}
}

// A restart reads the last call from the store: a job silent for two hours
// is reported at once, not after a fresh grace.
func TestHeartbeatRunnerRestartKeepsClock(t *testing.T) {
	t.Parallel()
	sink := newChanSink(t)
	st := newFakeHeartbeatStore()
	s := heartbeatSite(time.Hour, 10*time.Minute)
	st.last[s.ID] = time.Now().Add(-2 * time.Hour)
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{})
	hbs.SetSites([]Site{s})
	runHeartbeatChecker(t, sink, hbs, s)

	p := sink.next(t)
	if p.State != store.StateNotOK || p.Reason != "no heartbeat for 2h" {
		t.Fatalf("got %s %q, want notok \"no heartbeat for 2h\"", p.State, p.Reason)
	}
}

// Calls taken by another instance reach the runner through the store: at
// each deadline it asks, and a site whose job calls elsewhere stays quiet.
func TestHeartbeatRunnerCallsElsewhere(t *testing.T) {
	t.Parallel()
	sink := newCountSink()
	st := newFakeHeartbeatStore()
	st.lastFunc = time.Now // the job calls another instance all the time
	s := heartbeatSite(60*time.Millisecond, 20*time.Millisecond)
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{})
	hbs.SetSites([]Site{s})
	runHeartbeatChecker(t, sink, hbs, s)

	// One read at start, then one per deadline: wait for three deadlines.
	timeout := time.After(waitTimeout)
	for reads, _ := st.counts(); reads < 4; reads, _ = st.counts() {
		select {
		case <-st.read:
		case <-timeout:
			t.Fatalf("the runner read the store %d times", reads)
		}
	}
	if n := sink.count(s.ID); n != 0 {
		t.Fatalf("%d probes written for a site whose job calls another instance", n)
	}
}

// A job calling twice a second has most calls merged, yet each second's
// calls are recorded for the instance that watches the deadline.
func TestHeartbeatMergedCallsAreRecorded(t *testing.T) {
	t.Parallel()
	sink := newCountSink()
	st := newFakeHeartbeatStore()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	hbs.SetSites([]Site{heartbeatSite(time.Minute, 10*time.Second)})
	for range 10 {
		if _, err := hbs.Receive(context.Background(), "billing-worker", testToken, Report{}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(500 * time.Millisecond)
		mu.Unlock()
	}
	if _, touches := st.counts(); touches != 5 {
		t.Fatalf("10 calls over 5 s recorded %d times, want 5", touches)
	}
	hbs.Close()
}

// BenchmarkHeartbeatReceive is the cost of a call in a flood: token check,
// merge, no store.
func BenchmarkHeartbeatReceive(b *testing.B) {
	sink := newCountSink()
	st := newFakeHeartbeatStore()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{Now: func() time.Time { return now }})
	hbs.SetSites([]Site{heartbeatSite(time.Minute, 10*time.Second)})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hbs.Receive(ctx, "billing-worker", testToken, Report{State: store.StateOK}); err != nil {
			b.Fatal(err)
		}
	}
	hbs.Close()
	if n := sink.count(7); n > 2 {
		b.Fatalf("%d probes stored in one instant", n)
	}
}

// panicTwiceSink panics on its first two Adds: the overdue probe, then the
// crash record of that panic.
type panicTwiceSink struct {
	chanSink
	calls atomic.Int64
}

func (s *panicTwiceSink) Add(p store.Probe) {
	if s.calls.Add(1) <= 2 {
		panic("sink exploded")
	}
	s.chanSink.Add(p)
}

// A heartbeat runner whose sink panics, and panics again while the crash
// is recorded, neither takes the process down nor stops watching: it
// restarts and reports the silence.
func TestHeartbeatRunnerSurvivesSinkPanic(t *testing.T) {
	t.Parallel()
	sink := &panicTwiceSink{chanSink: newChanSink(t)}
	st := newFakeHeartbeatStore()
	s := heartbeatSite(time.Hour, 10*time.Minute)
	st.last[s.ID] = time.Now().Add(-2 * time.Hour)
	hbs := NewHeartbeats(sink, st, nil, HeartbeatOptions{})
	hbs.SetSites([]Site{s})
	ctx, cancel := context.WithCancel(context.Background())
	restarts := make(chan int, 10)
	c := New(sink, nil, Options{Heartbeats: hbs, StaggerDisabled: true, Backoff: func(attempt int) time.Duration {
		restarts <- attempt
		return time.Millisecond
	}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, []Site{s})
	}()
	t.Cleanup(func() { cancel(); <-done })

	if a := receive(t, restarts, "a restart"); a != 1 {
		t.Errorf("restart attempt %d, want 1", a)
	}
	if p := sink.next(t); p.State != store.StateNotOK || p.Reason != "no heartbeat for 2h" {
		t.Errorf("after the restart: %s %q, want notok \"no heartbeat for 2h\"", p.State, p.Reason)
	}
}

// A site taken out of the config leaves nothing behind in Heartbeats.
func TestHeartbeatsForgetRemovedSites(t *testing.T) {
	t.Parallel()
	hbs := NewHeartbeats(newCountSink(), nil, nil, HeartbeatOptions{})
	s := heartbeatSite(time.Hour, time.Minute)
	hbs.SetSites([]Site{s})
	hbs.watch(s.Slug)
	if _, err := hbs.Receive(context.Background(), s.Slug, testToken, Report{}); err != nil {
		t.Fatal(err)
	}
	if hbs.lastSeen(s.Slug).IsZero() {
		t.Fatal("the call was not seen")
	}
	hbs.SetSites(nil)
	hbs.mu.Lock()
	defer hbs.mu.Unlock()
	if len(hbs.sites) != 0 || len(hbs.seen) != 0 || len(hbs.wake) != 0 {
		t.Errorf("after the site went: %d sites, %d seen, %d wake channels", len(hbs.sites), len(hbs.seen), len(hbs.wake))
	}
}
