package config

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// maintenance reads the maintenance windows. Plain slugs are checked
// against sites, which is every site in the file when complete is true.
func (d *decoder) maintenance(n ast.Node, sites []Site, complete bool) []Maintenance {
	items, ok := d.list(n, "maintenance")
	if !ok {
		return nil
	}
	known := make(map[string]bool, len(sites))
	for _, s := range sites {
		known[s.Slug] = true
	}
	var out []Maintenance
	for i, item := range items {
		if m, ok := d.window(fmt.Sprintf("maintenance[%d]", i), item, known, complete); ok {
			out = append(out, m)
		}
	}
	return out
}

func (d *decoder) window(p string, n ast.Node, known map[string]bool, complete bool) (Maintenance, bool) {
	var m Maintenance
	entries, ok := d.mapping(n, p)
	if !ok {
		return m, false
	}
	start := d.resolve(n, p)
	if len(entries) > 0 {
		start = entries[0].keyNode
	}
	m.Line, _ = pos(start)
	var from, to *time.Time
	var sitesSeen, fromSeen, toSeen, weeklySeen bool
	for _, e := range entries {
		kp := p + "." + e.key
		switch e.key {
		case "sites":
			sitesSeen = true
			ok = d.words(e.value, e.keyNode, kp, `the list is empty (use "*" for every site)`, func(s *scalar, ip string) bool {
				pattern := strings.TrimSpace(s.value)
				if _, err := path.Match(pattern, ""); err != nil {
					d.errorf(s.node, ip, "%s is not a valid pattern (use * and ? as in path.Match)", s.shown())
					return false
				}
				if complete && !strings.ContainsAny(pattern, `*?[\`) && !known[pattern] {
					d.errorf(s.node, ip, "no site has the slug %s", s.shown())
					return false
				}
				m.Sites = append(m.Sites, pattern)
				return true
			}) && ok
		case "from", "to":
			if e.key == "from" {
				fromSeen = true
			} else {
				toSeen = true
			}
			t, tok := d.timestamp(e.value, kp)
			if !tok {
				ok = false
				continue
			}
			if e.key == "from" {
				from = &t
			} else {
				to = &t
			}
			if from != nil && to != nil && !to.After(*from) {
				d.errorf(e.value, p+".to", "must be after from")
				ok = false
			}
		case "weekly":
			weeklySeen = true
			w, wok := d.weekly(e.value, kp)
			ok = ok && wok
			m.Weekly = w
		case "reason":
			s, sok := d.optStr(e.value, kp)
			if sok {
				m.Reason = s.value
			}
			ok = ok && sok
		default:
			d.errorf(e.keyNode, "", "unknown key %q in %s", e.key, p)
			ok = false
		}
	}
	if !sitesSeen {
		d.errorf(start, p, `missing "sites" (slugs, or patterns such as "db-*" or "*")`)
		ok = false
	}
	oneOff := fromSeen || toSeen
	switch {
	case oneOff && weeklySeen:
		d.errorf(start, p, "give from and to, or weekly, not both")
		ok = false
	case !oneOff && !weeklySeen:
		d.errorf(start, p, "give from and to (a one-off window), or weekly")
		ok = false
	case fromSeen && !toSeen:
		d.errorf(start, p, `missing "to"`)
		ok = false
	case toSeen && !fromSeen:
		d.errorf(start, p, `missing "from"`)
		ok = false
	}
	if from != nil && to != nil {
		m.From, m.To = *from, *to
	}
	return m, ok
}

func (d *decoder) timestamp(n ast.Node, path string) (time.Time, bool) {
	s, ok := d.nonEmpty(n, path)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s.value))
	if err != nil {
		d.errorf(s.node, path, `%s is not an RFC 3339 time (e.g. "2026-03-01T22:00:00Z")`, s.shown())
		return time.Time{}, false
	}
	return t, true
}

func (d *decoder) weekly(n ast.Node, p string) (*Weekly, bool) {
	entries, ok := d.mapping(n, p)
	if !ok {
		return nil, false
	}
	w := &Weekly{Location: time.UTC}
	start := d.resolve(n, p)
	if len(entries) > 0 {
		start = entries[0].keyNode
	}
	var daysSeen, startSeen, endSeen bool
	var endNode ast.Node
	for _, e := range entries {
		kp := p + "." + e.key
		switch e.key {
		case "days":
			daysSeen = true
			ok = d.words(e.value, e.keyNode, kp, "the list is empty", func(s *scalar, ip string) bool {
				day, known := weekdays[strings.ToLower(strings.TrimSpace(s.value))]
				if !known {
					d.errorf(s.node, ip, "%s is not a day (use mon, tue, wed, thu, fri, sat or sun)", s.shown())
					return false
				}
				w.Days = append(w.Days, day)
				return true
			}) && ok
		case "start", "end":
			if e.key == "start" {
				startSeen = true
			} else {
				endSeen = true
			}
			s, sok := d.nonEmpty(e.value, kp)
			if !sok {
				ok = false
				continue
			}
			hm, hok := clock(s.value, e.key == "end")
			if !hok {
				d.errorf(s.node, kp, `%s is not a time of day (use HH:MM, e.g. "22:30")`, s.shown())
				ok = false
				continue
			}
			if e.key == "start" {
				w.Start = hm
			} else {
				w.End, endNode = hm, s.node
			}
		case "timezone":
			s, sok := d.nonEmpty(e.value, kp)
			if !sok {
				ok = false
				continue
			}
			name := strings.TrimSpace(s.value)
			loc, err := time.LoadLocation(name)
			if err != nil || name == "Local" {
				d.errorf(s.node, kp, `unknown time zone %s (use an IANA name such as "Europe/Paris")`, s.shown())
				ok = false
				continue
			}
			w.Location = loc
		default:
			d.errorf(e.keyNode, "", "unknown key %q in %s", e.key, p)
			ok = false
		}
	}
	for _, k := range []struct {
		seen bool
		key  string
	}{{daysSeen, "days"}, {startSeen, "start"}, {endSeen, "end"}} {
		if !k.seen {
			d.errorf(start, p, "missing %q", k.key)
			ok = false
		}
	}
	if w.Start != "" && w.Start == w.End {
		d.errorf(endNode, p+".end", "must differ from start")
		ok = false
	}
	return w, ok
}

// clock parses "H:MM" or "HH:MM" to "HH:MM"; "24:00" is allowed for an end.
func clock(s string, end bool) (string, bool) {
	h, m, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return "", false
	}
	hh, herr := strconv.Atoi(h)
	mm, merr := strconv.Atoi(m)
	if herr != nil || merr != nil || hh < 0 || mm < 0 || mm > 59 || h[0] == '+' || m[0] == '+' {
		return "", false
	}
	if hh > 23 && !(end && hh == 24 && mm == 0) {
		return "", false
	}
	return fmt.Sprintf("%02d:%02d", hh, mm), true
}
