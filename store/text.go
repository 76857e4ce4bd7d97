package store

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/walnut-board/walnut/textrule"
)

// Caps on stored text, in bytes. A reason also travels in a pg_notify
// payload (at most 8000 bytes, with the slug and JSON escaping), and every
// text lands on a tile or in a Slack message: an upstream that answers a
// megabyte of text must not make a row, a notification or a screen fail.
const (
	maxNameBytes = 256  // names, groups, people, channels, ids
	maxTextBytes = 1024 // reasons and delivery details
	maxURLBytes  = 2048
	// maxSlugBytes is not a cap but a limit: a slug is a key, and cutting
	// one would merge two sites or lose one.
	maxSlugBytes = 200
)

// cleanText is the one rule for text the store writes, so that a value the
// database would refuse cannot cost a batch of probes or a transaction: NUL,
// which PostgreSQL's text cannot hold, and every other control character
// (textrule.Control) but tab and newline, and invalid UTF-8, become U+FFFD,
// which shows where something unreadable was; text longer than max bytes is
// cut at a character boundary and ends with "…". Text that needs none of
// this is returned as it is, without allocating.
func cleanText(s string, max int) string { return clean(s, max, false) }

// cleanName is cleanText for one line of text, at most maxNameBytes: a
// name, a group, a person, a channel, an id. The config and the roster CSV
// refuse a line break or a tab there, but a PagerDuty name may hold one,
// and the board shows these on one line: tab, line feed and carriage return
// become a space.
func cleanName(s string) string { return clean(s, maxNameBytes, true) }

func clean(s string, max int, line bool) string {
	if textClean(s, max, line) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				// Invalid bytes: ranging over a string yields RuneError
				// for each one.
				b.WriteRune(utf8.RuneError)
				continue
			}
		}
		switch {
		case line && (r == '\t' || textrule.LineBreak(r)):
			r = ' '
		case unprintable(r, line):
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + ellipsis
}

// textClean reports whether s is already what clean would make of it.
func textClean(s string, max int, line bool) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || unprintable(rune(c), line) {
			return runesClean(s[i:], line)
		}
	}
	return true
}

// runesClean is textClean's slow path, rune by rune, from the first byte
// that is not printable ASCII.
func runesClean(s string, line bool) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if unprintable(r, line) {
			return false
		}
	}
	return true
}

// unprintable: what clean replaces. In one line, every control character;
// in other text, all but tab and newline.
func unprintable(r rune, line bool) bool {
	return textrule.Control(r) && (line || r != '\t' && r != '\n')
}

// cleanProbes returns batch with every probe storable: text cleaned,
// numbers within their columns. Durations are clamped by micros; a status
// outside smallint is 0. The batch is returned as it is when no probe needs
// a change, and copied otherwise: the writer keeps its batches to retry
// them.
func cleanProbes(batch []Probe) []Probe {
	var out []Probe
	for i, p := range batch {
		c := cleanProbe(p)
		if c == p {
			if out != nil {
				out[i] = c
			}
			continue
		}
		if out == nil {
			out = make([]Probe, len(batch))
			copy(out, batch[:i])
		}
		out[i] = c
	}
	if out == nil {
		return batch
	}
	return out
}

func cleanProbe(p Probe) Probe {
	p.Reason = cleanText(p.Reason, maxTextBytes)
	if p.HTTPStatus < 0 || p.HTTPStatus > math.MaxInt16 {
		p.HTTPStatus = 0
	}
	return p
}

// maxIntervalMs bounds sites.interval_ms: an int4 column, which history
// doubles (two intervals: how long a verdict holds) in int4 arithmetic. An
// interval longer than about twelve days is stored as that: it only bounds
// how long a verdict holds in uptime and when the board calls a site stale.
const maxIntervalMs = math.MaxInt32 / 2

// intervalMs is an interval as sites.interval_ms stores it: whole
// milliseconds, at least a second (the column's check) and at most
// maxIntervalMs.
func intervalMs(d time.Duration) int32 {
	return int32(min(max(d.Milliseconds(), 1000), maxIntervalMs))
}
