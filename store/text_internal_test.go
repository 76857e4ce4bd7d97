package store

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   string
		max  int
		want string
	}{
		"PlainUnchanged":        {"HTTP 503 Service Unavailable", 100, "HTTP 503 Service Unavailable"},
		"UnicodeUnchanged":      {"Zürich: 東京 ✓", 100, "Zürich: 東京 ✓"},
		"TabAndNewlineKept":     {"a\tb\nc", 100, "a\tb\nc"},
		"NUL":                   {"Bad\x00thing", 100, "Bad\uFFFDthing"},
		"ControlsAndEscape":     {"a\x1b[31mred\r\x7f", 100, "a\uFFFD[31mred\uFFFD\uFFFD"},
		"C1Control":             {"a\u0085b", 100, "a\uFFFDb"},
		"InvalidUTF8":           {"caf\xe9 \xff\xfe", 100, "caf\uFFFD \uFFFD\uFFFD"},
		"TruncatedRune":         {"ok \xe6\x9d", 100, "ok \uFFFD\uFFFD"},
		"CappedAtRuneBoundary":  {strings.Repeat("é", 10), 8, "éé…"},
		"CapCountsTheEllipsis":  {strings.Repeat("x", 20), 10, "xxxxxxx…"},
		"ExactlyAtCapUnchanged": {strings.Repeat("x", 10), 10, strings.Repeat("x", 10)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := cleanText(tc.in, tc.max)
			if got != tc.want {
				t.Fatalf("cleanText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if len(got) > tc.max || !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
				t.Fatalf("cleanText(%q) = %q: over %d bytes, invalid or holding NUL", tc.in, got, tc.max)
			}
			if again := cleanText(got, tc.max); again != got {
				t.Fatalf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

// One-line fields (names, groups, people) hold no line break: a PagerDuty
// name with one would break the board's line.
func TestCleanName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Ada Lovelace":           "Ada Lovelace",
		"Ada\nLovelace":          "Ada Lovelace",
		"Ada\r\n\tLovelace":      "Ada   Lovelace",
		"Ada\x00\x85Lovelace":    "Ada\uFFFD\uFFFDLovelace",
		strings.Repeat("é", 200): strings.Repeat("é", 126) + "…",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
		if got := cleanName(want); got != want {
			t.Errorf("cleanName not idempotent on %q: %q", want, got)
		}
	}
}

// The common case, clean text, costs a scan and no allocation: every
// probe's reason goes through it.
func TestCleanTextCleanDoesNotAllocate(t *testing.T) {
	s := "Stripe: Partial outage of API Requests — 東京"
	if n := testing.AllocsPerRun(100, func() { cleanText(s, maxTextBytes) }); n != 0 {
		t.Fatalf("%v allocations for clean text, want 0", n)
	}
	batch := []Probe{{Reason: "HTTP 503"}, {Reason: ""}}
	if n := testing.AllocsPerRun(100, func() { cleanProbes(batch) }); n != 0 {
		t.Fatalf("%v allocations for a clean batch, want 0", n)
	}
}

func TestCleanProbesCopiesWhatItChanges(t *testing.T) {
	t.Parallel()
	batch := []Probe{{Reason: "fine"}, {Reason: "bad\x00", HTTPStatus: 70000}, {Reason: "fine too"}}
	out := cleanProbes(batch)
	if batch[1].Reason != "bad\x00" {
		t.Fatal("cleanProbes changed the caller's batch: the writer retries it")
	}
	if out[0].Reason != "fine" || out[1].Reason != "bad\uFFFD" || out[1].HTTPStatus != 0 || out[2].Reason != "fine too" {
		t.Fatalf("cleanProbes = %+v", out)
	}
}

func TestIntervalMs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   time.Duration
		want int32
	}{
		{30 * time.Second, 30_000},
		{2 * time.Hour, 7_200_000},
		{13 * 24 * time.Hour, maxIntervalMs},
		{1000 * time.Hour, maxIntervalMs},
		{0, 1000},
	} {
		if got := intervalMs(tc.in); got != tc.want {
			t.Errorf("intervalMs(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// BenchmarkCleanProbes is what the boundary costs a batch of 1000 probes
// whose text is clean, as almost every batch is.
func BenchmarkCleanProbes(b *testing.B) {
	batch := make([]Probe, 1000)
	for i := range batch {
		batch[i] = Probe{State: StateNotOK, HTTPStatus: 503, Reason: "Stripe: Partial outage of API Requests - degraded performance"}
	}
	b.ReportAllocs()
	for b.Loop() {
		cleanProbes(batch)
	}
}
