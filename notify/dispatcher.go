package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/walnut-board/walnut/store"
)

// Flapping is a site's flap damping: Changes changes of state within Within
// send one "flapping" notice and hold the rest until the site has kept one
// state for Settle. The caller resolves it (Walnut's config does, defaults
// included); Off, or no Changes, damps nothing.
type Flapping struct {
	Off     bool
	Changes int
	Within  time.Duration
	Settle  time.Duration
}

// Windows says whether a site is in a maintenance window at t and, if so,
// when the window ends; config.Windows is one.
type Windows interface {
	Until(slug string, t time.Time) (end time.Time, in bool)
}

// Options configures a Dispatcher.
type Options struct {
	Store       *store.Store
	Sinks       map[string]Sink
	Maintenance Windows // nil: none
	BaseURL     string  // WALNUT_URL: links to /sites/{slug}; "" for none
	Logger      *slog.Logger

	// Flapping is each site's damping by slug; SetFlapping replaces it on
	// a reload.
	Flapping map[string]Flapping
	// DefaultFlapping is the damping of a site Flapping does not list (one
	// gone from the config whose notices are still out).
	DefaultFlapping Flapping

	// Backoff is the wait before retry n (1, 2, ...); default doubling from
	// 5 s up to 10 min, with jitter. The queue gives up after MaxAttempts
	// (default 25, about three days at the cap); its sweep then starts
	// another, so a pending notice is never abandoned.
	Backoff     func(attempt int) time.Duration
	MaxAttempts int
	// Workers is how many deliveries run at once, each holding a database
	// connection while it talks to the sink; default 2, so that a slow
	// sink cannot take the pool from the probe writer.
	Workers int

	// SweepInterval is how often streams whose notices wait without a job
	// are woken; default 5 min.
	SweepInterval time.Duration

	// For tests.
	Now               func() time.Time
	FetchPollInterval time.Duration // the queue's; default 1 s
	ClientID          string        // the queue's client id; default generated
}

// Dispatcher delivers notices: the store's notification queue calls it for
// one site's sink at a time, and it drains that stream's pending notices in
// order.
type Dispatcher struct {
	st      *store.Store
	sinks   map[string]Sink
	mu      sync.Mutex // guards windows and flaps
	windows Windows
	flaps   map[string]Flapping
	baseURL string
	logger  *slog.Logger
	now     func() time.Time
	flap    Flapping // for a site not in flaps
	queue   *store.NotifyQueue
}

// New builds a dispatcher; Start runs it.
func New(opts Options) (*Dispatcher, error) {
	d := &Dispatcher{
		st:      opts.Store,
		sinks:   opts.Sinks,
		windows: opts.Maintenance,
		flaps:   opts.Flapping,
		baseURL: strings.TrimSuffix(opts.BaseURL, "/"),
		logger:  opts.Logger,
		now:     opts.Now,
		flap:    opts.DefaultFlapping,
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	backoff := opts.Backoff
	if backoff == nil {
		backoff = defaultBackoff
	}
	q, err := store.NewNotifyQueue(opts.Store, d.logger, store.NotifyQueueOptions{
		DrainFunc:         d.work,
		RetryFunc:         backoff,
		MaxAttempts:       opts.MaxAttempts,
		Workers:           opts.Workers,
		SweepInterval:     opts.SweepInterval,
		FetchPollInterval: opts.FetchPollInterval,
		ClientID:          opts.ClientID,
	})
	if err != nil {
		return nil, err
	}
	d.queue = q
	return d, nil
}

// defaultBackoff doubles from 5 s to 10 min, with up to 20% jitter.
func defaultBackoff(attempt int) time.Duration {
	d := 5 * time.Second << min(max(attempt-1, 0), 7)
	d = min(d, 10*time.Minute)
	return d + rand.N(d/5+1)
}

// SetMaintenance replaces the maintenance windows, on a config reload.
func (d *Dispatcher) SetMaintenance(windows Windows) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.windows = windows
}

// SetFlapping replaces each site's flap damping, by slug, on a config
// reload. A hold already begun ends by the new settle time; a site whose
// damping is now off is told where it stands at its next look.
func (d *Dispatcher) SetFlapping(flaps map[string]Flapping) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flaps = flaps
}

// flapping returns a site's damping, as the caller resolved it.
func (d *Dispatcher) flapping(slug string) Flapping {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.flaps[slug]
	if !ok {
		f = d.flap
	}
	if f.Changes <= 0 {
		return Flapping{Off: true}
	}
	return f
}

func (d *Dispatcher) maintenanceUntil(slug string, t time.Time) (time.Time, bool) {
	d.mu.Lock()
	windows := d.windows
	d.mu.Unlock()
	if windows == nil {
		return time.Time{}, false
	}
	return windows.Until(slug, t)
}

// Start starts working the queue; it returns at once.
func (d *Dispatcher) Start(ctx context.Context) error { return d.queue.Start(ctx) }

// Stop waits for running deliveries to finish, then stops. Notices not yet
// delivered stay in the database for the next start, here or in another
// process.
func (d *Dispatcher) Stop(ctx context.Context) error { return d.queue.Stop(ctx) }

// work is the queue's drain function: a rate limit is not a failure, so it
// waits as asked without using up an attempt.
func (d *Dispatcher) work(ctx context.Context, siteID int32, sink string) error {
	err := d.drain(ctx, siteID, sink)
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > 0 {
		return &store.SnoozeError{After: ra.After}
	}
	return err
}

// drain delivers a stream's pending notices in order. It stops at the first
// that must be retried and returns its error, so that the queue retries the
// job with backoff; what was delivered before stays delivered, each notice
// recorded as soon as its sink has answered. No transaction is open while a
// sink is called.
func (d *Dispatcher) drain(ctx context.Context, siteID int32, sinkName string) error {
	st, err := d.st.NotifyStreamOpen(ctx, siteID, sinkName)
	if err != nil {
		return err
	}
	site, err := st.Site(ctx)
	if err != nil {
		st.Close(ctx) //nolint:errcheck // the site error is the one to report
		return err
	}
	sink := d.sinks[sinkName]
	var sendErr error
	for {
		n, err := st.Next(ctx)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			sendErr = err
			break
		}
		outcome, detail, err := d.handle(ctx, st, site, sink, n)
		if err != nil {
			d.logger.WarnContext(ctx, "notification will be retried", "sink", sinkName, "site", site.Slug, "attempt", n.Attempts+1, "error", err)
			if aerr := st.Attempted(ctx, n.ID, err.Error()); aerr != nil {
				err = errors.Join(err, aerr)
			}
			sendErr = err
			break
		}
		if err := st.Done(ctx, n.ID, outcome, detail); err != nil {
			sendErr = err
			break
		}
	}
	if sendErr == nil && sink != nil {
		sendErr = d.checkHold(ctx, st, site, sink)
	}
	if err := st.Close(ctx); err != nil {
		return errors.Join(sendErr, err)
	}
	return sendErr
}

// handle decides and sends one notice. A nil error with an outcome means the
// notice is done with; an error means retry.
func (d *Dispatcher) handle(ctx context.Context, st *store.NotifyStream, site store.NotifySite, sink Sink, n store.Notification) (outcome, detail string, err error) {
	if sink == nil {
		return "skipped", "sink not configured", nil
	}
	if n.CertDays > 0 {
		return d.certificate(ctx, st, site, sink, n)
	}
	if st.Told == store.StateUnknown && st.Held == "" {
		// A new stream: a site's first verdict is never sent, so the sink
		// may take the state this change leaves as known.
		st.Told = n.From
	}
	if _, in := d.maintenanceUntil(site.Slug, n.At); in {
		if st.Held != "maintenance" {
			st.Held, st.HeldSince = "maintenance", &n.At
		}
		return "maintenance", "", nil
	}
	if st.Held == "maintenance" {
		// The window is over; the site's news flows again, but coming back
		// to what the sink already knows is no news.
		st.Held, st.HeldSince = "", nil
		if n.To == st.Told {
			return "maintenance", "back as before the window", nil
		}
	}
	if st.Held == "flapping" {
		return "held", "flapping", nil
	}
	notice := d.notice(site, n)
	if flap := d.flapping(site.Slug); !flap.Off {
		count, err := st.TransitionsBetween(ctx, n.At.Add(-flap.Within), n.At)
		if err != nil {
			return "", "", err
		}
		if count >= flap.Changes {
			notice.Event, notice.Changes, notice.Window = EventFlapping, count, flap.Within
			if err := d.send(ctx, sink, st, site, notice); err != nil {
				return d.failed(ctx, st.Sink, site, notice, err)
			}
			// Unknown: whatever the site settles on is news.
			st.Held, st.HeldSince, st.Told = "flapping", &n.At, store.StateUnknown
			return "flapping", "", nil
		}
	}
	if err := d.send(ctx, sink, st, site, notice); err != nil {
		return d.failed(ctx, st.Sink, site, notice, err)
	}
	st.Told = n.To
	return "sent", "", nil
}

// certificate sends a certificate warning. It is no change of state, so it
// leaves what the sink was told alone, and it is not held while the site
// flaps or is in maintenance: the certificate expires all the same.
func (d *Dispatcher) certificate(ctx context.Context, st *store.NotifyStream, site store.NotifySite, sink Sink, n store.Notification) (string, string, error) {
	notice := Notice{
		Event: EventCertificate, Slug: site.Slug, Name: site.Name, URL: site.URL, Link: d.link(site.Slug),
		Severity: site.Severity, Reason: store.ExpiryText(n.CertExpiresAt.Sub(n.At)), At: n.At,
		CertExpiresAt: n.CertExpiresAt, CertDays: n.CertDays,
	}
	if err := d.send(ctx, sink, st, site, notice); err != nil {
		return d.failed(ctx, st.Sink, site, notice, err)
	}
	return "sent", "", nil
}

// send calls the sink.
func (d *Dispatcher) send(ctx context.Context, sink Sink, st *store.NotifyStream, site store.NotifySite, n Notice) error {
	err := sink.Send(ctx, n)
	if err == nil {
		d.logger.InfoContext(ctx, "notification sent", "sink", st.Sink, "site", site.Slug, "event", n.Event, "to", n.To)
	}
	return err
}

// failed turns a sink's error into an outcome (skipped, failed) or a retry.
func (d *Dispatcher) failed(ctx context.Context, sinkName string, site store.NotifySite, n Notice, err error) (string, string, error) {
	if errors.Is(err, ErrSkip) {
		return "skipped", "", nil
	}
	var perm *PermanentError
	if errors.As(err, &perm) {
		// Logged once, kept on the row for /healthz; retrying cannot fix a
		// bad routing key or a revoked webhook.
		d.logger.ErrorContext(ctx, "notification failed and will not be retried", "sink", sinkName, "site", site.Slug, "event", n.Event, "to", n.To, "error", err)
		return "failed", err.Error(), nil
	}
	return "", "", err
}

// checkHold ends a hold whose reason has passed, telling the sink where the
// site now stands if that differs from what it was last told, or schedules
// another look.
func (d *Dispatcher) checkHold(ctx context.Context, st *store.NotifyStream, site store.NotifySite, sink Sink) error {
	now := d.now()
	switch st.Held {
	case "":
		return nil
	case "maintenance":
		if end, in := d.maintenanceUntil(site.Slug, now); in {
			return st.WakeAt(ctx, end.Add(time.Second))
		}
	case "flapping":
		last, err := st.LastTransition(ctx)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Settle is zero for a site whose damping was turned off since
		// the hold began: the hold ends now.
		if quiet := last.Add(d.flapping(site.Slug).Settle); now.Before(quiet) {
			return st.WakeAt(ctx, quiet)
		}
	}
	if site.State != st.Told && (site.State == store.StateOK || site.State == store.StateNotOK) {
		at := now
		if site.Since != nil {
			at = *site.Since
		}
		n := Notice{
			Event: EventSettled, Slug: site.Slug, Name: site.Name, URL: site.URL, Link: d.link(site.Slug),
			Severity: site.Severity, From: st.Told, To: site.State, Reason: site.Reason, At: at,
			HTTPStatus: site.HTTPStatus, Latency: site.Latency, TTFB: site.TTFB,
		}
		if err := d.send(ctx, sink, st, site, n); err != nil {
			if _, _, err := d.failed(ctx, st.Sink, site, n, err); err != nil {
				return err
			}
		} else {
			st.Told = site.State
		}
	}
	st.Held, st.HeldSince = "", nil
	return nil
}

func (d *Dispatcher) link(slug string) string {
	if d.baseURL == "" {
		return ""
	}
	return d.baseURL + "/sites/" + slug
}

func (d *Dispatcher) notice(site store.NotifySite, n store.Notification) Notice {
	return Notice{
		Event: EventTransition, Slug: site.Slug, Name: site.Name, URL: site.URL, Link: d.link(site.Slug),
		Severity: site.Severity, From: n.From, To: n.To, Reason: n.Reason, At: n.At,
		HTTPStatus: n.HTTPStatus, Latency: n.Latency, TTFB: n.TTFB, DNS: n.DNS, Connect: n.Connect, TLS: n.TLS,
	}
}
