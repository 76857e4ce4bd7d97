package secret_test

import (
	"encoding/base64"
	"testing"

	"github.com/walnut-board/walnut/secret"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		build    func(s *secret.Scrubber)
		in, want string
	}{
		"LongValueAnywhere": {
			build: func(s *secret.Scrubber) { s.Add("s3cret-token-0123") },
			in:    "bad token s3cret-token-0123; xs3cret-token-0123x", want: "bad token ***; x***x",
		},
		"ShorterValueAsWholeTokenOnly": {
			build: func(s *secret.Scrubber) { s.Add("s3cret-token") },
			in:    "bad token s3cret-token; xs3cret-tokenx, s3cret-token9, (s3cret-token)", want: "bad token ***; xs3cret-tokenx, s3cret-token9, (***)",
		},
		"ShortHeaderValueNotInsideAWord": {
			build: func(s *secret.Scrubber) { s.AddHeader("X-Env", "prod") },
			in:    "production down; env=prod; prod: 503", want: "production down; env=***; ***: 503",
		},
		"UserAgentIsNoSecret": {
			build: func(s *secret.Scrubber) { s.AddHeader("User-Agent", "walnut") },
			in:    "HTTP 403: walnut-board/walnut is blocked", want: "HTTP 403: walnut-board/walnut is blocked",
		},
		"AcceptIsNoSecret": {
			build: func(s *secret.Scrubber) { s.AddHeader("accept", "application/json") },
			in:    "expected application/json, got text/html", want: "expected application/json, got text/html",
		},
		"NoSecretHeaderFromEnvIsSecret": {
			// A ${…} value is Added as well, whatever header it is sent in.
			build: func(s *secret.Scrubber) {
				s.AddHeader("User-Agent", "ua-k3y")
				s.Add("ua-k3y")
			},
			in: "agent ua-k3y refused", want: "agent *** refused",
		},
		"LongestWordFirst": {
			build: func(s *secret.Scrubber) { s.Add("ab-cd", "ab-cd-ef") },
			in:    "ab-cd-ef, ab-cd", want: "***, ***",
		},
		"LongValueURLEncoded": {
			build: func(s *secret.Scrubber) { s.Add("a b/c+d=") },
			in:    "q=a+b%2Fc%2Bd%3D p=a%20b%2Fc+d=", want: "q=*** p=***",
		},
		"LongValueJSONAndHTMLEscaped": {
			build: func(s *secret.Scrubber) { s.Add(`p"w<d>&`) },
			in:    `{"a":"p\"w\u003cd\u003e\u0026","b":"p\"w<d>&"} <p>p&#34;w&lt;d&gt;&amp;</p>`,
			want:  `{"a":"***","b":"***"} <p>***</p>`,
		},
		"ShortQueryValueAfterItsKey": {
			build: func(s *secret.Scrubber) { s.AddURL("https://x.example/health?a=1&page=2") },
			in:    `HTTP 201: a=1 refused; {"a":"1"}, "a": 1, A:1; page 2 of 12, 1 of 3, ba=1, a=12`,
			want:  `HTTP 201: a=*** refused; {"a":"***"}, "a": ***, A:***; page 2 of 12, 1 of 3, ba=1, a=12`,
		},
		"QueryStringAndEscapedValue": {
			build: func(s *secret.Scrubber) { s.AddURL("https://x.example/?tok=ab%2Bcd&x=y") },
			in:    "echo tok=ab%2Bcd&x=y, ab+cd, ab%2Bcd", want: "echo ***, ***, ***",
		},
		"UserAndPassword": {
			build: func(s *secret.Scrubber) { s.AddURL("https://bot:pa55w0rd@x.example/") },
			in:    "bot:pa55w0rd, pa55w0rd, the bot, robot", want: "***, ***, the ***, robot",
		},
		"BearerHeaderAndItsToken": {
			build: func(s *secret.Scrubber) { s.AddHeader("Authorization", "Bearer abc123") },
			in:    "got Bearer abc123; token abc123 unknown", want: "got ***; token *** unknown",
		},
		"ShortBearerToken": {
			build: func(s *secret.Scrubber) { s.AddHeader("Authorization", "Bearer ab") },
			in:    "bearer: ab; ab is a tab", want: "bearer: ***; ab is a tab",
		},
		"BasicDecoded": {
			build: func(s *secret.Scrubber) {
				s.AddHeader("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ada:pa55word")))
			},
			in:   "login ada:pa55word refused; pa55word; " + base64.StdEncoding.EncodeToString([]byte("ada:pa55word")) + "; ada",
			want: "login *** refused; ***; ***; ***",
		},
		"ShortHeaderValueAfterItsName": {
			build: func(s *secret.Scrubber) { s.AddHeader("X-Key", "k9") },
			in:    "x-key: k9, X-Key=k9, k9", want: "x-key: ***, X-Key=***, k9",
		},
		"ShortUnnamedValueAsWholeWord": {
			build: func(s *secret.Scrubber) { s.Add("xy") },
			in:    "xy: xyz, axy, xy", want: "***: xyz, axy, ***",
		},
		"LongestFirst": {
			build: func(s *secret.Scrubber) { s.Add("abcd", "abcdefgh") },
			in:    "abcdefgh abcd", want: "*** ***",
		},
		"MarkerIsNotASecret": {
			build: func(s *secret.Scrubber) { s.Add("*", "**") },
			in:    "a *", want: "a *",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := &secret.Scrubber{}
			tt.build(s)
			if got := s.Scrub(tt.in); got != tt.want {
				t.Errorf("Scrub(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestScrubberNilAndMerge(t *testing.T) {
	t.Parallel()
	var none *secret.Scrubber
	if got := none.Scrub("abc"); got != "abc" || !none.Empty() {
		t.Errorf("nil Scrubber: %q, Empty %v", got, none.Empty())
	}
	a, b := secret.New("first-secret"), &secret.Scrubber{}
	b.AddURL("https://x.example/?k=1")
	c := a.Clone()
	c.Merge(b)
	if got, want := c.Scrub("first-secret k=1"), "*** k=***"; got != want {
		t.Errorf("merged: %q, want %q", got, want)
	}
	if got := a.Scrub("k=1"); got != "k=1" {
		t.Errorf("Merge into a clone changed the original: %q", got)
	}
}

func TestGuess(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://hooks.slack.com/services/T0/B0/XYZ said no": "https://hooks.slack.com/*** said no",
		"invalid token xoxb-123-456-abc":                     "invalid token xoxb-***",
		"Authorization: Bearer abc.def":                      "Authorization: Bearer ***",
		`{"routing_key":"R0123"}`:                            `{"routing_key":"***"}`,
		"key R0123456789abcdef0123456789abcd":                "key ***",
		"HTTP 400: Invalid event":                            "HTTP 400: Invalid event",
	}
	for in, want := range tests {
		if got := secret.Guess(in); got != want {
			t.Errorf("Guess(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkScrub is the cost a probe pays: a site with a token in its query
// and two headers, the sinks' credentials, and a reason of typical length.
func BenchmarkScrub(b *testing.B) {
	s := secret.New("pd-routing-key-0123456789abcdef", "xoxb-1234-5678-abcdefghijkl")
	s.AddURL("https://api.example.com/v1/health?token=q-7c1f2e9a&page=2")
	s.AddHeaders(map[string]string{"Authorization": "Bearer h-93bd04aa-secret", "User-Agent": "walnut"})
	reason := "Example Status: Partial outage of API Requests and Webhooks in us-east-1, HTTP 503 from upstream, retry later"
	b.ReportAllocs()
	for b.Loop() {
		s.Scrub(reason)
	}
}
