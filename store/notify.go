package store

import (
	"context"

	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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
		if err := s.q.NotifyRouteInsert(ctx, tx, dbsqlc.NotifyRouteInsertParams{Slug: r.Slug, Sinks: r.Sinks, Severity: cleanName(r.Severity)}); err != nil {
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
// settled. It runs on the stream's connection, so a dispatcher never waits
// for a second connection while holding one.
func (st *NotifyStream) WakeAt(ctx context.Context, at time.Time) error {
	tx, err := st.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("schedule notify job: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := st.s.wakeAt(ctx, tx, st.SiteID, st.Sink, at); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("schedule notify job: %w", err)
	}
	return nil
}

// NotifyStream is one site's sink, held by one dispatcher until Close: it
// is what keeps a site's notices in order across workers and processes.
//
// It holds a connection and a session lock on it, and no transaction: the
// dispatcher waits on Slack or PagerDuty between its statements, and a
// transaction open meanwhile would pin vacuum's horizon and the rows it
// touched for as long as the receiver takes. Each notice's outcome commits
// with the stream's memory (Told, Held) as soon as the dispatcher knows it,
// so a retry, or another process, resumes after the last notice delivered.
type NotifyStream struct {
	conn   *pgxpool.Conn
	q      *dbsqlc.Queries
	s      *Store
	SiteID int32
	Sink   string

	Told      State      // the last state the sink was told
	Held      string     // "", "flapping" or "maintenance": notices held
	HeldSince *time.Time // when the hold began
}

// NotifyStreamOpen takes a site's sink, waiting while another dispatcher
// has it. Close gives it back.
func (s *Store) NotifyStreamOpen(ctx context.Context, siteID int32, sink string) (*NotifyStream, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("open notify stream %d/%s: %w", siteID, sink, err)
	}
	if err := s.q.NotifyStreamLock(ctx, conn, dbsqlc.NotifyStreamLockParams{SiteID: siteID, Sink: sink}); err != nil {
		// The lock may have been granted as the wait was interrupted:
		// only the end of the session is sure to release it.
		discard(ctx, conn)
		return nil, fmt.Errorf("open notify stream %d/%s: %w", siteID, sink, err)
	}
	st := &NotifyStream{conn: conn, q: s.q, s: s, SiteID: siteID, Sink: sink}
	r, err := s.q.NotifyStreamGet(ctx, conn, dbsqlc.NotifyStreamGetParams{SiteID: siteID, Sink: sink})
	if err != nil {
		st.release(ctx)
		return nil, fmt.Errorf("open notify stream %d/%s: %w", siteID, sink, err)
	}
	st.Told, st.Held, st.HeldSince = State(r.Told), r.Held, r.HeldSince
	return st, nil
}

// discard closes a pooled connection instead of returning it, with what
// its session holds.
func discard(ctx context.Context, conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	conn.Conn().Close(ctx) //nolint:errcheck // closing is all that is left to do
	conn.Release()         // a closed connection leaves the pool
}

// afterSend bounds the writes that record what a sink was told: they run
// even when the delivery's context has ended, since forgetting a notice a
// sink accepted would send it again.
func afterSend(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
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
	r, err := st.q.NotificationNext(ctx, st.conn, dbsqlc.NotificationNextParams{SiteID: st.SiteID, Sink: st.Sink})
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

// Done records what became of a notification (sent, failed, skipped, held,
// maintenance or flapping) together with the stream's memory, in one
// transaction of their own.
func (st *NotifyStream) Done(ctx context.Context, id int64, outcome, detail string) error {
	ctx, cancel := afterSend(ctx)
	defer cancel()
	tx, err := st.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("record notification %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := st.q.NotificationDone(ctx, tx, dbsqlc.NotificationDoneParams{ID: id, Outcome: cleanName(outcome), Detail: cleanText(detail, maxTextBytes)}); err != nil {
		return fmt.Errorf("record notification %d: %w", id, err)
	}
	if err := st.save(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("record notification %d: %w", id, err)
	}
	return nil
}

// Attempted records a failed attempt that will be retried.
func (st *NotifyStream) Attempted(ctx context.Context, id int64, detail string) error {
	ctx, cancel := afterSend(ctx)
	defer cancel()
	if err := st.q.NotificationAttempt(ctx, st.conn, dbsqlc.NotificationAttemptParams{ID: id, Detail: cleanText(detail, maxTextBytes)}); err != nil {
		return fmt.Errorf("record notification attempt %d: %w", id, err)
	}
	return nil
}

// save writes the stream's memory.
func (st *NotifyStream) save(ctx context.Context, db dbsqlc.DBTX) error {
	if err := st.q.NotifyStreamSet(ctx, db, dbsqlc.NotifyStreamSetParams{
		SiteID: st.SiteID, Sink: st.Sink, Told: dbsqlc.State(st.Told), Held: cleanName(st.Held), HeldSince: st.HeldSince,
	}); err != nil {
		return fmt.Errorf("save notify stream %d/%s: %w", st.SiteID, st.Sink, err)
	}
	return nil
}

// Close saves the stream's memory (a hold that began or ended since the
// last notice) and gives the stream back.
func (st *NotifyStream) Close(ctx context.Context) error {
	ctx, cancel := afterSend(ctx)
	defer cancel()
	err := st.save(ctx, st.conn)
	st.release(ctx)
	return err
}

// release gives the stream back: the lock, then the connection. A lock
// that cannot be released ends with its session.
func (st *NotifyStream) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ok, err := st.q.NotifyStreamUnlock(ctx, st.conn, dbsqlc.NotifyStreamUnlockParams{SiteID: st.SiteID, Sink: st.Sink}); err != nil || !ok {
		discard(ctx, st.conn)
		return
	}
	st.conn.Release()
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
	r, err := st.q.NotifySite(ctx, st.conn, st.SiteID)
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
	n, err := st.q.TransitionCountBetween(ctx, st.conn, dbsqlc.TransitionCountBetweenParams{SiteID: st.SiteID, After: after, Until: until})
	if err != nil {
		return 0, fmt.Errorf("count transitions of site %d: %w", st.SiteID, err)
	}
	return int(n), nil
}

// LastTransition returns when the site last changed, or ErrNotFound.
func (st *NotifyStream) LastTransition(ctx context.Context) (time.Time, error) {
	at, err := st.q.TransitionLastAt(ctx, st.conn, st.SiteID)
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
