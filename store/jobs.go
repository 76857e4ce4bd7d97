package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// River lives here and nowhere else: its tables, the jobs that wake the
// notification dispatcher, the client that inserts them with the
// transitions, and the one that works them. The dispatcher (package notify)
// hands in a drain function and never sees a job.

// notifyQueue is the River queue of notification jobs.
const notifyQueue = "notify"

// notifyArgs is the River job that wakes the dispatcher for one site's sink.
// The job carries no notice: the notifications table holds them, in order,
// and the job drains every pending one of its stream. So a duplicate job is
// harmless, and a job that fails is retried by River with backoff.
type notifyArgs struct {
	SiteID int32  `json:"site_id"`
	Sink   string `json:"sink"`
}

func (notifyArgs) Kind() string { return "walnut_notify" }

func (notifyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: notifyQueue} }

// notifySweepArgs is the periodic River job that wakes every stream with
// notices left pending: one whose job River gave up on after its last
// attempt (a sink down for days), or that lost its job some other way.
type notifySweepArgs struct{}

func (notifySweepArgs) Kind() string { return "walnut_notify_sweep" }

func (notifySweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: notifyQueue} }

// migrateRiver runs River's own migrations (its job tables).
func migrateRiver(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	for _, v := range res.Versions {
		logger.InfoContext(ctx, "river migration applied", "version", v.Version, "duration", v.Duration)
	}
	return nil
}

// migrateRiverDown removes River's tables, for tests of Down migrations.
func migrateRiverDown(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		return fmt.Errorf("river migrations down: %w", err)
	}
	return nil
}

// inserter is an insert-only River client: the NotifyQueue's client works
// the jobs, the store only adds them.
type inserter struct {
	once   sync.Once
	client *river.Client[pgx.Tx]
	err    error
}

func (s *Store) river() (*river.Client[pgx.Tx], error) {
	s.ins.once.Do(func() {
		s.ins.client, s.ins.err = river.NewClient(riverpgxv5.New(s.pool), &river.Config{
			Logger: slog.New(slog.DiscardHandler),
		})
	})
	return s.ins.client, s.ins.err
}

// enqueueNotifyTx adds a River job per stream that got notifications in tx,
// so that they commit, or roll back, with the transitions themselves.
func (s *Store) enqueueNotifyTx(ctx context.Context, tx pgx.Tx) error {
	rows, err := s.q.NotifyWakeList(ctx, tx)
	if err != nil || len(rows) == 0 {
		return err
	}
	rc, err := s.river()
	if err != nil {
		return err
	}
	params := make([]river.InsertManyParams, len(rows))
	for i, r := range rows {
		params[i] = river.InsertManyParams{Args: notifyArgs{SiteID: r.SiteID, Sink: r.Sink}}
	}
	_, err = rc.InsertManyTx(ctx, tx, params)
	return err
}

// NotifyWakeAt schedules the dispatcher to look at a site's sink again at a
// given time: when a maintenance window ends or a flapping site may have
// settled.
func (s *Store) NotifyWakeAt(ctx context.Context, siteID int32, sink string, at time.Time) error {
	return s.wakeAt(ctx, nil, siteID, sink, at)
}

// wakeAt inserts a wake-up job in tx, or on its own when tx is nil.
func (s *Store) wakeAt(ctx context.Context, tx pgx.Tx, siteID int32, sink string, at time.Time) error {
	rc, err := s.river()
	if err != nil {
		return fmt.Errorf("schedule notify job: %w", err)
	}
	args, opts := notifyArgs{SiteID: siteID, Sink: sink}, &river.InsertOpts{Queue: notifyQueue, ScheduledAt: at}
	if tx != nil {
		_, err = rc.InsertTx(ctx, tx, args, opts)
	} else {
		_, err = rc.Insert(ctx, args, opts)
	}
	if err != nil {
		return fmt.Errorf("schedule notify job: %w", err)
	}
	return nil
}

// NotifySweep adds a job for each stream with notices pending since before
// createdBefore, at most one such job per stream at a time. It returns how
// many streams it woke.
func (s *Store) NotifySweep(ctx context.Context, createdBefore time.Time) (int, error) {
	rows, err := s.q.NotifyPendingStreams(ctx, s.pool, createdBefore)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	rc, err := s.river()
	if err != nil {
		return 0, err
	}
	unique := river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	}}
	params := make([]river.InsertManyParams, len(rows))
	for i, r := range rows {
		params[i] = river.InsertManyParams{
			Args:       notifyArgs{SiteID: r.SiteID, Sink: r.Sink},
			InsertOpts: &river.InsertOpts{Queue: notifyQueue, UniqueOpts: unique},
		}
	}
	if _, err := rc.InsertMany(ctx, params); err != nil {
		return 0, fmt.Errorf("sweep notifications: %w", err)
	}
	return len(rows), nil
}

// NotifyQueueOptions configures a NotifyQueue.
type NotifyQueueOptions struct {
	// DrainFunc delivers a stream's pending notices, in order; the queue
	// calls it once per job, for one site's sink. An error retries the job
	// after RetryFunc's wait; an error wrapping a *SnoozeError waits as it
	// says without using up an attempt.
	DrainFunc func(ctx context.Context, siteID int32, sink string) error
	// RetryFunc is the wait before retry n (1, 2, ...); nil: River's.
	RetryFunc func(attempt int) time.Duration
	// MaxAttempts is how often a job is tried before River gives up on it
	// (default 25); the sweep then starts another.
	MaxAttempts int
	// Workers is how many jobs run at once; default 2.
	Workers int
	// SweepInterval is how often streams whose notices wait without a job
	// are woken; default 5 min.
	SweepInterval time.Duration

	// For tests.
	FetchPollInterval time.Duration // River's; default 1 s
	ClientID          string        // River client id; default generated
}

// NotifyQueue works the notification jobs: a River client whose worker
// calls the dispatcher's drain function for a site's sink, and a periodic
// sweep that wakes streams left without a job.
type NotifyQueue struct {
	client *river.Client[pgx.Tx]
}

// SnoozeError asks the queue to run the job again After from now, without
// counting an attempt: a receiver that said "too many requests, come back
// in a minute" has not failed.
type SnoozeError struct{ After time.Duration }

func (e *SnoozeError) Error() string { return fmt.Sprintf("snooze for %s", e.After) }

// NewNotifyQueue builds the queue; Start runs it.
func NewNotifyQueue(st *Store, logger *slog.Logger, opts NotifyQueueOptions) (*NotifyQueue, error) {
	if opts.DrainFunc == nil {
		return nil, errors.New("notify queue: no DrainFunc")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sweepEvery := cmp.Or(opts.SweepInterval, 5*time.Minute)
	ws := river.NewWorkers()
	if err := river.AddWorkerSafely(ws, &notifyWorker{drain: opts.DrainFunc, retry: opts.RetryFunc}); err != nil {
		return nil, fmt.Errorf("notify queue: %w", err)
	}
	if err := river.AddWorkerSafely(ws, &sweepWorker{st: st, age: sweepEvery, logger: logger}); err != nil {
		return nil, fmt.Errorf("notify queue: %w", err)
	}
	c, err := river.NewClient(riverpgxv5.New(st.pool), &river.Config{
		ID:                opts.ClientID,
		Logger:            logger.With("component", "river"),
		Queues:            map[string]river.QueueConfig{notifyQueue: {MaxWorkers: cmp.Or(max(opts.Workers, 0), 2)}},
		Workers:           ws,
		MaxAttempts:       opts.MaxAttempts,
		FetchPollInterval: opts.FetchPollInterval,
		FetchCooldown:     min(opts.FetchPollInterval, 100*time.Millisecond),
		JobTimeout:        5 * time.Minute,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(sweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return notifySweepArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})},
	})
	if err != nil {
		return nil, fmt.Errorf("notify queue: %w", err)
	}
	return &NotifyQueue{client: c}, nil
}

// Start starts working jobs; it returns at once.
func (q *NotifyQueue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start notify queue: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish, then stops. Jobs not yet done stay
// in the database for the next start, here or in another process.
func (q *NotifyQueue) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("stop notify queue: %w", err)
	}
	return nil
}

type notifyWorker struct {
	river.WorkerDefaults[notifyArgs]
	drain func(ctx context.Context, siteID int32, sink string) error
	retry func(attempt int) time.Duration
}

func (w *notifyWorker) Work(ctx context.Context, job *river.Job[notifyArgs]) error {
	err := w.drain(ctx, job.Args.SiteID, job.Args.Sink)
	var sz *SnoozeError
	if errors.As(err, &sz) && sz.After > 0 {
		return river.JobSnooze(sz.After)
	}
	return err
}

func (w *notifyWorker) NextRetry(job *river.Job[notifyArgs]) time.Time {
	if w.retry == nil {
		return time.Time{} // River's own backoff
	}
	return time.Now().Add(w.retry(job.Attempt))
}

// sweepWorker wakes streams with notices pending for longer than a sweep
// interval: normally none, since each notice comes with its own job.
type sweepWorker struct {
	river.WorkerDefaults[notifySweepArgs]
	st     *Store
	age    time.Duration
	logger *slog.Logger
}

func (s *sweepWorker) Work(ctx context.Context, _ *river.Job[notifySweepArgs]) error {
	n, err := s.st.NotifySweep(ctx, time.Now().Add(-s.age))
	if n > 0 {
		s.logger.InfoContext(ctx, "woke notification streams left pending", "streams", n)
	}
	return err
}
