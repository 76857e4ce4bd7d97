package config

import (
	"cmp"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Built-in defaults and limits.
const (
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 10 * time.Second
	MinInterval     = time.Second
	DefaultRecipe   = "status"
	DefaultSeverity = "critical"
)

var (
	methods    = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
	severities = []string{"critical", "error", "warning", "info"}
	notifiers  = []string{"pagerduty", "slack", "webhook"}
	schemes    = []string{"http", "https", "tcp", "tls"}
	slugRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// Slugify makes a slug from a site's name: lower case, each run of
// characters other than a-z and 0-9 turned into one "-", with no "-" at
// either end. "GitHub API (v3)" becomes "github-api-v3".
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// redact returns scheme://host/path of u: what may be shown of a URL.
func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// spec is what one map in the file says about a site: a site entry, or the
// defaults. A nil field was not given, or was wrong (see bad).
type spec struct {
	start ast.Node // the first key, where the entry begins

	name, slug, group, url, method, body, severity *scalar

	headers     []header
	headersNode ast.Node

	interval, timeout, maxPending *duration
	confirm                       *integer
	recipe                        *recipeSpec
	notify                        *notifyList
	flapping                      *flapSpec
	heartbeat                     *heartbeatSpec

	tls                       *tlsSpec
	certWarning, certCritical *certLimit

	keys map[string]ast.Node // each key given, for messages about the key itself
	bad  map[string]bool     // keys whose value was reported as wrong

	// label names the site in messages: site "API", or its path when it
	// has no name; "" in the defaults.
	label string
}

type header struct {
	name  string // canonical
	key   ast.Node
	value scalar
}

type notifyList struct {
	v    []string
	node ast.Node
}

// siteKey reads the value of one key a site entry, or the defaults, may
// hold into the spec. It reports what is wrong with the value and returns
// false then.
type siteKey struct {
	read func(d *decoder, sp *spec, n ast.Node, path string) bool
	// siteOnly keys may not be given in defaults: they make one site what
	// it is.
	siteOnly bool
}

// siteKeys is the schema of a site entry and of the defaults: every key
// either may hold.
var siteKeys = map[string]siteKey{
	"name": {siteOnly: true, read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.name, ok = d.nonEmpty(n, p)
		return ok
	}},
	"slug": {siteOnly: true, read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.slug, ok = d.nonEmpty(n, p)
		if ok && !slugRE.MatchString(sp.slug.value) {
			d.errorf(n, p, "%s must be lower-case letters, digits and dashes, starting with a letter or digit", sp.slug.shown())
			sp.slug, ok = nil, false
		}
		return ok
	}},
	"group": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.group, ok = d.optStr(n, p)
		return ok
	}},
	"url": {siteOnly: true, read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.url, ok = d.nonEmpty(n, p)
		return ok
	}},
	"method": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.method, ok = d.oneOf(n, p, methods, upperTrimmed, "%s is not an HTTP method (use one of %s)")
		return ok
	}},
	"headers": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.headersNode = n
		sp.headers, ok = d.headers(n, p)
		return ok
	}},
	"body": {siteOnly: true, read: func(d *decoder, sp *spec, n ast.Node, p string) bool {
		b, ok := d.strKind(n, p, anyText)
		if ok {
			sp.body = &b
		}
		return ok
	}},
	"interval": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.interval, ok = d.durationMin(n, p, MinInterval, "%s is under the minimum of "+MinInterval.String())
		return ok
	}},
	"timeout": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.timeout, ok = d.durationMin(n, p, 1, "%s must be more than zero")
		return ok
	}},
	"max_pending": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.maxPending, ok = d.durationMin(n, p, 0, "%s must not be negative (0 means no limit)")
		return ok
	}},
	"confirm": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.confirm, ok = d.integer(n, p)
		if ok && sp.confirm.v < 1 {
			d.errorf(n, p, "%s must be at least 1", sp.confirm.shown)
			sp.confirm, ok = nil, false
		}
		return ok
	}},
	"recipe": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.recipe, ok = d.recipe(n, p)
		return ok
	}},
	"notify": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.notify, ok = d.notify(n, p)
		return ok
	}},
	"flapping": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.flapping, ok = d.flapping(n, p, sp.within("flapping"))
		return ok
	}},
	"tls": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.tls, ok = d.tls(n, p, sp.within("tls"))
		return ok
	}},
	"cert_warning": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.certWarning, ok = d.certLimit(n, p)
		return ok
	}},
	"cert_critical": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.certCritical, ok = d.certLimit(n, p)
		return ok
	}},
	"heartbeat": {siteOnly: true, read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.heartbeat, ok = d.heartbeat(n, p, sp.label)
		return ok
	}},
	"severity": {read: func(d *decoder, sp *spec, n ast.Node, p string) (ok bool) {
		sp.severity, ok = d.oneOf(n, p, severities, nil, "%s is not one of %s")
		return ok
	}},
}

// upperTrimmed is an HTTP method as written, made canonical.
func upperTrimmed(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// within is what "unknown key" messages say a nested key is in:
// "defaults.tls", or "tls of site \"API\"".
func (sp *spec) within(key string) string {
	if sp.label == "" {
		return "defaults." + key
	}
	return key + " of " + sp.label
}

// spec reads a site entry, or the defaults when label is nil. label names
// the site in "unknown key" messages.
func (d *decoder) spec(n ast.Node, path string, label *string) (*spec, bool) {
	isDefaults := label == nil
	entries, ok := d.mapping(n, path)
	if !ok {
		return nil, false
	}
	sp := &spec{start: d.resolve(n, path), keys: map[string]ast.Node{}, bad: map[string]bool{}}
	if len(entries) > 0 {
		sp.start = entries[0].keyNode
	}
	where := "in defaults"
	if !isDefaults {
		// The name is needed to label problems with the keys before it.
		*label = path
		for _, e := range entries {
			if e.key == "name" {
				if r, isStr := d.resolve(e.value, path).(*ast.StringNode); isStr && r.Value != "" {
					*label = "site " + strconv.Quote(r.Value)
				}
			}
		}
		sp.label = *label
		where = "in " + *label
	}
	for _, e := range entries {
		key, known := siteKeys[e.key]
		if isDefaults && key.siteOnly {
			d.errorf(e.keyNode, path, "%q cannot have a default: set it on each site", e.key)
			continue
		}
		sp.keys[e.key] = e.keyNode
		if !known {
			d.errorf(e.keyNode, "", "unknown key %q %s", e.key, where)
			continue
		}
		if !key.read(d, sp, e.value, path+"."+e.key) {
			sp.bad[e.key] = true
		}
	}
	return sp, true
}

// site reads one site entry and applies the defaults. It returns the spec
// too, for the positions of its values.
func (d *decoder) site(path string, n ast.Node, def *spec) (*Site, *spec, bool) {
	var label string
	sp, ok := d.spec(n, path, &label)
	if !ok {
		return nil, nil, false
	}
	ok = true
	if sp.name == nil {
		if !sp.bad["name"] {
			d.errorf(sp.start, path, `missing "name"`)
		}
		ok = false
	}
	isHeartbeat := sp.heartbeat != nil || sp.bad["heartbeat"]
	if sp.url == nil && !sp.bad["url"] && !isHeartbeat {
		if label == path {
			d.errorf(sp.start, path, `missing "url"`)
		} else {
			d.errorf(sp.start, path, `missing "url" in %s`, label)
		}
	}
	s := &Site{
		Method:     "GET",
		Interval:   DefaultInterval,
		Confirm:    1,
		RecipeName: DefaultRecipe,
		Severity:   DefaultSeverity,
	}
	s.Line, _ = pos(sp.start)
	var secrets []string
	if sp.name != nil {
		s.Name = sp.name.value
		s.Slug = Slugify(s.Name)
	}
	if sp.slug != nil {
		s.Slug = sp.slug.value
	} else if sp.name != nil && s.Slug == "" && !sp.bad["slug"] {
		d.errorf(sp.name.node, path+".name", "cannot make a slug from %s: set slug", sp.name.shown())
		ok = false
	}
	scheme := ""
	if sp.url != nil {
		u, uok := d.checkURL(*sp.url, path+".url")
		if uok {
			s.URL, s.RedactedURL = strings.TrimSpace(sp.url.value), redact(u)
			secrets = append(secrets, sp.url.secrets...)
			scheme, s.Kind = u.Scheme, siteKind(u.Scheme)
		}
		ok = ok && uok
	} else if !isHeartbeat {
		ok = false
	}
	if v := cmp.Or(sp.group, def.group); v != nil {
		s.Group = v.value
	}
	if v := cmp.Or(sp.method, def.method); v != nil {
		s.Method = v.value
	}
	if sp.body != nil {
		s.Body = sp.body.value
		secrets = append(secrets, sp.body.secrets...)
	}
	// Headers merge: the site's win over the defaults', by canonical name.
	merged := map[string]header{}
	for _, hs := range [][]header{def.headers, sp.headers} {
		for _, h := range hs {
			merged[h.name] = h
		}
	}
	for name, h := range merged {
		if s.Headers == nil {
			s.Headers = make(map[string]string, len(merged))
		}
		s.Headers[name] = h.value.value
		secrets = append(secrets, h.value.secrets...)
	}
	interval := cmp.Or(sp.interval, def.interval)
	if interval != nil {
		s.Interval = interval.d
	}
	timeout := cmp.Or(sp.timeout, def.timeout)
	switch {
	case timeout != nil:
		s.Timeout = timeout.d
	default:
		s.Timeout = min(DefaultTimeout, s.Interval)
	}
	if !isHeartbeat {
		d.checkTimeout(path, sp, def, interval, timeout)
	}
	if v := cmp.Or(sp.confirm, def.confirm); v != nil {
		s.Confirm = v.v
	}
	if v := cmp.Or(sp.maxPending, def.maxPending); v != nil {
		s.MaxPending = v.d
	}
	if v := cmp.Or(sp.notify, def.notify); v != nil {
		s.Notify = slices.Clone(v.v)
	}
	if v := cmp.Or(sp.severity, def.severity); v != nil {
		s.Severity = v.value
	}
	s.Flapping = resolveFlapping(sp.flapping, def.flapping)
	if r := cmp.Or(sp.recipe, def.recipe); r != nil {
		s.RecipeName = r.name
		s.RecipeOptions = deepCopy(r.opts)
		secrets = append(secrets, r.secrets...)
	} else if sp.bad["recipe"] || def.bad["recipe"] {
		s.RecipeName = ""
	}
	switch {
	case sp.heartbeat != nil:
		ok = d.applyHeartbeat(s, sp, path) && ok
		secrets = append(secrets, s.Heartbeat.Token)
	case sp.bad["heartbeat"]:
		ok = false
	case scheme != "":
		ok = d.applyTLS(s, sp, def, path, scheme) && ok
	}
	s.Secrets = sortSecrets(secrets)
	return s, sp, ok
}

// checkTimeout reports a timeout longer than the interval, at the key that
// makes it so: the site's timeout, else the site's interval, else the
// default timeout (reported once, however many sites inherit it).
func (d *decoder) checkTimeout(path string, sp, def *spec, interval, timeout *duration) {
	if timeout == nil {
		return
	}
	for _, k := range []string{"interval", "timeout"} {
		if sp.bad[k] || def.bad[k] {
			return
		}
	}
	iv, ishown := DefaultInterval, DefaultInterval.String()
	if interval != nil {
		iv, ishown = interval.d, interval.shown
	}
	switch {
	case timeout.d <= iv:
	case sp.timeout != nil:
		d.errorf(timeout.node, path+".timeout", "%s is longer than the interval (%s)", timeout.shown, ishown)
	case sp.interval != nil:
		d.errorf(interval.node, path+".interval", "%s is shorter than the timeout (%s, from defaults)", ishown, timeout.shown)
	default:
		d.errorf(timeout.node, "defaults.timeout", "%s is longer than the interval (%s)", timeout.shown, ishown)
	}
}

func (d *decoder) checkURL(s scalar, path string) (*url.URL, bool) {
	u, err := url.Parse(strings.TrimSpace(s.value))
	if err != nil {
		// url.Error quotes the URL, which may hold a secret: give the
		// cause only when nothing came from the environment.
		var detail string
		if ue, isURLErr := err.(*url.Error); isURLErr && !s.env {
			detail = ": " + ue.Err.Error()
		}
		d.errorf(s.node, path, "%s does not parse as a URL%s", quote(s.raw), detail)
		return nil, false
	}
	if !slices.Contains(schemes, u.Scheme) {
		d.errorf(s.node, path, "%s must be http, https, tcp or tls", quote(s.raw))
		return nil, false
	}
	if u.Host == "" {
		d.errorf(s.node, path, "%s has no host", quote(s.raw))
		return nil, false
	}
	if siteKind(u.Scheme) == KindTCP && !d.checkHostPort(s, u, path) {
		return nil, false
	}
	return u, true
}

// headers reads a map of header names to values.
func (d *decoder) headers(n ast.Node, path string) ([]header, bool) {
	entries, ok := d.mapping(n, path)
	if !ok {
		return nil, false
	}
	var out []header
	first := map[string]ast.Node{}
	for _, e := range entries {
		p := path + "." + e.key
		if !validHeaderName(e.key) {
			d.errorf(e.keyNode, p, "%s is not a valid header name", quote(e.key))
			ok = false
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(e.key)
		if prev, dup := first[name]; dup {
			line, _ := pos(prev)
			d.errorf(e.keyNode, p, "header %s is also set at line %d (names ignore case)", name, line)
			ok = false
			continue
		}
		first[name] = e.keyNode
		v, vok := d.strKind(e.value, p, headerText)
		if !vok {
			ok = false
			continue
		}
		out = append(out, header{name: name, key: e.keyNode, value: v})
	}
	return out, ok
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// notify reads the list of notification channels.
func (d *decoder) notify(n ast.Node, path string) (*notifyList, bool) {
	nl := &notifyList{v: []string{}, node: n}
	ok := d.words(n, n, path, "", func(s *scalar, p string) bool {
		if !slices.Contains(notifiers, s.value) {
			d.errorf(s.node, p, "%s is not one of %s", s.shown(), strings.Join(notifiers, ", "))
			return false
		}
		if !slices.Contains(nl.v, s.value) {
			nl.v = append(nl.v, s.value)
		}
		return true
	})
	if !ok {
		return nil, false
	}
	return nl, true
}

func sortSecrets(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	return out
}
