// Package secret hides, in text that leaves the process, what Walnut sends
// in confidence: a site's query and header values, values that came from
// ${…}, and the alert sinks' credentials. An upstream may echo any of them
// in its answer, and from there they would reach a reason on the board, the
// API, the database, a log line or an alert. Every such text goes through a
// Scrubber, and every hidden value becomes Marker.
//
// The rule, by length of the value:
//
//   - Sixteen characters or more (clearly a token): replaced wherever it
//     appears, as sent and in the forms an echo may take: URL-encoded (query
//     and path), JSON-escaped and HTML-escaped.
//   - Four to fifteen characters: replaced, in the same forms, only where it
//     stands as a whole token: the characters either side of it are not
//     letters or digits ("prod" is hidden in "env=prod" and "prod:", not in
//     "production"). A short value is also a common word, and an ordinary
//     reason must stay readable.
//   - One to three characters ("?page=2", "a=1"): ordinary text is full of
//     such strings ("HTTP 200", "1 of 3"), so it is replaced only as a whole
//     token right after its own name and a "=" or ":" ("a=1", "A: 1",
//     `"a":"1"`, but not "page 2"), or after its auth scheme and a blank
//     ("Bearer ab"). A short value with no name (a ${…} value in a body, a
//     credential) is replaced wherever it stands as a whole token.
//
// A header value is hidden whole and, when it reads "scheme credentials"
// (Authorization: Bearer …), so is the credential alone; Basic credentials
// are also hidden decoded ("user:password", the user and the password). The
// values of well-known headers that carry no secret (Accept,
// Accept-Encoding, Accept-Language, Content-Type, User-Agent, Cache-Control,
// Pragma, Connection; any case) are not hidden: "walnut" in a User-Agent is
// not a secret, and hiding it would garble every reason that names Walnut.
// A value that came from ${…} is hidden wherever it is sent, these headers
// included (the caller Adds it). A URL's query values are hidden under
// their keys, as are the query string, the user and the password.
//
// Guess hides what merely looks like a secret, for text from a party that
// may echo values Walnut does not know of.
//
// The package imports nothing of Walnut's.
package secret

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Marker stands in for every hidden value.
const Marker = "***"

// anywhereFrom is the length, in characters, from which a value is hidden
// wherever it appears; shorter ones only as whole tokens. shortest is the
// length from which a value needs no name before it (see the package
// comment).
const (
	anywhereFrom = 16
	shortest     = 4
)

// notSecret are the request headers whose values are not secrets, by their
// canonical names.
var notSecret = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true, "Content-Type": true,
	"User-Agent": true, "Cache-Control": true, "Pragma": true, "Connection": true,
}

// Scrubber hides a set of values. The zero value and nil hide nothing. Add
// values before sharing it: Scrub may be called from many goroutines, but
// not while values are being added.
type Scrubber struct {
	anywhere []string // each form of each long value, longest first
	named    []named  // values under shortest, with the name they were sent under
	words    []string // other values under anywhereFrom, longest first
}

type named struct {
	name, value string
	// spaced: a blank alone may part name and value, as in "Bearer ab";
	// otherwise there must be a "=" or ":" ("page 2" is not "page=2").
	spaced bool
}

// New returns a Scrubber hiding values, which came without a name (see Add).
func New(values ...string) *Scrubber {
	s := &Scrubber{}
	s.Add(values...)
	return s
}

// Add hides values that came without a name: ${…} values, credentials.
func (s *Scrubber) Add(values ...string) {
	for _, v := range values {
		s.add("", v, false)
	}
}

// AddNamed hides value, sent under name (a query key, a header name).
func (s *Scrubber) AddNamed(name, value string) { s.add(name, value, false) }

// AddHeader hides a header's value, and the credential in it, decoded for
// Basic. The values of headers that carry no secret (User-Agent, Accept…)
// are left alone.
func (s *Scrubber) AddHeader(name, value string) {
	if notSecret[http.CanonicalHeaderKey(strings.TrimSpace(name))] {
		return
	}
	s.add(name, value, false)
	scheme, cred, ok := strings.Cut(strings.TrimSpace(value), " ")
	cred = strings.TrimSpace(cred)
	if !ok || scheme == "" || cred == "" || strings.ContainsFunc(scheme, func(r rune) bool { return !isWord(r) && r != '-' }) {
		return
	}
	s.add(scheme, cred, true)
	if !strings.EqualFold(scheme, "basic") {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil || !utf8.Valid(raw) {
		return
	}
	userPass := string(raw)
	s.add("", userPass, false)
	if user, pass, ok := strings.Cut(userPass, ":"); ok {
		s.add("", user, false)
		s.add("", pass, false)
	}
}

// AddHeaders hides every value of h.
func (s *Scrubber) AddHeaders(h map[string]string) {
	for name, v := range h {
		s.AddHeader(name, v)
	}
}

// AddURL hides what a URL carries beyond its scheme, host and path: the
// user, the password, the query string and each query value, decoded and as
// written. A URL that does not parse is hidden whole.
func (s *Scrubber) AddURL(raw string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		s.add("", raw, false)
		return
	}
	if u.User != nil {
		user := u.User.Username()
		s.add("", user, false)
		if pass, ok := u.User.Password(); ok {
			s.add("", pass, false)
			s.add("", user+":"+pass, false)
		}
	}
	if u.RawQuery == "" {
		return
	}
	s.add("", u.RawQuery, false)
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		key, value, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		s.add(key, value, false)
		if v, err := url.QueryUnescape(value); err == nil {
			s.add(key, v, false)
		}
	}
}

// Merge adds every value o hides to s.
func (s *Scrubber) Merge(o *Scrubber) {
	if o == nil {
		return
	}
	for _, v := range o.anywhere {
		s.addAnywhere(v)
	}
	for _, n := range o.named {
		if !slices.Contains(s.named, n) {
			s.named = append(s.named, n)
		}
	}
	for _, w := range o.words {
		s.addWord(w)
	}
}

// Clone returns a Scrubber hiding what s hides, to which more can be added.
func (s *Scrubber) Clone() *Scrubber {
	c := &Scrubber{}
	c.Merge(s)
	return c
}

// Empty reports whether s hides nothing.
func (s *Scrubber) Empty() bool {
	return s == nil || len(s.anywhere)+len(s.named)+len(s.words) == 0
}

func (s *Scrubber) add(name, value string, spaced bool) {
	if value == "" || strings.Trim(value, "*") == "" {
		// Nothing to hide, or nothing a Marker would not itself match.
		return
	}
	if t := strings.TrimSpace(value); t != value {
		s.add(name, t, spaced)
	}
	switch n := utf8.RuneCountInString(value); {
	case n >= anywhereFrom:
		for _, f := range forms(value) {
			s.addAnywhere(f)
		}
	case n >= shortest || name == "":
		for _, f := range forms(value) {
			s.addWord(f)
		}
	default:
		for _, f := range forms(value) {
			if n := (named{name, f, spaced}); !slices.Contains(s.named, n) {
				s.named = append(s.named, n)
			}
		}
	}
}

func (s *Scrubber) addWord(w string) {
	if slices.Contains(s.words, w) {
		return
	}
	s.words = append(s.words, w)
	// Longest first: "bot" stands as a whole token in "bot:pa55w0rd".
	slices.SortStableFunc(s.words, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

func (s *Scrubber) addAnywhere(v string) {
	if slices.Contains(s.anywhere, v) {
		return
	}
	s.anywhere = append(s.anywhere, v)
	// Longest first, so that a value holding another is replaced whole.
	slices.SortStableFunc(s.anywhere, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

// forms are the ways an echo may spell v.
func forms(v string) []string {
	out := []string{v}
	add := func(f string) {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	add(html.EscapeString(v))
	// json.Marshal escapes <, > and & as \u003c; an encoder told not to
	// does not. Either may have written the echo.
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		b := bytes.TrimSpace(buf.Bytes())
		add(string(b[1 : len(b)-1]))
	}
	return out
}

// Scrub returns text with every value s hides replaced by Marker.
func (s *Scrubber) Scrub(text string) string {
	if s == nil || text == "" {
		return text
	}
	for _, v := range s.anywhere {
		text = strings.ReplaceAll(text, v, Marker)
	}
	// Longer values first, so that one holding another is replaced whole;
	// among the short ones, a named value first ("q=7" reads "q=***").
	for _, w := range s.words {
		if utf8.RuneCountInString(w) >= shortest {
			text = replaceWords(text, w, nil)
		}
	}
	for _, n := range s.named {
		text = replaceWords(text, n.value, func(before string) bool { return afterName(before, n.name, n.spaced) })
	}
	for _, w := range s.words {
		if utf8.RuneCountInString(w) < shortest {
			text = replaceWords(text, w, nil)
		}
	}
	return text
}

// replaceWords replaces each occurrence of w in text that is a whole token
// (no letter or digit just before or after it) and for which ok, given the
// text before it, says yes (nil: always).
func replaceWords(text, w string, ok func(before string) bool) string {
	var b strings.Builder
	last, from := 0, 0 // text[:last] is in b; search on from text[from:]
	for {
		i := strings.Index(text[from:], w)
		if i < 0 {
			break
		}
		start, end := from+i, from+i+len(w)
		r1, _ := utf8.DecodeLastRuneInString(text[:start])
		r2, _ := utf8.DecodeRuneInString(text[end:])
		whole := (start == 0 || !isAlnum(r1)) && (end == len(text) || !isAlnum(r2))
		if whole && (ok == nil || ok(text[:start])) {
			b.WriteString(text[last:start])
			b.WriteString(Marker)
			last, from = end, end
			continue
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		from = start + size
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// maxSeparator is how many characters may stand between a name and its
// short value: `"a": "1"` has four.
const maxSeparator = 4

// afterName reports whether before ends with name, as a whole word, then one
// to maxSeparator characters of quotes, backslashes, blanks, "=" or ":",
// of which one is "=" or ":" unless spaced.
func afterName(before, name string, spaced bool) bool {
	sep := len(before) - len(strings.TrimRight(before, " \t\"'\\=:"))
	if sep == 0 || sep > maxSeparator || !spaced && !strings.ContainsAny(before[len(before)-sep:], "=:") {
		return false
	}
	head := before[:len(before)-sep]
	if len(head) < len(name) || !strings.EqualFold(head[len(head)-len(name):], name) {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(head[:len(head)-len(name)])
	return len(head) == len(name) || !isWord(r)
}

func isWord(r rune) bool { return isAlnum(r) || r == '_' }

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

var (
	// A URL keeps its scheme and host: a Slack webhook's path is its secret.
	urlPattern = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)([^/\s"'<>?#]*@)?([^/\s"'<>?#]+)[^\s"'<>]*`)
	// Slack tokens (xoxb-…, xapp-…).
	slackToken = regexp.MustCompile(`(?i)\b(xox[a-z]|xapp)-[a-z0-9-]+`)
	// Bearer and Basic credentials.
	credential = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[^\s,;"'&]+`)
	// key=…, "routing_key":"…", token: …
	namedSecret = regexp.MustCompile(`(?i)\b(\w*(?:token|key|secret|password|signature))(["']?\s*[=:]\s*["']?)[^\s,;"'&}]+`)
	// Anything else long and key-like: a PagerDuty routing key is 32
	// characters of hex or base62.
	keyLike = regexp.MustCompile(`\b[A-Za-z0-9_-]{24,}\b`)
)

// Guess hides what looks like a secret in text whose secrets are not all
// known, such as what an alert sink answered: URLs lose all but their
// scheme and host, and Slack tokens, Bearer and Basic credentials, values
// named like tokens, keys, secrets, passwords or signatures, and long
// key-like words become Marker.
func Guess(text string) string {
	text = urlPattern.ReplaceAllString(text, "$1$3/"+Marker)
	text = slackToken.ReplaceAllString(text, "$1-"+Marker)
	text = credential.ReplaceAllString(text, "$1 "+Marker)
	text = namedSecret.ReplaceAllString(text, "$1$2"+Marker)
	return keyLike.ReplaceAllString(text, Marker)
}
