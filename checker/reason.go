package checker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/walnut-board/walnut/secret"
)

// errTooManyRedirects ends a redirect chain longer than maxRedirects.
var errTooManyRedirects = errors.New("too many redirects")

// maxRedirects is the standard library's default policy.
const maxRedirects = 10

// maxReason bounds a reason's length: it goes onto a tile, into Slack and
// into PagerDuty's summary.
const maxReason = 300

// failure is what went wrong with a request, for classify.
type failure struct {
	err      error
	parent   context.Context // the caller's context: its end is not the site's fault
	probe    context.Context // the probe's own context, with the site's timeout
	timeout  time.Duration
	stage    string // what the request was doing, from timings.stalled; may be ""
	readBody bool   // the failure came while reading the body
}

// classify turns a transport failure into a short human reason. It never
// uses url.Error's message, which quotes the URL, query string and all.
func classify(f failure) string {
	err := f.err
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	where := func(s string) string {
		if f.readBody {
			return s + " while reading the body"
		}
		return s
	}

	// Timeouts first: once the deadline has passed, whatever error the
	// transport reports is a consequence of it.
	if f.parent != nil && f.parent.Err() != nil {
		if errors.Is(f.parent.Err(), context.DeadlineExceeded) {
			return where("timed out")
		}
		return "probe canceled"
	}
	if f.probe != nil && (errors.Is(f.probe.Err(), context.DeadlineExceeded) || pastDeadline(f.probe)) {
		r := "timed out after " + f.timeout.String()
		switch {
		case f.readBody:
			return r + " reading the body"
		case f.stage != "":
			return r + " " + f.stage
		}
		return r
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return where("timed out")
	}

	if errors.Is(err, errTooManyRedirects) {
		return "too many redirects"
	}

	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return "DNS lookup failed: no such host"
		case dnsErr.IsTimeout:
			return "DNS lookup timed out"
		}
		return "DNS lookup failed: " + dnsErr.Err
	}

	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "TLS handshake failed: the server answered with plain HTTP"
	}
	if r := tlsReason(err); r != "" {
		return "TLS handshake failed: " + r
	}

	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return where("connection reset")
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.ETIMEDOUT):
		return where("timed out")
	case errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return where("server closed the connection")
	}

	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if f.stage != "" {
			return "timed out " + f.stage
		}
		return where("timed out")
	}

	msg := innermost(err).Error()
	switch {
	case strings.Contains(msg, "response headers exceeded"):
		return "response headers too large"
	case f.stage == "in the TLS handshake":
		return "TLS handshake failed: " + msg
	}
	return where("request failed: " + msg)
}

// pastDeadline reports whether ctx's deadline has passed even if its timer
// has not fired yet: a follow-up request under a context derived from the
// probe's may see its own copy of the deadline first.
func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// tlsReason describes a certificate or handshake failure, or returns "".
func tlsReason(err error) string {
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return "certificate signed by unknown authority"
	}
	var host x509.HostnameError
	if errors.As(err, &host) {
		return "certificate is not valid for " + host.Host
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		if invalid.Reason == x509.Expired {
			return "certificate has expired or is not yet valid"
		}
		return strings.TrimPrefix(invalid.Error(), "x509: ")
	}
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return "certificate not trusted: " + strings.TrimPrefix(innermost(verify.Err).Error(), "x509: ")
	}
	var record tls.RecordHeaderError
	if errors.As(err, &record) {
		return "the server did not answer with TLS"
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return alert.Error()
	}
	// A TLS alert from the server arrives as a *net.OpError with Op
	// "remote error" wrapping an unexported alert type.
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return "remote error: " + op.Err.Error()
	}
	return ""
}

// innermost follows a chain of single wrappers to its end, so a message
// carries no prefixes naming addresses or URLs.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// scrubber hides, in reason text, what the site's request carries in
// confidence: every query and header value, every ${…} value (Site.Secrets),
// and what the caller adds for every site (the alert sinks' credentials). An
// upstream may echo any of them; see package secret for the rule.
type scrubber struct{ s *secret.Scrubber }

func newScrubber(site Site, base *secret.Scrubber) scrubber {
	s := base.Clone()
	s.AddURL(site.URL)
	s.AddHeaders(site.Headers)
	s.Add(site.Secrets...)
	return scrubber{s}
}

// clean scrubs and shortens a reason.
func (s scrubber) clean(reason string) string {
	reason = s.s.Scrub(reason)
	reason = strings.Join(strings.Fields(reason), " ")
	if len(reason) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut] + "…"
	}
	return reason
}
