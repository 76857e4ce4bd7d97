package store

import (
	"context"

	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walnut-board/walnut/store/dbsqlc"
)

// NotifyRoute is who hears about a site.
type NotifyRoute struct {
	Slug     string
	Sinks    []string // pagerduty, slack, webhook; empty: nobody
	Severity string
}

// NotifyRoutesSync replaces the routes with routes. Transitions of sites
// without a route (or with no sinks) write no notifications.
func (s *Store) NotifyRoutesSync(ctx context.Context, routes []NotifyRoute) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("sync notify routes: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := s.q.NotifyRoutesDelete(ctx, tx); err != nil {
		return fmt.Errorf("sync notify routes: %w", err)
	}
	for _, r := range routes {
		if len(r.Sinks) == 0 {
			continue
		}
		if err := s.q.NotifyRouteInsert(ctx, tx, dbsqlc.NotifyRouteInsertParams{Slug: r.Slug, Sinks: r.Sinks, Severity: cleanText(r.Severity, maxNameBytes)}); err != nil {
			return fmt.Errorf("sync notify route of %s: %w", r.Slug, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("sync notify routes: commit: %w", err)
	}
	return nil
}

// WakeAt schedules the dispatcher to look at the stream again at a given
// time: when a maintenance window ends, or when a flapping site may have
// settled. It commits with the stream, on the stream's connection, so a
// dispatcher never waits for a second connection while holding one.
func (st *NotifyStream) WakeAt(ctx context.Context, at time.Time) error {
	return st.s.wakeAt(ctx, st.tx, st.SiteID, st.Sink, at)
}

// NotifyStream is one site's sink, locked by one dispatcher until Close: it
// is what keeps a site's notices in order across workers and processes.
// Everything it does runs in its transaction; Close commits what was done
// even when delivery stopped on an error, so a retry resumes after the last
// notice delivered.
type NotifyStream struct {
	tx     pgx.Tx
	q      *dbsqlc.Queries
	s      *Store
	SiteID int32
	Sink   string

	Told      State      // the last state the sink was told
	Held      string     // "", "flapping" or "maintenance": notices held
	HeldSince *time.Time // when the hold began
}

// NotifyStreamOpen locks a site's sink, waiting while another dispatcher has it.
func (s *Store) NotifyStreamOpen(ctx context.Context, siteID int32, sink string) (*NotifyStream, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("open notify stream %d/%s: %w", siteID, sink, err)
	}
	r, err := s.q.NotifyStreamLock(ctx, tx, dbsqlc.NotifyStreamLockParams{SiteID: siteID, Sink: sink})
	if err != nil {
		tx.Rollback(ctx) //nolint:errcheck // the lock error is the one to report
		return nil, fmt.Errorf("open notify stream %d/%s: %w", siteID, sink, err)
	}
	return &NotifyStream{tx: tx, q: s.q, s: s, SiteID: siteID, Sink: sink, Told: State(r.Told), Held: r.Held, HeldSince: r.HeldSince}, nil
}

// Notification is one pending notice of a transition to a sink.
type Notification struct {
	ID         int64
	Attempts   int
	At         time.Time // when the site changed
	From, To   State
	Reason     string
	HTTPStatus int // of the probe that began the change; 0 without a response
	Latency    time.Duration
	TTFB       time.Duration
	DNS        time.Duration
	Connect    time.Duration
	TLS        time.Duration

	// A certificate warning has no transition (From and To are unknown):
	// CertDays is the threshold crossed, CertExpiresAt the certificate's
	// expiry, and At when the warning was queued. 0 for a transition.
	CertDays      int
	CertExpiresAt time.Time
}

// Next returns the oldest pending notification, or ErrNotFound.
func (st *NotifyStream) Next(ctx context.Context) (Notification, error) {
	r, err := st.q.NotificationNext(ctx, st.tx, dbsqlc.NotificationNextParams{SiteID: st.SiteID, Sink: st.Sink})
	if err != nil {
		return Notification{}, fmt.Errorf("next notification %d/%s: %w", st.SiteID, st.Sink, interpretError(err))
	}
	return Notification{
		ID: r.ID, Attempts: int(r.Attempts), At: r.At, From: State(r.FromState), To: State(r.ToState),
		Reason: r.Reason, HTTPStatus: int(r.HttpStatus), Latency: duration(r.LatencyUs),
		TTFB: duration(r.TtfbUs), DNS: duration(r.DnsUs), Connect: duration(r.ConnectUs), TLS: duration(r.TlsUs),
		CertDays: int(r.CertDays.Int32), CertExpiresAt: derefTime(r.CertExpiresAt),
	}, nil
}

// Done records what became of a notification: sent, failed, skipped, held,
// maintenance or flapping.
func (st *NotifyStream) Done(ctx context.Context, id int64, outcome, detail string) error {
	if err := st.q.NotificationDone(ctx, st.tx, dbsqlc.NotificationDoneParams{ID: id, Outcome: cleanText(outcome, maxNameBytes), Detail: cleanText(detail, maxTextBytes)}); err != nil {
		return fmt.Errorf("record notification %d: %w", id, err)
	}
	return nil
}

// Attempted records a failed attempt that will be retried.
func (st *NotifyStream) Attempted(ctx context.Context, id int64, detail string) error {
	if err := st.q.NotificationAttempt(ctx, st.tx, dbsqlc.NotificationAttemptParams{ID: id, Detail: cleanText(detail, maxTextBytes)}); err != nil {
		return fmt.Errorf("record notification attempt %d: %w", id, err)
	}
	return nil
}

// Close saves the stream's memory and commits, releasing the lock.
func (st *NotifyStream) Close(ctx context.Context) error {
	defer st.tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := st.q.NotifyStreamSet(ctx, st.tx, dbsqlc.NotifyStreamSetParams{
		SiteID: st.SiteID, Sink: st.Sink, Told: dbsqlc.State(st.Told), Held: cleanText(st.Held, maxNameBytes), HeldSince: st.HeldSince,
	}); err != nil {
		return fmt.Errorf("save notify stream %d/%s: %w", st.SiteID, st.Sink, err)
	}
	if err := st.tx.Commit(ctx); err != nil {
		return fmt.Errorf("save notify stream %d/%s: %w", st.SiteID, st.Sink, err)
	}
	return nil
}

// NotifySite is what a notice says of its site, as it is now.
type NotifySite struct {
	Slug, Name, URL string // URL redacted
	Severity        string
	State           State
	Reason          string
	Since           *time.Time
	HTTPStatus      int
	Latency, TTFB   time.Duration
}

// Site returns the stream's site.
func (st *NotifyStream) Site(ctx context.Context) (NotifySite, error) {
	r, err := st.q.NotifySite(ctx, st.tx, st.SiteID)
	if err != nil {
		return NotifySite{}, fmt.Errorf("notify site %d: %w", st.SiteID, interpretError(err))
	}
	return NotifySite{
		Slug: r.Slug, Name: r.Name, URL: r.Url, Severity: r.Severity, State: State(r.State),
		Reason: r.Reason, Since: r.Since, HTTPStatus: int(r.HttpStatus),
		Latency: duration(r.LatencyUs), TTFB: duration(r.TtfbUs),
	}, nil
}

// TransitionsBetween counts the site's changes in (after, until], not
// counting its first verdict.
func (st *NotifyStream) TransitionsBetween(ctx context.Context, after, until time.Time) (int, error) {
	n, err := st.q.TransitionCountBetween(ctx, st.tx, dbsqlc.TransitionCountBetweenParams{SiteID: st.SiteID, After: after, Until: until})
	if err != nil {
		return 0, fmt.Errorf("count transitions of site %d: %w", st.SiteID, err)
	}
	return int(n), nil
}

// LastTransition returns when the site last changed, or ErrNotFound.
func (st *NotifyStream) LastTransition(ctx context.Context) (time.Time, error) {
	at, err := st.q.TransitionLastAt(ctx, st.tx, st.SiteID)
	if err != nil {
		return time.Time{}, fmt.Errorf("last transition of site %d: %w", st.SiteID, interpretError(err))
	}
	return at, nil
}

// SinkHealth is how a sink's deliveries are going.
type SinkHealth struct {
	Sink          string
	LastOutcome   string // sent, failed or flapping; "" before the first
	LastDetail    string
	LastAt        *time.Time
	Pending       int
	OldestPending *time.Time
}

// NotifyHealth reports each sink that has had notifications.
func (s *Store) NotifyHealth(ctx context.Context) ([]SinkHealth, error) {
	rows, err := s.q.NotifyHealth(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("notify health: %w", err)
	}
	out := make([]SinkHealth, len(rows))
	for i, r := range rows {
		out[i] = SinkHealth{
			Sink: r.Sink, LastOutcome: r.Outcome, LastDetail: r.Detail, LastAt: notEpoch(r.DoneAt),
			Pending: int(r.Pending), OldestPending: notEpoch(r.Oldest),
		}
	}
	return out, nil
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func notEpoch(t time.Time) *time.Time {
	if t.Unix() == 0 {
		return nil
	}
	return &t
}
