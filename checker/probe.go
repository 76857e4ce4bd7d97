package checker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

// drainLimit is how much of an over-long body is read and thrown away before
// closing, so a client with keep-alives (not NewClient's) can reuse the
// connection after a small overrun. It is small: the deadline still applies.
const drainLimit = 4 << 10

// defaultRecipe judges sites that name no recipe: the status recipe with its
// defaults (2xx is ok), built once rather than on every probe.
var defaultRecipe = func() recipes.Recipe {
	r, err := recipes.NewStatus(nil)
	if err != nil {
		panic("checker: the default status recipe: " + err.Error())
	}
	return r
}()

// userAgent is sent unless the site sets its own.
const userAgent = "Walnut (status board)"

// Probe makes one traced request to site with client and judges the response
// with the site's recipe (the status recipe with its defaults when nil).
//
// The whole exchange, body included, is bounded by the site's timeout. A
// transport failure (DNS, refused, TLS, timeout, too many redirects) is notok
// without asking the recipe, with a short reason that never quotes the URL.
// A recipe that panics makes the probe notok: "checker crashed: …".
//
// Redirects are followed up to 10 times (the standard library's default
// policy; a client's own CheckRedirect is honoured). DNS, Connect and TLS
// then describe the last hop; TTFB and Latency run from the start of the
// probe, so they include the earlier hops.
//
// now stamps the probe's At (nil: time.Now); durations are measured on the
// monotonic clock. A nil client means NewClient().
func Probe(ctx context.Context, client *http.Client, site Site, now func() time.Time) store.Probe {
	return Check(ctx, client, site, now).Probe
}

// Result is a probe and the certificate its TLS handshake presented.
type Result struct {
	Probe store.Probe
	Cert  *store.Cert // nil without a successful TLS handshake
}

// Check is Probe, with the certificate. A tcp:// or tls:// site is
// connected to rather than asked (see probeTCP). client is given the
// site's TLS settings (tls.ca, insecure) when it has any.
func Check(ctx context.Context, client *http.Client, site Site, now func() time.Time) Result {
	if client == nil {
		client = NewClient()
	}
	o := newProber(client, site).run(ctx, site, now, newScrubber(site, nil))
	return Result{Probe: o.probe, Cert: o.cert}
}

// outcome is a probe and, when the recipe panicked, what it panicked with.
type outcome struct {
	probe store.Probe
	cert  *store.Cert
	crash *crash
}

type crash struct {
	value any
	stack []byte
}

// probe is Probe with the site's scrubber made once by the caller: a runner
// keeps one rather than parse the site's URL on every probe.
//
// conf is the site's TLS configuration for tcp sites (nil: the system's
// roots); an HTTP site's is in client.
func probe(ctx context.Context, client *http.Client, conf *tls.Config, site Site, now func() time.Time, scrub scrubber) outcome {
	if now == nil {
		now = time.Now
	}
	if site.TCP {
		return probeTCP(ctx, conf, site, now, scrub)
	}
	if client == nil {
		client = NewClient()
	}
	p := store.Probe{SiteID: site.ID, Slug: site.Slug, At: now()}
	notOK := func(reason string) outcome {
		p.State = store.StateNotOK
		p.Reason = scrub.clean(reason)
		return outcome{probe: p}
	}

	timeout := site.Timeout
	probeCtx, cancel := site.probeContext(ctx)
	defer cancel()

	var tm timings
	req, err := newRequest(httptrace.WithClientTrace(probeCtx, tm.trace()), site)
	if err != nil {
		return notOK(err.Error())
	}

	// A shallow copy per probe: the transport is shared, the redirect policy
	// is this probe's, so that it can start a new hop in the timings.
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if client.CheckRedirect != nil {
			if err := client.CheckRedirect(req, via); err != nil {
				return err
			}
		} else if len(via) >= maxRedirects {
			return errTooManyRedirects
		}
		tm.newHop()
		return nil
	}

	start := tm.begin()
	resp, err := c.Do(req)
	if err != nil {
		p.Latency = time.Since(start)
		setPhases(&p, tm.phases())
		o := notOK(classify(failure{
			err: err, parent: ctx, probe: probeCtx, timeout: timeout, stage: tm.stalled(),
		}))
		o.cert = leafCert(tm.cert(), site)
		return o
	}
	body, truncated, err := readBody(resp.Body, site.bodyLimit())
	p.Latency = time.Since(start)
	setPhases(&p, tm.phases())
	p.HTTPStatus = resp.StatusCode
	if err != nil {
		return notOK(classify(failure{
			err: err, parent: ctx, probe: probeCtx, timeout: timeout, readBody: true,
		}))
	}

	rec := site.Recipe
	if rec == nil {
		rec = defaultRecipe
	}
	f := &fetcher{client: client, probe: probeCtx, parent: ctx, timeout: timeout, limit: site.bodyLimit(), scrub: scrub}
	verdict, cr := judge(probeCtx, rec, &recipes.Response{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       body,
		Truncated:  truncated,
		Latency:    p.Latency,
		TTFB:       p.TTFB,
		Request:    resp.Request,
	}, f.fetch)
	cert := leafCert(tm.cert(), site)
	if cr != nil {
		o := notOK(fmt.Sprintf("checker crashed: %v", cr.value))
		o.crash, o.cert = cr, cert
		return o
	}
	switch verdict.State {
	case recipes.OK:
		p.State = store.StateOK
	case recipes.NotOK:
		p.State = store.StateNotOK
	case recipes.Pending:
		p.State = store.StatePending
	default:
		o := notOK(fmt.Sprintf("recipe returned an unknown state %q", verdict.State))
		o.cert = cert
		return o
	}
	p.Reason = scrub.clean(verdict.Reason)
	applyCertCritical(&p, cert, site)
	return outcome{probe: p, cert: cert}
}

func setPhases(p *store.Probe, ph phases) {
	p.DNS, p.Connect, p.TLS, p.TTFB = ph.DNS, ph.Connect, ph.TLS, ph.TTFB
}

// newRequest builds the site's request. Its errors never quote the URL.
func newRequest(ctx context.Context, site Site) (*http.Request, error) {
	method := site.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if site.Body != "" {
		body = strings.NewReader(site.Body) // also sets GetBody, so 307/308 resend it
	}
	req, err := http.NewRequestWithContext(ctx, method, site.URL, body)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, errors.New("invalid URL")
		}
		return nil, fmt.Errorf("invalid request: %w", innermost(err))
	}
	req.Header.Set("User-Agent", userAgent)
	for k, v := range site.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// readBody reads at most limit bytes, reports whether there was more, then
// drains a little and closes.
func readBody(rc io.ReadCloser, limit int64) (body []byte, truncated bool, err error) {
	defer rc.Close()
	body, err = io.ReadAll(io.LimitReader(rc, limit+1))
	if int64(len(body)) > limit {
		io.CopyN(io.Discard, rc, drainLimit)
		return body[:limit:limit], true, nil
	}
	return body, false, err
}

// judge asks the recipe, turning a panic into a crash.
func judge(ctx context.Context, rec recipes.Recipe, resp *recipes.Response, fetch recipes.FetchFunc) (v recipes.Verdict, c *crash) {
	defer func() {
		if r := recover(); r != nil {
			c = &crash{value: r, stack: debug.Stack()}
		}
	}()
	return rec.Check(ctx, resp, fetch), nil
}

// fetcher makes a recipe's follow-up requests with the probe's client,
// deadline and body limit.
type fetcher struct {
	client  *http.Client
	probe   context.Context
	parent  context.Context
	timeout time.Duration
	limit   int64
	scrub   scrubber
}

// fetchError is a follow-up request's failure. Its message is a short
// reason without the URL; it unwraps to the cause inside url.Error, never to
// the url.Error itself, whose message quotes the URL.
type fetchError struct {
	reason string
	err    error
}

func (e *fetchError) Error() string { return e.reason }
func (e *fetchError) Unwrap() error { return e.err }

func (f *fetcher) fetch(ctx context.Context, req *http.Request) (*recipes.Response, error) {
	// Whatever context the recipe passes, the probe's deadline and
	// cancellation still apply.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d, ok := f.probe.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, d)
		defer cancelDeadline()
	}
	defer context.AfterFunc(f.probe, cancel)()

	var tm timings
	req = req.WithContext(httptrace.WithClientTrace(ctx, tm.trace()))
	start := tm.begin()
	fail := func(err error, readBody bool) error {
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		return &fetchError{
			reason: f.scrub.clean(classify(failure{
				err: err, parent: f.parent, probe: f.probe, timeout: f.timeout,
				stage: tm.stalled(), readBody: readBody,
			})),
			err: cause,
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fail(err, false)
	}
	body, truncated, err := readBody(resp.Body, f.limit)
	if err != nil {
		return nil, fail(err, true)
	}
	return &recipes.Response{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       body,
		Truncated:  truncated,
		Latency:    time.Since(start),
		TTFB:       tm.phases().TTFB,
		Request:    resp.Request,
	}, nil
}
