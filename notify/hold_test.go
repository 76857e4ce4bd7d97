package notify

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// holdingServer passes requests to next only once the test releases them,
// and says when the first one has come: a sink that is slow to answer.
type holdingServer struct {
	*httptest.Server
	called  chan struct{} // receives once per request, before it waits
	release chan struct{} // closed by the test
}

func newHoldingServer(t *testing.T, next http.Handler) *holdingServer {
	h := &holdingServer{called: make(chan struct{}, 100), release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.called <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *holdingServer) open() {
	select {
	case <-h.release:
	default:
		close(h.release)
	}
}

func (h *holdingServer) waitCalled(t *testing.T) {
	t.Helper()
	select {
	case <-h.called:
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for the sink to be called")
	}
}

// openTransaction is a session idle inside a transaction.
type openTransaction struct {
	PID   int32
	Start time.Time
	Query string
}

// idleInTransaction lists the sessions of the test's database that sit in
// an open transaction holding Walnut's tables, waiting for their client.
func (b *testBundle) idleInTransaction(t *testing.T) map[openTransaction]bool {
	t.Helper()
	// River's leader election and maintenance run short transactions of
	// their own on River's tables; a dispatcher's would hold Walnut's.
	rows, err := b.pool.Query(t.Context(), `
		SELECT DISTINCT a.pid, a.xact_start, a.query
		  FROM pg_stat_activity a
		  JOIN pg_locks l ON l.pid = a.pid
		  JOIN pg_class c ON c.oid = l.relation
		 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
		   AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
		   AND c.relkind IN ('r', 'p') AND c.relname NOT LIKE 'river%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[openTransaction]bool{}
	for rows.Next() {
		var o openTransaction
		if err := rows.Scan(&o.PID, &o.Start, &o.Query); err != nil {
			t.Fatal(err)
		}
		out[openTransaction{PID: o.PID, Start: o.Start}] = true
		t.Logf("idle in transaction: pid %d since %s after %q", o.PID, o.Start.Format(time.RFC3339Nano), o.Query)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNoTransactionWhileASinkAnswers holds PagerDuty's and Slack's answer
// and looks at the database meanwhile: no session may sit in a transaction
// while the dispatcher waits on the network. A transaction held open for a
// receiver's answer would pin vacuum's horizon and keep row locks for as
// long as the receiver takes, up to its timeout.
func TestNoTransactionWhileASinkAnswers(t *testing.T) {
	t.Parallel()
	cases := map[string]func(t *testing.T) (*testBundle, *holdingServer, *Dispatcher){
		"PagerDuty": func(t *testing.T) (*testBundle, *holdingServer, *Dispatcher) {
			b := setup(t, []string{"api"})
			hold := newHoldingServer(t, b.pd.Config.Handler)
			return b, hold, b.dispatcher(t, func(o *Options) {
				o.Sinks = map[string]Sink{SinkPagerDuty: NewPagerDuty("routing-key", hold.URL, hold.Client())}
			})
		},
		"SlackBot": func(t *testing.T) (*testBundle, *holdingServer, *Dispatcher) {
			sb := setupSlack(t, "api")
			hold := newHoldingServer(t, sb.slack.Config.Handler)
			sink := NewSlackBot(slackTestToken, slackTestChannel, hold.URL+"/api", sb.st, hold.Client(), nil)
			return sb.testBundle, hold, sb.dispatcher(t, func(o *Options) { o.Sinks = map[string]Sink{SinkSlack: sink} })
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, hold, d := build(t)
			start(t, d)
			// Registered after start's Stop, so it runs first: a test that
			// fails early must not leave Stop waiting on a held request.
			t.Cleanup(hold.open)
			b.probe(t, "api", store.StateOK, 200, "")
			b.probe(t, "api", store.StateNotOK, 503, "HTTP 503")
			hold.waitCalled(t)

			// A transaction of the dispatcher's would be open in both looks,
			// from the same start.
			first, second := b.idleInTransaction(t), b.idleInTransaction(t)
			for tx := range first {
				if second[tx] {
					t.Errorf("session %d has held a transaction open since %s while the sink answers", tx.PID, tx.Start.Format(time.RFC3339Nano))
				}
			}

			hold.open()
			b.waitIdle(t)
		})
	}
}
