package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/walnut-board/walnut/textrule"
)

// maxRuleNodes bounds the size of one rule's expression, so a config cannot
// make compilation itself expensive.
const maxRuleNodes = 2000

// rulesEnv is what a rule's expression sees. The expr tags are the names a
// rule uses; expr.Env type-checks expressions against this struct at config
// load, so `status == "200"` is an error then, not at 3 a.m.
type rulesEnv struct {
	Status    int                 `expr:"status"`
	Headers   map[string]string   `expr:"headers"`
	Body      string              `expr:"body"`
	JSON      any                 `expr:"json"`
	LatencyMS int64               `expr:"latency_ms"`
	CSS       func(string) string `expr:"css"`
}

// rule is one compiled `{when, state, reason}`.
type rule struct {
	when    string
	program *vm.Program
	state   State
	reason  string
	usesJS  bool // the expression mentions json
}

// rules is the rules recipe: the first rule whose `when` is true decides;
// otherwise the `otherwise` verdict does.
type rules struct {
	rules     []rule
	otherwise Verdict
	// usesJSON: some rule reads json, so the body is parsed for it; known
	// once, at load, rather than on every check.
	usesJSON bool
}

// RuleError is a rules option error located inside the options: Path is
// the option path ("rules", 1, "when"), so a config loader can point to the
// line of that value rather than to the recipe's.
type RuleError struct {
	Path []any
	Err  error
}

func (e *RuleError) Error() string { return formatPath(e.Path) + ": " + e.Err.Error() }
func (e *RuleError) Unwrap() error { return e.Err }

// OptionPath returns Path; config finds the value's line with it without
// importing this package.
func (e *RuleError) OptionPath() []any { return e.Path }

func formatPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

// NewRules is the factory of the rules recipe. Options:
//
//   - rules: a list of {when: EXPR, state: ok|notok|pending, reason: TEXT};
//     state defaults to ok, reason to none for ok and the expression
//     otherwise.
//   - otherwise: a state, or {state, reason}; default notok, "no rule
//     matched".
//
// Each expression is compiled and type-checked here, at config load.
func NewRules(opts Options) (Recipe, error) {
	if err := checkKnown("rules", opts, "rules", "otherwise"); err != nil {
		return nil, err
	}
	raw, ok := opts["rules"]
	if !ok {
		return nil, errors.New(`recipe rules needs option "rules": a list of {when, state, reason}`)
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf(`option "rules" of recipe rules must be a list of {when, state, reason}, not %s`, describeValue(raw))
	}
	if len(list) == 0 {
		return nil, errors.New(`option "rules" of recipe rules is empty`)
	}
	r := &rules{otherwise: Verdict{State: NotOK}}
	for i, item := range list {
		ru, err := compileRule(i, item)
		if err != nil {
			return nil, err
		}
		r.rules = append(r.rules, ru)
		r.usesJSON = r.usesJSON || ru.usesJS
	}
	if v, ok := opts["otherwise"]; ok {
		switch v := v.(type) {
		case string:
			st, err := parseState(v)
			if err != nil {
				return nil, &RuleError{Path: []any{"otherwise"}, Err: err}
			}
			r.otherwise.State = st
		case map[string]any:
			for k := range v {
				if k != "state" && k != "reason" {
					return nil, &RuleError{Path: []any{"otherwise", k}, Err: errors.New("unknown key (want state, reason)")}
				}
			}
			if s, ok := v["state"]; ok {
				str, _ := s.(string)
				st, err := parseState(str)
				if err != nil {
					return nil, &RuleError{Path: []any{"otherwise", "state"}, Err: err}
				}
				r.otherwise.State = st
			}
			if s, ok := v["reason"]; ok {
				str, ok := s.(string)
				if !ok {
					return nil, &RuleError{Path: []any{"otherwise", "reason"}, Err: fmt.Errorf("must be text, not %s", describeValue(s))}
				}
				if err := oneLine(str); err != nil {
					return nil, &RuleError{Path: []any{"otherwise", "reason"}, Err: err}
				}
				r.otherwise.Reason = strings.TrimSpace(str)
			}
		default:
			return nil, &RuleError{Path: []any{"otherwise"}, Err: fmt.Errorf("must be a state (ok, notok, pending) or {state, reason}, not %s", describeValue(v))}
		}
	}
	return r, nil
}

func compileRule(i int, item any) (rule, error) {
	m, ok := item.(map[string]any)
	if !ok {
		return rule{}, &RuleError{Path: []any{"rules", i}, Err: fmt.Errorf("must be a map {when, state, reason}, not %s", describeValue(item))}
	}
	for k := range m {
		if k != "when" && k != "state" && k != "reason" {
			return rule{}, &RuleError{Path: []any{"rules", i, k}, Err: errors.New("unknown key (want when, state, reason)")}
		}
	}
	when, ok := m["when"].(string)
	if !ok || strings.TrimSpace(when) == "" {
		return rule{}, &RuleError{Path: []any{"rules", i, "when"}, Err: errors.New(`missing: an expression such as 'json.status == "up"'`)}
	}
	ru := rule{when: when, state: OK}
	if s, ok := m["state"]; ok {
		str, _ := s.(string)
		st, err := parseState(str)
		if err != nil {
			return rule{}, &RuleError{Path: []any{"rules", i, "state"}, Err: err}
		}
		ru.state = st
	}
	if s, ok := m["reason"]; ok {
		str, ok := s.(string)
		if !ok {
			return rule{}, &RuleError{Path: []any{"rules", i, "reason"}, Err: fmt.Errorf("must be text, not %s", describeValue(s))}
		}
		if err := oneLine(str); err != nil {
			return rule{}, &RuleError{Path: []any{"rules", i, "reason"}, Err: err}
		}
		ru.reason = strings.TrimSpace(str)
	}
	prog, err := compileWhen(when)
	if err != nil {
		return rule{}, &RuleError{Path: []any{"rules", i, "when"}, Err: compileError(err)}
	}
	ru.program = prog
	ru.usesJS = mentions(when, "json")
	return ru, nil
}

// compileWhen compiles a rule's expression. A panic inside expr on a
// strange input becomes an error: a config must not crash Walnut.
func compileWhen(when string) (prog *vm.Program, err error) {
	defer func() {
		if v := recover(); v != nil {
			prog, err = nil, fmt.Errorf("cannot compile: %v", v)
		}
	}()
	return expr.Compile(when, expr.Env(rulesEnv{}), expr.AsBool(), expr.MaxNodes(maxRuleNodes))
}

// compileError is expr's message on one line, with the column: its own
// format adds a multi-line snippet that does not fit a config error.
func compileError(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fmt.Errorf("%s (column %d)", fe.Message, fe.Column+1)
	}
	return err
}

// mentions reports whether word appears in src as an identifier.
func mentions(src, word string) bool {
	for i := 0; ; {
		j := strings.Index(src[i:], word)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		before := j == 0 || !isIdent(src[j-1])
		after := end >= len(src) || !isIdent(src[end])
		if before && after {
			return true
		}
		i = end
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func parseState(s string) (State, error) {
	switch st := State(strings.ToLower(strings.TrimSpace(s))); st {
	case OK, NotOK, Pending:
		return st, nil
	}
	return "", fmt.Errorf("%q is not a state: want ok, notok or pending", s)
}

// describeValue names a YAML value's kind for an error message.
func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "text"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	}
	if _, ok := toInt(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// Check implements Recipe.
func (r *rules) Check(_ context.Context, resp *Response, _ FetchFunc) Verdict {
	if resp == nil {
		return Verdict{State: NotOK, Reason: "no response"}
	}
	env := newRulesEnv(resp, r.usesJSON)
	for i, ru := range r.rules {
		ok, err := ru.eval(env)
		if err != nil {
			reason := fmt.Sprintf("rule %d (%s) failed: %s", i+1, ru.when, firstLine(err.Error()))
			if ru.usesJS && env.JSON == nil {
				reason = fmt.Sprintf("rule %d (%s): the body is not JSON", i+1, ru.when)
			}
			return Verdict{State: NotOK, Reason: reason}
		}
		if !ok {
			continue
		}
		reason := ru.reason
		if reason == "" && ru.state != OK {
			reason = ru.when
		}
		return Verdict{State: ru.state, Reason: reason}
	}
	v := r.otherwise
	if v.Reason == "" && v.State != OK {
		v.Reason = "no rule matched"
		if env.JSON == nil && r.usesJSON {
			v.Reason += " (the body is not JSON)"
		}
		if resp.Truncated {
			v.Reason += " (the body was cut at the size limit)"
		}
	}
	return v
}

// eval runs one rule. expr turns most runtime faults into errors; a panic
// that escapes it is turned into one too, so no input crashes the checker.
func (ru rule) eval(env *rulesEnv) (ok bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	out, err := expr.Run(ru.program, env)
	if err != nil {
		return false, err
	}
	b, isBool := out.(bool)
	if !isBool {
		return false, fmt.Errorf("result is %T, not a boolean", out)
	}
	return b, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.TrimSpace(s)
}

// newRulesEnv builds the expression environment. The body is parsed as JSON
// only when a rule reads json, and as HTML only when a rule calls css, once
// per check.
func newRulesEnv(resp *Response, parseJSON bool) *rulesEnv {
	env := &rulesEnv{
		Status:    resp.StatusCode,
		Headers:   make(map[string]string, len(resp.Header)),
		Body:      string(resp.Body),
		LatencyMS: resp.Latency.Milliseconds(),
	}
	for k, vs := range resp.Header {
		if len(vs) > 0 {
			env.Headers[strings.ToLower(k)] = vs[0]
		}
	}
	if trimmed := bytes.TrimSpace(resp.Body); parseJSON && len(trimmed) > 0 {
		var v any
		if json.Unmarshal(trimmed, &v) == nil {
			env.JSON = v
		}
	}
	var doc *goquery.Document
	parsed := false
	env.CSS = func(selector string) string {
		if !parsed {
			parsed = true
			doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(resp.Body))
		}
		if doc == nil {
			return ""
		}
		return strings.TrimSpace(doc.Find(selector).First().Text())
	}
	return env
}

// oneLine checks a reason: it lands on a tile, in a page to PagerDuty and
// in the database, so it is one line without control characters
// (whitespace around it is trimmed).
func oneLine(s string) error {
	for _, r := range strings.TrimSpace(s) {
		switch {
		case textrule.LineBreak(r):
			return errors.New("must be one line of text: it holds a line break")
		case textrule.Control(r):
			return fmt.Errorf("must be one line of text: it holds a control character (%U)", r)
		}
	}
	return nil
}
