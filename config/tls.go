package config

import (
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Certificate warning defaults: a green tile says "certificate expires in 9
// days" from DefaultCertWarning before expiry, and the site turns notok from
// DefaultCertCritical.
const (
	DefaultCertWarning  = 14 * 24 * time.Hour
	DefaultCertCritical = 2 * 24 * time.Hour
)

// Site kinds, from the URL's scheme.
const (
	KindHTTP = "http" // http:// and https://: a request judged by a recipe
	KindTCP  = "tcp"  // tcp:// and tls://: a connection, and for tls:// a handshake
)

// TLS is how a site's certificate is checked.
type TLS struct {
	// CAFile is the file of tls.ca, as written; CA is its PEM contents,
	// trusted instead of the system's roots. Both empty: the system's.
	CAFile string
	CA     []byte
	// Insecure skips verification (tls: {insecure: true}); the certificate
	// is still read, and its expiry still warned of.
	Insecure bool
}

// tlsSpec is what a "tls" value says; fields not given are nil.
type tlsSpec struct {
	node     ast.Node
	caFile   *scalar
	ca       []byte
	insecure *bool
}

// certLimit is a cert_warning or cert_critical value: a duration, or off.
type certLimit struct {
	d    time.Duration // 0 when off
	off  bool
	node ast.Node
}

// certLimitKey reads cert_warning or cert_critical: "14d", "36h", "off".
func (d *decoder) certLimit(n ast.Node, path string) (*certLimit, bool) {
	r := d.resolve(n, path)
	switch r.(type) {
	case nil:
		return nil, false
	case *ast.BoolNode:
		if !r.(*ast.BoolNode).Value {
			return &certLimit{off: true, node: r}, true
		}
		d.errorf(r, path, `expected a duration such as "14d", or off, got %s`, describe(r))
		return nil, false
	case *ast.StringNode, *ast.LiteralNode:
	default:
		d.errorf(r, path, `expected a duration such as "14d", or off, got %s`, describe(r))
		return nil, false
	}
	s, ok := d.str(r, path)
	if !ok {
		return nil, false
	}
	text := strings.TrimSpace(s.value)
	if strings.EqualFold(text, "off") {
		return &certLimit{off: true, node: r}, true
	}
	v, ok := parseDays(text)
	if !ok {
		d.errorf(r, path, `%s is not a duration (e.g. "14d" or "36h", or off)`, s.shown())
		return nil, false
	}
	if v <= 0 {
		d.errorf(r, path, "%s must be more than zero (or off)", s.shown())
		return nil, false
	}
	return &certLimit{d: v, node: r}, true
}

// parseDays reads a Go duration, or a whole number of days: "14d".
func parseDays(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100*365 {
			return 0, false
		}
		return time.Duration(days) * 24 * time.Hour, true
	}
	v, err := time.ParseDuration(s)
	return v, err == nil
}

// tls reads tls: {ca: FILE, insecure: bool}. A relative ca is read from the
// config file's directory.
func (d *decoder) tls(n ast.Node, path, where string) (*tlsSpec, bool) {
	entries, ok := d.mapping(n, path)
	if !ok {
		return nil, false
	}
	ts := &tlsSpec{node: d.resolve(n, path)}
	for _, e := range entries {
		p := path + "." + e.key
		switch e.key {
		case "ca":
			s, sok := d.nonEmpty(e.value, p)
			if !sok {
				ok = false
				continue
			}
			file := strings.TrimSpace(s.value)
			if !filepath.IsAbs(file) && d.dir != "" {
				file = filepath.Join(d.dir, file)
			}
			pem, err := os.ReadFile(file)
			if err != nil {
				d.errorf(s.node, p, "cannot read %s: %s", s.shown(), readProblem(err))
				ok = false
				continue
			}
			if !x509.NewCertPool().AppendCertsFromPEM(pem) {
				d.errorf(s.node, p, "%s holds no PEM certificate", s.shown())
				ok = false
				continue
			}
			ts.caFile, ts.ca = s, pem
		case "insecure":
			r := d.resolve(e.value, p)
			b, isBool := r.(*ast.BoolNode)
			if !isBool {
				if r != nil {
					d.errorf(r, p, "expected true or false, got %s", describe(r))
				}
				ok = false
				continue
			}
			v := b.Value
			ts.insecure = &v
		default:
			d.errorf(e.keyNode, "", "unknown key %q in %s (expected ca, insecure)", e.key, where)
			ok = false
		}
	}
	if !ok {
		return nil, false
	}
	return ts, true
}

// readProblem says why a file could not be read, without the path again.
func readProblem(err error) string {
	switch {
	case os.IsNotExist(err):
		return "no such file"
	case os.IsPermission(err):
		return "permission denied"
	}
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// siteKind is the kind of a site's URL scheme.
func siteKind(scheme string) string {
	switch scheme {
	case "tcp", "tls":
		return KindTCP
	}
	return KindHTTP
}

// applyTLS resolves a site's tls, cert_warning and cert_critical over the
// defaults, and reports keys that do not apply to the site's kind: a recipe,
// method, headers or body on a tcp:// or tls:// site, tls or certificate
// limits on a site without TLS. Keys from defaults that do not apply are
// ignored: defaults serve every kind of site.
func (d *decoder) applyTLS(s *Site, sp, def *spec, path, scheme string) bool {
	ok := true
	if s.Kind == KindTCP {
		for _, k := range []string{"recipe", "method", "headers", "body"} {
			if n := sp.keys[k]; n != nil {
				d.errorf(n, path+"."+k, "%s does not apply to a %s:// site: it connects and sends no request", k, scheme)
				ok = false
			}
		}
		s.RecipeName, s.RecipeOptions, s.Method, s.Headers, s.Body = "", nil, "", nil, ""
	}
	if scheme != "https" && scheme != "tls" {
		for _, k := range []string{"tls", "cert_warning", "cert_critical"} {
			if n := sp.keys[k]; n != nil {
				d.errorf(n, path+"."+k, "%s applies to https:// and tls:// sites only, not %s://", k, scheme)
				ok = false
			}
		}
		return ok
	}
	for _, ts := range []*tlsSpec{def.tls, sp.tls} {
		if ts == nil {
			continue
		}
		if ts.caFile != nil {
			s.TLS.CAFile, s.TLS.CA = ts.caFile.value, ts.ca
		}
		if ts.insecure != nil {
			s.TLS.Insecure = *ts.insecure
		}
	}
	s.CertWarning = resolveLimit(sp.certWarning, def.certWarning, DefaultCertWarning)
	s.CertCritical = resolveLimit(sp.certCritical, def.certCritical, DefaultCertCritical)
	return ok
}

func resolveLimit(site, def *certLimit, builtin time.Duration) time.Duration {
	switch {
	case site != nil:
		return site.d
	case def != nil:
		return def.d
	}
	return builtin
}

// checkHostPort checks a tcp:// or tls:// URL: a host and a port, nothing
// else.
func (d *decoder) checkHostPort(s scalar, u *url.URL, path string) bool {
	port := u.Port()
	n, err := strconv.Atoi(port)
	switch {
	case port == "":
		d.errorf(s.node, path, "%s needs a port: %s://host:port", quote(s.raw), u.Scheme)
	case err != nil || n < 1 || n > 65535:
		d.errorf(s.node, path, "%s has a bad port", quote(s.raw))
	case u.Hostname() == "":
		d.errorf(s.node, path, "%s has no host", quote(s.raw))
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		d.errorf(s.node, path, "%s must be %s://host:port, with no path, query or user", quote(s.raw), u.Scheme)
	default:
		return true
	}
	return false
}
