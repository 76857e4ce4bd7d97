package recipes

import (
	"strings"
	"testing"
)

func TestStatusVerdicts(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		opts   Options
		code   int
		want   State
		reason string
	}{
		"DefaultOK200":             {code: 200, want: OK},
		"DefaultOK204":             {code: 204, want: OK},
		"Default503":               {code: 503, want: NotOK, reason: "HTTP 503 Service Unavailable"},
		"DefaultRedirectIsNotOK":   {code: 301, want: NotOK, reason: "HTTP 301 Moved Permanently"},
		"UnknownCodeHasNoText":     {code: 599, want: NotOK, reason: "HTTP 599"},
		"ExpectCodesMatch":         {opts: Options{"expect": []any{200, 204}}, code: 204, want: OK},
		"ExpectCodesMiss":          {opts: Options{"expect": []any{200, 204}}, code: 201, want: NotOK, reason: "HTTP 201 Created (expected 200, 204)"},
		"ExpectClass":              {opts: Options{"expect": []any{"3xx"}}, code: 302, want: OK},
		"ExpectClassUpperCase":     {opts: Options{"expect": []any{"4XX"}}, code: 404, want: OK},
		"ExpectMixed":              {opts: Options{"expect": []any{"2xx", 304}}, code: 304, want: OK},
		"ExpectMixedMiss":          {opts: Options{"expect": []any{"2xx", 304}}, code: 301, want: NotOK, reason: "HTTP 301 Moved Permanently (expected 2xx, 304)"},
		"ExpectScalar":             {opts: Options{"expect": 200}, code: 200, want: OK},
		"ExpectUint64":             {opts: Options{"expect": []any{uint64(418)}}, code: 418, want: OK},
		"ExpectInt64":              {opts: Options{"expect": []any{int64(418)}}, code: 418, want: OK},
		"ExpectIntegralFloat":      {opts: Options{"expect": []any{float64(418)}}, code: 418, want: OK},
		"ExpectNumericString":      {opts: Options{"expect": []any{"418"}}, code: 418, want: OK},
		"ExpectGoSlice":            {opts: Options{"expect": []int{200, 418}}, code: 418, want: OK},
		"PendingCode":              {opts: Options{"pending": []any{202}}, code: 202, want: Pending, reason: "HTTP 202 Accepted"},
		"PendingBeforeExpect":      {opts: Options{"expect": []any{"2xx"}, "pending": []any{202}}, code: 202, want: Pending, reason: "HTTP 202 Accepted"},
		"PendingDoesNotHideOK":     {opts: Options{"pending": []any{202}}, code: 200, want: OK},
		"PendingClass":             {opts: Options{"pending": []any{"5xx"}}, code: 503, want: Pending, reason: "HTTP 503 Service Unavailable"},
		"PendingAndExpectElseNot":  {opts: Options{"expect": []any{200}, "pending": []any{202}}, code: 500, want: NotOK, reason: "HTTP 500 Internal Server Error (expected 200)"},
		"NameKeyIgnoredByRegistry": {opts: Options{"name": "status", "expect": []any{200}}, code: 200, want: OK},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := Builtin().Build("status", tt.opts)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got := r.Check(t.Context(), &Response{StatusCode: tt.code}, nil)
			if got.State != tt.want || got.Reason != tt.reason {
				t.Errorf("Check(%d) = %+v, want {State:%s Reason:%s}", tt.code, got, tt.want, tt.reason)
			}
		})
	}
}

func TestStatusNilResponse(t *testing.T) {
	t.Parallel()
	r, err := NewStatus(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Check(t.Context(), nil, nil); got.State != NotOK {
		t.Errorf("Check(nil) = %+v, want notok", got)
	}
}

func TestStatusBadOptions(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		opts Options
		want string
	}{
		"UnknownKey":      {Options{"x": 1}, `unknown option "x" for recipe status`},
		"UnknownKeyTypo":  {Options{"expected": []any{200}}, `unknown option "expected" for recipe status`},
		"CodeTooSmall":    {Options{"expect": []any{99}}, `option "expect" of recipe status: 99 is not a status code`},
		"CodeTooLarge":    {Options{"expect": []any{600}}, `option "expect" of recipe status: 600 is not a status code`},
		"BadClass":        {Options{"expect": []any{"7xx"}}, `option "expect" of recipe status: "7xx" is not`},
		"Word":            {Options{"pending": []any{"soon"}}, `option "pending" of recipe status: "soon" is not`},
		"FractionalFloat": {Options{"expect": []any{200.5}}, `option "expect" of recipe status: 200.5 is not`},
		"Bool":            {Options{"expect": true}, `option "expect" of recipe status: true is not`},
		"Map":             {Options{"expect": map[string]any{"a": 1}}, `option "expect" of recipe status`},
		"EmptyExpect":     {Options{"expect": []any{}}, `option "expect" of recipe status is empty`},
		"WrongName":       {Options{"name": "rules"}, `option "name" is rules`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Builtin().Build("status", tt.opts)
			if err == nil {
				t.Fatalf("Build(%v) succeeded, want error containing %q", tt.opts, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build(%v) error = %q, want it to contain %q", tt.opts, err, tt.want)
			}
		})
	}
}
