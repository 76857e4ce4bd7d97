// Package oncall fills the support roster: from a CSV file people keep
// (ParseCSV, for `walnut roster import`), or from PagerDuty: who is on call
// in the configured schedules today and the next 7 days, read with
// PagerDuty's REST API (github.com/PagerDuty/go-pagerduty) and written into
// the roster table, where the board and `walnut roster` read it like a CSV
// import.
package oncall

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// DefaultAPIURL is PagerDuty's REST API.
const DefaultAPIURL = "https://api.pagerduty.com"

// Days is how many days a sync covers: today and the next 7.
const Days = 8

// pageLimit is the page size asked for; PagerDuty's maximum.
const pageLimit = 100

// maxPages bounds one sync's paging, against an API that always says more.
const maxPages = 50

// maxContactLookups bounds the contact-method reads of one sync: a board
// shows a handful of people.
const maxContactLookups = 20

// Store is where a sync writes; *store.Store has it.
type Store interface {
	RosterSyncReplace(ctx context.Context, source string, from, to time.Time, shifts []store.Shift, at time.Time) error
	RosterSyncFailed(ctx context.Context, source string, at time.Time, reason string) error
	RosterSyncs(ctx context.Context) ([]store.RosterSync, error)
	RosterSyncForget(ctx context.Context, source string, day time.Time) error
}

// Options configure a PagerDuty syncer.
type Options struct {
	Token  string // PAGERDUTY_API_TOKEN, a read-only REST API key; a secret
	APIURL string // PAGERDUTY_API_URL; default DefaultAPIURL
	Store  Store
	Logger *slog.Logger
	// HTTPClient makes the requests; nil: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now and Location decide what "today" is; default time.Now and
	// time.Local, as the board's roster.
	Now      func() time.Time
	Location *time.Location
}

// PagerDuty syncs the roster from PagerDuty's on-call schedules.
type PagerDuty struct {
	client *pagerduty.Client
	token  string
	store  Store
	logger *slog.Logger
	now    func() time.Time
	loc    *time.Location
	scrub  *secret.Scrubber

	mu        sync.Mutex
	schedules []string
	every     time.Duration
	changed   chan struct{}
}

// New returns a syncer; SetSchedules gives it something to read.
func New(opts Options) *PagerDuty {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	p := &PagerDuty{
		client:  pagerduty.NewClient(opts.Token, pagerduty.WithAPIEndpoint(strings.TrimRight(cmp.Or(opts.APIURL, DefaultAPIURL), "/"))),
		token:   opts.Token,
		store:   opts.Store,
		logger:  opts.Logger,
		now:     opts.Now,
		loc:     cmp.Or(opts.Location, time.Local),
		scrub:   secret.New(opts.Token),
		changed: make(chan struct{}, 1),
	}
	p.client.HTTPClient = hc
	if p.now == nil {
		p.now = time.Now
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	return p
}

// SetSchedules sets what to read and how often; no schedules turns syncing
// off. A change wakes Run to sync at once.
func (p *PagerDuty) SetSchedules(schedules []string, every time.Duration) {
	p.mu.Lock()
	same := slices.Equal(p.schedules, schedules) && p.every == every
	p.schedules, p.every = slices.Clone(schedules), every
	p.mu.Unlock()
	if !same {
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}
}

func (p *PagerDuty) config() ([]string, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.schedules, p.every
}

// Run syncs at once and then every `every` until ctx ends, and at once
// when SetSchedules changes what to read. With several instances on one
// database, an instance skips a round another one has just done, so
// PagerDuty is asked about once per `every` in all.
func (p *PagerDuty) Run(ctx context.Context) {
	force := true
	var last []string
	for {
		schedules, every := p.config()
		if !slices.Equal(schedules, last) {
			force, last = true, schedules
		}
		wait := time.Hour // idle until schedules are set
		if len(schedules) == 0 && force {
			// Not configured (at start, or a reload took it out): what
			// PagerDuty wrote for today on is no longer its to keep.
			// Forgetting here, on the goroutine that syncs, cannot race a
			// sync still writing.
			if err := p.Forget(ctx); err != nil && ctx.Err() == nil {
				p.logger.Warn("forget the roster PagerDuty wrote", "error", err)
			}
		}
		if len(schedules) > 0 {
			wait = every
			if force || !p.attemptedWithin(ctx, every/2) {
				if err := p.Sync(ctx); err != nil && ctx.Err() == nil {
					p.logger.Warn("roster sync from PagerDuty failed; the last roster stays", "error", err)
				}
			}
		}
		force = false
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.changed:
			t.Stop()
		case <-t.C:
		}
	}
}

// attemptedWithin says whether a sync was tried in the last d, by any
// instance; also when the database cannot say, so that a sync is not
// tried while nothing can be written.
func (p *PagerDuty) attemptedWithin(ctx context.Context, d time.Duration) bool {
	syncs, err := p.store.RosterSyncs(ctx)
	if err != nil {
		return true
	}
	for _, s := range syncs {
		if s.Source == store.RosterPagerDuty && p.now().Sub(s.AttemptedAt) < d {
			return true
		}
	}
	return false
}

// Forget removes PagerDuty's shifts from today on and its sync record, for
// a config without roster.pagerduty.
func (p *PagerDuty) Forget(ctx context.Context) error {
	return p.store.RosterSyncForget(ctx, store.RosterPagerDuty, civil(p.now().In(p.loc)))
}

// Sync reads who is on call in the schedules from today to 7 days ahead and
// replaces PagerDuty's part of the roster for those days. On failure the
// roster stays as it was and the failure is recorded, scrubbed of the
// token, for /healthz and the board's "as of".
func (p *PagerDuty) Sync(ctx context.Context) error {
	at := p.now()
	err := p.sync(ctx, at)
	if err == nil || ctx.Err() != nil {
		return err
	}
	reason := p.scrub.Scrub(err.Error())
	if rerr := p.store.RosterSyncFailed(ctx, store.RosterPagerDuty, at, reason); rerr != nil {
		return errors.Join(errors.New(reason), rerr)
	}
	return errors.New(reason)
}

func (p *PagerDuty) sync(ctx context.Context, at time.Time) error {
	schedules, _ := p.config()
	if len(schedules) == 0 {
		return nil
	}
	if p.token == "" {
		return errors.New("PAGERDUTY_API_TOKEN is not set: the roster cannot be read from PagerDuty")
	}
	local := at.In(p.loc)
	y, m, d := local.Date()
	since := time.Date(y, m, d, 0, 0, 0, 0, p.loc)
	until := time.Date(y, m, d+Days, 0, 0, 0, 0, p.loc)
	oncalls, err := p.list(ctx, schedules, since, until)
	if err != nil {
		return err
	}
	shifts := p.shifts(ctx, oncalls, since, until)
	first := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 0, Days-1)
	if err := p.store.RosterSyncReplace(ctx, store.RosterPagerDuty, first, last, shifts, at); err != nil {
		return err
	}
	p.logger.Debug("roster synced from PagerDuty", "oncalls", len(oncalls), "shifts", len(shifts))
	return nil
}

// list pages through GET /oncalls.
func (p *PagerDuty) list(ctx context.Context, schedules []string, since, until time.Time) ([]pagerduty.OnCall, error) {
	var out []pagerduty.OnCall
	opts := pagerduty.ListOnCallOptions{
		ScheduleIDs: schedules,
		Since:       since.UTC().Format(time.RFC3339),
		Until:       until.UTC().Format(time.RFC3339),
		Includes:    []string{"users"},
		TimeZone:    "UTC",
		Limit:       pageLimit,
	}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("list on-calls: still more after %d pages", maxPages)
		}
		resp, err := p.client.ListOnCallsWithContext(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list on-calls of %s: %w", strings.Join(schedules, ", "), err)
		}
		out = append(out, resp.OnCalls...)
		if !resp.More || len(resp.OnCalls) == 0 {
			return out, nil
		}
		// The next page starts after what this one held, whatever limit
		// the server chose to apply.
		opts.Offset += uint(len(resp.OnCalls))
	}
}

// shifts turns on-calls into whole-day shifts in p.loc, one per person and
// run of days, people without a schedule (a user named directly in an
// escalation policy) left out.
func (p *PagerDuty) shifts(ctx context.Context, oncalls []pagerduty.OnCall, since, until time.Time) []store.Shift {
	contacts := map[string]string{}
	lookups := 0
	var out []store.Shift
	for _, oc := range oncalls {
		if oc.Schedule.ID == "" {
			continue
		}
		start, end := since, until
		if t, err := time.Parse(time.RFC3339, oc.Start); err == nil && t.After(start) {
			start = t
		}
		if t, err := time.Parse(time.RFC3339, oc.End); err == nil && t.Before(end) {
			end = t
		}
		if !end.After(start) {
			continue
		}
		name := cmp.Or(oc.User.Name, oc.User.Summary, oc.User.Email, oc.User.ID)
		if name == "" {
			continue
		}
		contact, seen := contacts[oc.User.ID]
		if !seen {
			contact = oc.User.Email
			if lookups < maxContactLookups && oc.User.ID != "" && hasPhone(oc.User) {
				lookups++
				if phone := p.phone(ctx, oc.User.ID); phone != "" {
					contact = strings.Trim(contact+" · "+phone, " ·")
				}
			}
			contacts[oc.User.ID] = contact
		}
		out = append(out, store.Shift{
			Start:   civil(start.In(p.loc)),
			End:     civil(end.Add(-time.Nanosecond).In(p.loc)),
			Person:  name,
			Contact: contact,
		})
	}
	return mergeShifts(out)
}

// hasPhone reports whether a user's contact methods (references, with
// include[]=users) name a phone or SMS number worth reading.
func hasPhone(u pagerduty.User) bool {
	for _, cm := range u.ContactMethods {
		if strings.HasPrefix(cm.Type, "phone_contact_method") || strings.HasPrefix(cm.Type, "sms_contact_method") {
			return true
		}
	}
	return false
}

// phone is a user's first phone number, "+44 2079460000", or "" when it
// cannot be read (a key without access to users' contact methods is no
// reason to fail the roster).
func (p *PagerDuty) phone(ctx context.Context, userID string) string {
	resp, err := p.client.ListUserContactMethodsWithContext(ctx, userID)
	if err != nil {
		p.logger.Debug("read a PagerDuty user's contact methods", "user", userID, "error", p.scrub.Scrub(err.Error()))
		return ""
	}
	for _, kind := range []string{"phone_contact_method", "sms_contact_method"} {
		for _, cm := range resp.ContactMethods {
			if cm.Type == kind && cm.Address != "" {
				if cm.CountryCode > 0 {
					return fmt.Sprintf("+%d %s", cm.CountryCode, cm.Address)
				}
				return cm.Address
			}
		}
	}
	return ""
}

// civil is t's calendar date as a midnight UTC value, as store.Shift wants.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// mergeShifts joins a person's shifts that overlap or follow each other
// day by day (a daily rotation, or the same person on two schedules), so
// the roster has one line per stint.
func mergeShifts(in []store.Shift) []store.Shift {
	slices.SortStableFunc(in, func(a, b store.Shift) int {
		return cmp.Or(strings.Compare(a.Person, b.Person), strings.Compare(a.Contact, b.Contact), a.Start.Compare(b.Start))
	})
	var out []store.Shift
	for _, s := range in {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.Person == s.Person && last.Contact == s.Contact && !s.Start.After(last.End.AddDate(0, 0, 1)) {
				if s.End.After(last.End) {
					last.End = s.End
				}
				continue
			}
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b store.Shift) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Person, b.Person))
	})
	return out
}
