package recipes

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// statusMatcher matches one status code (200) or a class (2 for "2xx").
type statusMatcher struct {
	code  int // 0 for a class
	class int // 1..5 for a class
}

func (m statusMatcher) matches(code int) bool {
	if m.code != 0 {
		return code == m.code
	}
	return code/100 == m.class
}

func (m statusMatcher) String() string {
	if m.code != 0 {
		return strconv.Itoa(m.code)
	}
	return strconv.Itoa(m.class) + "xx"
}

// status is the status recipe: a response is pending when its code is in
// Pending, ok when it is in Expect, notok otherwise.
type status struct {
	expect  []statusMatcher
	pending []statusMatcher
	custom  bool // expect was given, so a notok reason says what was expected
}

// NewStatus is the factory of the status recipe. Options:
//
//   - expect: codes (200, 204) and/or classes ("2xx", "3xx") that mean ok;
//     default 2xx. A single value may stand for a list of one.
//   - pending: codes and/or classes that mean "in progress" (202), checked
//     before expect; default none.
func NewStatus(opts Options) (Recipe, error) {
	if err := checkKnown("status", opts, "expect", "pending"); err != nil {
		return nil, err
	}
	s := &status{expect: []statusMatcher{{class: 2}}}
	if v, ok := opts["expect"]; ok {
		m, err := parseMatchers("expect", v)
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("option \"expect\" of recipe status is empty: no response could be ok")
		}
		s.expect, s.custom = m, true
	}
	if v, ok := opts["pending"]; ok {
		m, err := parseMatchers("pending", v)
		if err != nil {
			return nil, err
		}
		s.pending = m
	}
	return s, nil
}

func parseMatchers(option string, v any) ([]statusMatcher, error) {
	var out []statusMatcher
	for _, item := range toList(v) {
		m, ok := parseMatcher(item)
		if !ok {
			return nil, fmt.Errorf("option %q of recipe status: %v is not a status code (100-599) or class (\"2xx\")", option, quoteIfString(item))
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMatcher(v any) (statusMatcher, bool) {
	if s, ok := v.(string); ok {
		s = strings.ToLower(strings.TrimSpace(s))
		if len(s) == 3 && s[1:] == "xx" && s[0] >= '1' && s[0] <= '5' {
			return statusMatcher{class: int(s[0] - '0')}, true
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return statusMatcher{}, false
		}
		v = n
	}
	n, ok := toInt(v)
	if !ok || n < 100 || n > 599 {
		return statusMatcher{}, false
	}
	return statusMatcher{code: int(n)}, true
}

func quoteIfString(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func matchAny(ms []statusMatcher, code int) bool {
	for _, m := range ms {
		if m.matches(code) {
			return true
		}
	}
	return false
}

// Check implements Recipe.
func (s *status) Check(_ context.Context, resp *Response, _ FetchFunc) Verdict {
	if resp == nil {
		return Verdict{State: NotOK, Reason: "no response"}
	}
	code := resp.StatusCode
	switch {
	case matchAny(s.pending, code):
		return Verdict{State: Pending, Reason: statusLine(code)}
	case matchAny(s.expect, code):
		return Verdict{State: OK}
	case s.custom:
		want := make([]string, len(s.expect))
		for i, m := range s.expect {
			want[i] = m.String()
		}
		return Verdict{State: NotOK, Reason: statusLine(code) + " (expected " + strings.Join(want, ", ") + ")"}
	}
	return Verdict{State: NotOK, Reason: statusLine(code)}
}

// statusLine is "HTTP 503 Service Unavailable", or "HTTP 599" for a code
// without a standard text.
func statusLine(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("HTTP %d %s", code, t)
	}
	return fmt.Sprintf("HTTP %d", code)
}
