package config

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"

	"github.com/walnut-board/walnut/textrule"
)

// scalar is one string-like value, before and after ${...} expansion.
type scalar struct {
	node    ast.Node
	raw     string   // as written
	value   string   // after expansion
	secrets []string // values that came from ${...}
	env     bool     // raw has a ${...} reference: never show value
}

// shown is how a message may show the scalar: the expanded value if nothing
// in it came from the environment, else the raw text.
func (s scalar) shown() string {
	if s.env {
		return quote(s.raw)
	}
	return quote(s.value)
}

// textKind is what a string value may hold, by what it is for. A value
// Walnut stores or shows must be text PostgreSQL and a screen can take: a
// NUL in a site's name would otherwise pass the check and stop serve at
// its first database write.
type textKind int

const (
	// lineText is one line of text: names, groups, reasons, and every
	// value not listed below. No control characters (C0, DEL, C1), and
	// UTF-8 only.
	lineText textKind = iota
	// optionText is a recipe option, which may span lines (an expression
	// in a block scalar): tabs and line breaks, but no other control
	// character, and UTF-8 only.
	optionText
	// headerText is an HTTP header value: what RFC 9110 allows, so no
	// control character but tab; other bytes are sent as they are.
	headerText
	// anyText is a request body: sent as it is, never stored or shown.
	anyText
)

// fault says what in s a value of this kind cannot hold, or "".
func (k textKind) fault(s string) string {
	switch k {
	case anyText:
		return ""
	case lineText:
		// Around the value, whitespace is layout, not content: a block
		// scalar (url: |) ends with a line break, and values are trimmed
		// where it matters.
		s = strings.TrimSpace(s)
	}
	for i, r := range s {
		if r == utf8.RuneError && k != headerText {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return "bytes that are not UTF-8"
			}
		}
		var bad bool
		switch k {
		case lineText:
			bad = textrule.Control(r)
		case optionText:
			bad = textrule.Control(r) && r != '\t' && !textrule.LineBreak(r)
		case headerText:
			// Bytes past ASCII are sent as they are (RFC 9110's obs-text).
			bad = r < utf8.RuneSelf && textrule.Control(r) && r != '\t'
		}
		if bad {
			return controlName(r)
		}
	}
	return ""
}

// controlName names a control character for a message.
func controlName(r rune) string {
	switch r {
	case 0:
		return "a NUL"
	case '\n', '\r':
		return "a line break"
	case '\t':
		return "a tab"
	}
	return fmt.Sprintf("a control character (%U)", r)
}

// rule is what a message says a value of this kind must be.
func (k textKind) rule() string {
	switch k {
	case optionText:
		return "a recipe option is UTF-8 text without control characters but tabs and line breaks"
	case headerText:
		return "a header value is one line, without control characters but tabs"
	}
	return "it must be one line of UTF-8 text without control characters"
}

// str reads a scalar as one line of text (see strKind).
func (d *decoder) str(n ast.Node, path string) (scalar, bool) {
	return d.strKind(n, path, lineText)
}

// strKind reads a scalar as a string, expanding ${...} in YAML strings, and
// checks that it holds only what kind allows. Numbers and booleans are
// taken as written ("name: 2048" is the string "2048").
func (d *decoder) strKind(n ast.Node, path string, kind textKind) (scalar, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return scalar{}, false
	}
	var raw string
	expandable := false
	switch v := n.(type) {
	case *ast.StringNode:
		raw, expandable = v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			raw = v.Value.Value
		}
		expandable = true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		raw = v.GetToken().Value
	default:
		d.errorf(n, path, "expected a string, got %s", describe(n))
		return scalar{}, false
	}
	s := scalar{node: n, raw: raw, value: raw}
	if !expandable {
		return s, true
	}
	x := expand(raw, d.lookup)
	s.value, s.secrets, s.env = x.value, x.secrets, x.refs > 0
	ok := true
	if x.bad != "" {
		d.errorf(n, path, "%s is not a valid reference: write ${NAME} with letters, digits and _, or $${ for a literal ${", quote(x.bad))
		ok = false
	}
	for _, name := range x.missing {
		d.errorf(n, path, "environment variable %q is not set", name)
		ok = false
	}
	if !ok {
		return s, false
	}
	// The value as written is shown, never what came from the environment.
	if f := kind.fault(s.raw); f != "" {
		d.errorf(n, path, "%s holds %s; %s", quote(s.raw), f, kind.rule())
		return s, false
	}
	if f := kind.fault(s.value); f != "" {
		d.errorf(n, path, "%s holds %s from the environment; %s", quote(s.raw), f, kind.rule())
		return s, false
	}
	return s, true
}

// words reads a list of non-empty strings at path and hands each, with its
// path, to item, which reports what is wrong with it and says whether it
// was taken. empty, unless "", is the error for an empty list, reported at
// at. It returns whether the list and every item were right.
func (d *decoder) words(n, at ast.Node, path, empty string, item func(s *scalar, path string) bool) bool {
	items, ok := d.list(n, path)
	if !ok {
		return false
	}
	if len(items) == 0 && empty != "" {
		d.errorf(at, path, "%s", empty)
		ok = false
	}
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, sok := d.nonEmpty(it, p)
		ok = sok && item(s, p) && ok
	}
	return ok
}

// nonEmpty reads a string that must not be empty.
func (d *decoder) nonEmpty(n ast.Node, path string) (*scalar, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return nil, false
	}
	if strings.TrimSpace(s.value) == "" {
		if s.env {
			d.errorf(s.node, path, "%s is empty", quote(s.raw))
		} else {
			d.errorf(s.node, path, "must not be empty")
		}
		return nil, false
	}
	return &s, true
}

// optStr reads a string that may be empty.
func (d *decoder) optStr(n ast.Node, path string) (*scalar, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return nil, false
	}
	return &s, true
}

// oneOf reads a string that must be one of allowed once normalize, if not
// nil, has made it canonical. format has two verbs: the value as shown and
// the allowed values.
func (d *decoder) oneOf(n ast.Node, path string, allowed []string, normalize func(string) string, format string) (*scalar, bool) {
	s, ok := d.nonEmpty(n, path)
	if !ok {
		return nil, false
	}
	if normalize != nil {
		s.value = normalize(s.value)
	}
	if !slices.Contains(allowed, s.value) {
		d.errorf(n, path, format, s.shown(), strings.Join(allowed, ", "))
		return nil, false
	}
	return s, true
}
