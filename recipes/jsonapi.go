package recipes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// decodeAPI checks that resp is a 2xx JSON answer and decodes it into v. On
// failure it returns the notok verdict to give, its reason prefixed with who
// answered ("CircleCI: HTTP 401 Unauthorized"). It never quotes the body at
// length: a body may echo a token back.
func decodeAPI(who string, resp *Response, v any) (Verdict, bool) {
	if resp == nil {
		return Verdict{State: NotOK, Reason: who + ": no response"}, false
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := who + ": " + statusLine(resp.StatusCode)
		if resp.StatusCode == 401 || resp.StatusCode == 403 {
			reason += " (check the token)"
		}
		return Verdict{State: NotOK, Reason: reason}, false
	}
	if resp.Truncated {
		return Verdict{State: NotOK, Reason: who + ": response larger than the body limit"}, false
	}
	body := bytes.TrimSpace(resp.Body)
	if len(body) == 0 {
		return Verdict{State: NotOK, Reason: who + ": empty response"}, false
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "the top level"
			}
			return Verdict{State: NotOK, Reason: fmt.Sprintf("%s: unexpected response (%s is %s)", who, field, te.Value)}, false
		}
		return Verdict{State: NotOK, Reason: who + ": response is not JSON"}, false
	}
	return Verdict{}, true
}

// sameName says whether an upstream's name (a workflow, a Heroku system) is
// the one the config asks for. People type names as the UI shows them, and
// the APIs are not consistent about case or stray spaces, so neither counts.
func sameName(upstream, configured string) bool {
	return strings.EqualFold(strings.TrimSpace(upstream), strings.TrimSpace(configured))
}

// clip shortens an upstream string (a name, a status) for a reason, and
// strips line breaks.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 80
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// stringList reads a list-of-text option; a single text stands for a list
// of one.
func stringList(recipe, option string, v any) ([]string, error) {
	var out []string
	for _, item := range toList(v) {
		s, ok := item.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("option %q of recipe %s: %v is not a name", option, recipe, quoteIfString(item))
		}
		out = append(out, strings.TrimSpace(s))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("option %q of recipe %s is empty", option, recipe)
	}
	return out, nil
}

// stringOption reads an optional text option.
func stringOption(recipe, option string, opts Options) (string, error) {
	v, ok := opts[option]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("option %q of recipe %s must be a name, not %s", option, recipe, describeValue(v))
	}
	return strings.TrimSpace(s), nil
}

// worse reports whether a is a worse state than b: notok, then pending,
// then ok.
func worse(a, b State) bool {
	rank := func(s State) int {
		switch s {
		case NotOK:
			return 2
		case Pending:
			return 1
		}
		return 0
	}
	return rank(a) > rank(b)
}
