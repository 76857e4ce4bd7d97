package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// WriterOptions tunes a Writer; zero values take the defaults.
type WriterOptions struct {
	FlushInterval time.Duration // default 250ms
	BatchSize     int           // default 1000: a fuller batch is written at once
	// MaxBuffered bounds the probes held while the database is away or
	// slow, the batch in flight included; default 100,000. Past it the
	// oldest waiting probes are dropped and counted in Dropped.
	MaxBuffered int
	// WriteTimeout bounds one attempt to write a batch; default 15s. A
	// batch takes milliseconds, so a write that reaches it meets a database
	// that hangs (a lock held elsewhere, a stalled disk or network): it is
	// abandoned and retried with backoff, like one that refuses.
	WriteTimeout time.Duration
	// ShutdownTimeout bounds the last try, when Run's ctx ends, to write
	// what is left; default 5s. What it cannot write is counted in Dropped.
	ShutdownTimeout time.Duration
	// RetryBackoff gives the wait before retry n (1, 2, ...) of a failed
	// write; default 500ms doubling to 30s.
	RetryBackoff func(n int) time.Duration
	// FlushedFunc, when set, is called after each attempt to write a batch:
	// metrics observe it, and tests wait on it instead of sleeping. It runs
	// on the goroutine that wrote the batch, never two calls at once. A
	// batch the database refuses is split, each part an attempt of its own.
	FlushedFunc func(Flush)
	// Now is the clock of Losses; default time.Now.
	Now func() time.Time
}

// Flush is the outcome of one attempt to write a batch.
type Flush struct {
	Probes      int
	Transitions int
	Took        time.Duration
	Err         error
}

// Writer batches probes from many site runners and writes them with
// WriteProbes. While the database is unreachable it keeps probes in memory,
// up to a bound, and writes the backlog in order when the database returns.
type Writer struct {
	store  *Store
	logger *slog.Logger
	opts   WriterOptions
	in     chan Probe
	done   chan struct{} // closed when Run stops taking probes

	// intake is held for reading by Add and for writing by Run once it
	// stops taking probes, so that no Add can slip a probe into the
	// channel after Run has emptied it for the last time.
	intake sync.RWMutex
	closed bool // under intake

	dropped  atomic.Uint64
	rejected atomic.Uint64
	written  atomic.Uint64
	buffered atomic.Int64
	// oldestHeld is the hour of the oldest probe waiting, in Unix
	// microseconds; 0 when none waits.
	oldestHeld atomic.Int64
	losses     lossLog
	// writing is when the write in flight began, in Unix nanoseconds; 0
	// when none is.
	writing atomic.Int64

	mu      sync.Mutex
	lastErr error

	// commitFault, for tests, replaces a write's outcome.
	commitFault func(error) error
}

// NewWriter returns a Writer; call Run to start it. A nil logger logs
// nothing.
func NewWriter(s *Store, logger *slog.Logger, opts WriterOptions) *Writer {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 250 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.MaxBuffered <= 0 {
		opts.MaxBuffered = 100_000
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 15 * time.Second
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryBackoff == nil {
		opts.RetryBackoff = func(n int) time.Duration {
			d := 500 * time.Millisecond << min(n-1, 6)
			return min(d, 30*time.Second)
		}
	}
	return &Writer{
		store:  s,
		logger: logger,
		opts:   opts,
		in:     make(chan Probe, opts.BatchSize*16),
		done:   make(chan struct{}),
	}
}

// Add queues a probe. Run takes probes from the intake even while a write
// waits on the database, so Add blocks only if Run itself falls behind on
// CPU, and never once Run has begun to stop: from then on the probe is
// counted in Dropped.
func (w *Writer) Add(p Probe) {
	w.intake.RLock()
	defer w.intake.RUnlock()
	if w.closed {
		w.lose(1)
		return
	}
	select {
	case w.in <- p:
	case <-w.done:
		w.lose(1)
	}
}

// lose counts n probes dropped.
func (w *Writer) lose(n int) {
	w.dropped.Add(uint64(n))
	w.losses.add(w.opts.Now(), n, 0, "")
}

// closeIntake makes every later Add count its probe as dropped. Closing done
// first frees an Add blocked on a full intake, which holds intake's read
// lock; once the write lock is taken, no probe can enter the channel.
func (w *Writer) closeIntake() {
	close(w.done)
	w.intake.Lock()
	w.closed = true
	w.intake.Unlock()
}

// Dropped is how many probes were lost: discarded because the buffer was
// full or the writer had stopped, or refused by the database along with the
// verdict stored in their place. Once Run has returned, Written plus
// Dropped is every probe added.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Rejected is how many probes the database refused, each replaced by a
// notok verdict saying so (see write).
func (w *Writer) Rejected() uint64 { return w.rejected.Load() }

// Written is how many probes have been committed, the verdicts stored in
// place of rejected probes included.
func (w *Writer) Written() uint64 { return w.written.Load() }

// OldestHeld is the start of the hour of the oldest probe waiting to be
// written, zero when none waits. Compaction stops before it
// (MaintainerOptions.Holding): after an outage longer than an hour, the
// backlog must land in hours not yet compacted, or its probes would be late.
func (w *Writer) OldestHeld() time.Time {
	if us := w.oldestHeld.Load(); us != 0 {
		return time.UnixMicro(us).UTC()
	}
	return time.Time{}
}

// heldHours counts the probes waiting in each hour, for OldestHeld. Only
// Run's goroutine touches it.
type heldHours struct {
	n      map[int64]int
	oldest *atomic.Int64
}

// add counts probes in (delta 1) or out (delta -1), and publishes the
// oldest hour when it changes.
func (h *heldHours) add(ps []Probe, delta int) {
	changed := false
	for _, p := range ps {
		hour := p.At.Truncate(time.Hour).UnixMicro()
		c := h.n[hour] + delta
		if c > 0 {
			changed = changed || c == delta // a new hour
			h.n[hour] = c
		} else {
			changed = true
			delete(h.n, hour)
		}
	}
	if !changed {
		return
	}
	var oldest int64
	for hour := range h.n {
		if oldest == 0 || hour < oldest {
			oldest = hour
		}
	}
	h.oldest.Store(oldest)
}

// Buffered is how many probes wait to be written.
func (w *Writer) Buffered() int { return int(w.buffered.Load()) + len(w.in) }

// Stalled is how long the write in flight has waited on the database; 0
// when no write is in flight. A batch takes milliseconds: seconds here mean
// the database is slow or locked, before any write has failed.
func (w *Writer) Stalled() time.Duration {
	began := w.writing.Load()
	if began == 0 {
		return 0
	}
	return time.Since(time.Unix(0, began))
}

// LastError is the error of the latest write, nil when it succeeded.
func (w *Writer) LastError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// Run writes batches until ctx ends, then writes what is left, giving the
// database up to ShutdownTimeout, and returns. Callers stop the producers
// first; a probe added after ctx ends is counted as dropped, not written.
//
// A batch is written on a goroutine of its own while this loop keeps taking
// probes from the intake: a database that is slow rather than down (a lock
// held by someone else, a saturated disk) holds a write for up to
// WriteTimeout, and in that time runners must neither wait in Add nor lose
// probes the buffer still has room for.
func (w *Writer) Run(ctx context.Context) {
	var (
		// pending waits, oldest first; inflight is the batch being
		// written, nil when none. The bound counts both.
		pending  []Probe
		inflight []Probe
		results  = make(chan written, 1)
		failures int
		retryAt  time.Time
		// size is the batch size: halved after a write times out, so that
		// a database too slow for a full batch within the write's deadline
		// still makes progress instead of timing out on the same batch
		// forever; doubled back after 16 successes in a row.
		size = w.opts.BatchSize
		grow int
	)
	ticker := time.NewTicker(w.opts.FlushInterval)
	defer ticker.Stop()
	held := heldHours{n: map[int64]int{}, oldest: &w.oldestHeld}
	defer w.oldestHeld.Store(0)

	count := func() { w.buffered.Store(int64(len(pending) + len(inflight))) }
	// trim drops the oldest waiting probes past the bound. The batch in
	// flight is never cut short; if its write fails it is waiting again,
	// and the oldest of it go first.
	trim := func() {
		if over := min(len(pending)+len(inflight)-w.opts.MaxBuffered, len(pending)); over > 0 {
			held.add(pending[:over], -1)
			pending = pending[over:]
			w.lose(over)
		}
		count()
	}
	take := func(p Probe) {
		held.add([]Probe{p}, 1)
		pending = append(pending, p)
		trim()
	}
	// start writes the next batch unless one is in flight or a failed write
	// waits out its backoff.
	start := func() {
		if inflight != nil || len(pending) == 0 || time.Now().Before(retryAt) {
			return
		}
		n := min(len(pending), size)
		// A capacity of n: appending to pending never touches the batch.
		batch := pending[:n:n]
		inflight, pending = batch, pending[n:]
		go func() {
			n, err := w.write(ctx, batch)
			results <- written{n, err}
		}()
	}
	// finish takes the outcome of the batch in flight.
	finish := func(r written) {
		batch, err := inflight, r.err
		inflight = nil
		held.add(batch[:r.n], -1)
		if err != nil {
			if ctx.Err() == nil && size > 1 && (errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err)) {
				size, grow = max(size/2, 1), 0
				w.logger.Warn("database too slow for the batch, writing smaller ones", "batch_size", size)
			}
			failures++
			retryAt = time.Now().Add(w.opts.RetryBackoff(failures))
			// What is left of the batch waits again, in front: the
			// backlog stays in order.
			pending = append(batch[r.n:], pending...)
			trim()
			return
		}
		if size < w.opts.BatchSize {
			if grow++; grow >= 16 {
				size, grow = min(size*2, w.opts.BatchSize), 0
			}
		}
		failures = 0
		count()
	}

	for {
		select {
		case p := <-w.in:
			take(p)
			if len(pending) >= size {
				start()
			}
		case r := <-results:
			finish(r)
			// A backlog is written batch after batch; a short tail waits
			// for the next tick, as fresh probes do.
			if len(pending) >= size {
				start()
			}
		case <-ticker.C:
			start()
		case <-ctx.Done():
			// The batch in flight ends with ctx; it is written again below
			// if it failed.
			if inflight != nil {
				finish(<-results)
			}
			w.closeIntake()
			for len(w.in) > 0 {
				take(<-w.in)
			}
			finalCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.ShutdownTimeout)
			for len(pending) > 0 {
				n, err := w.write(finalCtx, pending[:min(len(pending), size)])
				pending = pending[n:]
				count()
				if err != nil {
					break
				}
			}
			cancel()
			if len(pending) > 0 {
				w.lose(len(pending))
				w.logger.Error("probes not written at shutdown", "count", len(pending), "error", w.LastError())
			}
			w.buffered.Store(0)
			return
		}
	}
}

// written is the outcome of write: how many probes from the front of the
// batch are done with, and the error that stopped the rest.
type written struct {
	n   int
	err error
}

// write writes batch and returns how many probes from its front are done
// with: committed, or refused by the database and accounted for. The error
// is what stopped the rest (the database is away, slow, or ctx ended); the
// rest is to be tried again. It is never a rejection: a batch the database
// refuses for its data is split in halves, each written in turn, down to
// the probe that cannot be stored, so that one bad probe costs no other.
// The halves keep the batch's order, so each site's state machine sees its
// probes as one transaction would have shown them, transitions and all.
func (w *Writer) write(ctx context.Context, batch []Probe) (int, error) {
	err := w.attempt(ctx, batch)
	switch {
	case err == nil:
		return len(batch), nil
	case !permanent(err):
		return 0, err
	case !refused(err):
		// The statement, not the data: a missing table or function, a
		// revoked privilege. No probe is to blame and none can be
		// written; splitting would only say so once per probe.
		w.lose(len(batch))
		w.logger.Error("probes not written: the database refuses the writer's statements", "count", len(batch), "error", err)
		return len(batch), nil
	case len(batch) == 1:
		if err := w.reject(ctx, batch[0], err); err != nil {
			return 0, err
		}
		return 1, nil
	}
	half := len(batch) / 2
	n, err := w.write(ctx, batch[:half])
	if err != nil {
		return n, err
	}
	m, err := w.write(ctx, batch[half:])
	return n + m, err
}

// rejectedPrefix starts the reason of the verdict stored in place of a
// probe the database refused.
const rejectedPrefix = "probe could not be stored: "

// reject stores a notok verdict in place of a probe the database refused,
// so that its site says what is wrong instead of freezing on its last
// state, and logs and counts it. The verdict carries the probe's site and
// time and the database's complaint, nothing else of the probe. An error
// means the database went away meanwhile: the probe is to be tried again.
func (w *Writer) reject(ctx context.Context, p Probe, cause error) error {
	why := rejection(cause)
	verdict := Probe{SiteID: p.SiteID, Slug: p.Slug, At: p.At, State: StateNotOK, Reason: rejectedPrefix + why}
	err := w.attempt(ctx, []Probe{verdict})
	if err != nil && !permanent(err) {
		return err
	}
	if err != nil && !refused(err) {
		w.lose(1)
		w.logger.Error("probes not written: the database refuses the writer's statements", "count", 1, "error", err)
		return nil
	}
	site := p.Slug
	if site == "" {
		site = w.siteName(ctx, p.SiteID)
	}
	w.rejected.Add(1)
	w.losses.add(w.opts.Now(), 0, 1, site+": "+why)
	if err != nil {
		w.lose(1)
		w.logger.Error("probe rejected by the database, and the notok verdict in its place too; dropped",
			"site", site, "at", p.At, "error", cause, "verdict_error", err)
		return nil
	}
	w.logger.Error("probe rejected by the database; its site shows a notok verdict in its place",
		"site", site, "at", p.At, "state", p.State, "error", cause)
	return nil
}

// rejection is what the database said of a refused write, for a reason on
// the board: its message without the statement's context.
func rejection(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return cleanText(pgErr.Message, maxTextBytes-len(rejectedPrefix))
	}
	return cleanText(err.Error(), maxTextBytes-len(rejectedPrefix))
}

// siteName is a site's slug for the log, or its id when the database cannot
// say.
func (w *Writer) siteName(ctx context.Context, id int32) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	slug, err := w.store.q.SiteSlugByID(ctx, w.store.pool, id)
	if err != nil {
		return fmt.Sprintf("#%d", id)
	}
	return slug
}

// attempt writes batch in one transaction, once.
func (w *Writer) attempt(ctx context.Context, batch []Probe) error {
	// Bounded so that a database that hangs rather than refuses is retried
	// like one that is down, while the intake keeps draining.
	ctx, cancel := context.WithTimeout(ctx, w.opts.WriteTimeout)
	defer cancel()
	start := time.Now()
	w.writing.Store(start.UnixNano())
	var changes []Change
	transitions, err := w.store.writeProbes(ctx, batch, &changes)
	if w.commitFault != nil {
		err = w.commitFault(err)
	}
	if ce := (*commitError)(nil); errors.As(err, &ce) && w.committed(ctx, batch) {
		// Written after all: writing it again would store every probe
		// twice and count it twice in history. (Its transitions went
		// unlogged; they are in the database and its notices are queued.)
		w.logger.Warn("a batch whose commit went unanswered was written; not writing it again", "probes", len(batch), "error", err)
		err = nil
	}
	took := time.Since(start)
	w.writing.Store(0)
	w.mu.Lock()
	prev := w.lastErr
	// A refusal is about the data, not the database, which answered: it
	// neither starts nor ends an outage.
	if !refused(err) {
		w.lastErr = err
	}
	w.mu.Unlock()
	switch {
	case err == nil:
		w.written.Add(uint64(len(batch)))
		for _, c := range changes {
			w.logger.Info("site changed state", "site", c.Slug, "from", c.From, "to", c.To, "at", c.At, "reason", c.Reason)
		}
		if prev != nil {
			w.logger.Info("database writes resumed", "probes", len(batch))
		}
	case permanent(err):
		// write splits a refused batch and logs the probe refused, or
		// logs a batch no split can help.
	case errors.Is(err, context.Canceled):
		// Shutdown: Run tries the batch once more and reports what it
		// could not write.
	case prev == nil:
		// Logged once per outage, not once per retry.
		w.logger.Error("cannot write probes, will retry", "error", err)
	}
	if w.opts.FlushedFunc != nil {
		w.opts.FlushedFunc(Flush{Probes: len(batch), Transitions: transitions, Took: took, Err: err})
	}
	return err
}

// committed reports whether a batch whose COMMIT went unanswered is in the
// database: its last probe is. A batch commits whole or not at all, and no
// other write stores a probe of that site at that instant. When the
// database cannot say, the batch counts as not written and is retried.
func (w *Writer) committed(ctx context.Context, batch []Probe) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ok, err := w.store.probeStored(ctx, batch[len(batch)-1])
	if err != nil {
		w.logger.Warn("cannot tell whether a batch was written; writing it again", "error", err)
	}
	return ok
}

// permanent reports whether retrying the same batch cannot succeed: the
// database refused the data or the statement rather than being
// unreachable.
func permanent(err error) bool {
	return refused(err) || sqlClass(err) == "42" // syntax error or access rule violation
}

// refused reports whether the database refused a write for the data in it,
// which some probe of the batch carries: a data exception, an integrity
// violation, a limit such as pg_notify's payload size.
func refused(err error) bool {
	switch sqlClass(err) {
	case "22", "23", "54":
		return true
	}
	return false
}

// sqlClass is the class of err's SQLSTATE, its first two characters; ""
// when the server did not answer with one.
func sqlClass(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return ""
	}
	return pgErr.Code[:2]
}

// Losses is what the writer could not store over a recent span of time.
type Losses struct {
	Dropped  int // lost (see Dropped)
	Rejected int // refused by the database (see Rejected)
	// Last is the latest rejection, "slug: what the database said", and
	// LastAt when it was; "" when there was none in the span.
	Last   string
	LastAt time.Time
}

// Losses counts the probes dropped and rejected since a time, to the
// minute: a health check asks it about the last few minutes.
func (w *Writer) Losses(since time.Time) Losses { return w.losses.since(since) }

// lossMinutes is how far back Losses can see, in minutes.
const lossMinutes = 60

// lossLog counts losses per minute, in a ring of the last lossMinutes.
type lossLog struct {
	mu      sync.Mutex
	minutes [lossMinutes]lossMinute
	last    string
	lastAt  time.Time
}

type lossMinute struct {
	minute            int64 // Unix minutes; the slot is stale when it differs
	dropped, rejected int
}

func (l *lossLog) add(now time.Time, dropped, rejected int, what string) {
	m := now.Unix() / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	slot := &l.minutes[(m%lossMinutes+lossMinutes)%lossMinutes]
	if slot.minute != m {
		*slot = lossMinute{minute: m}
	}
	slot.dropped += dropped
	slot.rejected += rejected
	if what != "" {
		l.last, l.lastAt = what, now
	}
}

func (l *lossLog) since(t time.Time) Losses {
	from := t.Unix() / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	var out Losses
	for _, slot := range l.minutes {
		if slot.minute >= from {
			out.Dropped += slot.dropped
			out.Rejected += slot.rejected
		}
	}
	if !l.lastAt.IsZero() && !l.lastAt.Before(t) {
		out.Last, out.LastAt = l.last, l.lastAt
	}
	return out
}
