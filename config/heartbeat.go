package config

import (
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// MinHeartbeatToken is the shortest token a heartbeat site may have: the
// endpoint is open without the board's password, so the token is all that
// stands between it and anyone who can reach the board.
const MinHeartbeatToken = 16

// Heartbeat makes a site one that is not probed but calls in: a worker or a
// cron job POSTs to /api/v1/heartbeat/{slug} with Token, and a site that has
// not called within Every plus Grace is notok.
//
//	heartbeat: {every: 5m, grace: 1m, token: "${BILLING_HEARTBEAT_TOKEN}"}
type Heartbeat struct {
	Every time.Duration // how often the job calls; at least MinInterval
	Grace time.Duration // how late a call may be; default a fifth of Every
	// Token is what a call must carry (Authorization: Bearer, or ?token=).
	// It is a secret: it is in the site's Secrets and never shown.
	Token string
}

// heartbeatSpec is what a "heartbeat" value says; nil fields were not given
// or were wrong.
type heartbeatSpec struct {
	node         ast.Node
	every, grace *duration
	token        *scalar
}

// heartbeat reads a site's heartbeat map.
func (d *decoder) heartbeat(n ast.Node, path, label string) (*heartbeatSpec, bool) {
	entries, ok := d.mapping(n, path)
	if !ok {
		return nil, false
	}
	hs := &heartbeatSpec{node: d.resolve(n, path)}
	for _, e := range entries {
		p := path + "." + e.key
		var eok bool
		switch e.key {
		case "every":
			hs.every, eok = d.durationMin(e.value, p, MinInterval, "%s is under the minimum of "+MinInterval.String())
		case "grace":
			hs.grace, eok = d.durationMin(e.value, p, 0, "%s must not be negative")
		case "token":
			hs.token, eok = d.nonEmpty(e.value, p)
			if eok && len(strings.TrimSpace(hs.token.value)) < MinHeartbeatToken {
				// The token is never quoted, even when written in the file:
				// it is a secret either way.
				d.errorf(e.value, p, "the token must be at least %d characters (try: openssl rand -hex 16)", MinHeartbeatToken)
				hs.token, eok = nil, false
			}
		default:
			d.errorf(e.keyNode, "", "unknown key %q in heartbeat of %s (expected every, grace, token)", e.key, label)
			continue
		}
		ok = ok && eok
	}
	if hs.every == nil && !hasKey(entries, "every") {
		d.errorf(hs.node, path, `missing "every" (how often the job calls, e.g. 5m)`)
		ok = false
	}
	if hs.token == nil && !hasKey(entries, "token") {
		d.errorf(hs.node, path, `missing "token" (at least %d characters, e.g. "${BILLING_HEARTBEAT_TOKEN}")`, MinHeartbeatToken)
		ok = false
	}
	if !ok {
		return nil, false
	}
	return hs, true
}

func hasKey(entries []entry, key string) bool {
	for _, e := range entries {
		if e.key == key {
			return true
		}
	}
	return false
}

// heartbeatConflicts are the keys a heartbeat site may not have: they are
// about a request, and a heartbeat site makes none (max_pending is applied
// by the probing runner, which a heartbeat site does not have). Keys given in defaults
// are ignored for heartbeat sites instead.
var heartbeatConflicts = []string{"url", "method", "headers", "body", "interval", "timeout", "recipe", "max_pending", "tls", "cert_warning", "cert_critical"}

// applyHeartbeat makes s a heartbeat site: no request, an interval of
// every plus grace (the longest a healthy site goes without a probe, so
// that uptime holds each verdict that long and the board never calls a
// healthy heartbeat site stale), and the token among the secrets.
func (d *decoder) applyHeartbeat(s *Site, sp *spec, path string) bool {
	hs := sp.heartbeat
	ok := true
	for _, k := range heartbeatConflicts {
		if n, given := sp.keys[k]; given {
			if k == "url" {
				d.errorf(n, path+"."+k, "a site has either url or heartbeat, not both")
			} else {
				d.errorf(n, path+"."+k, "%q does not apply to a heartbeat site (it makes no request)", k)
			}
			ok = false
		}
	}
	hb := &Heartbeat{Every: hs.every.d, Grace: hs.every.d / 5, Token: strings.TrimSpace(hs.token.value)}
	if hs.grace != nil {
		hb.Grace = hs.grace.d
	}
	s.Heartbeat = hb
	s.URL = ""
	s.RedactedURL = "/api/v1/heartbeat/" + s.Slug
	s.Method, s.Headers, s.Body = "", nil, ""
	s.RecipeName, s.RecipeOptions = "", nil
	s.Interval = hb.Every + hb.Grace
	s.Timeout = 0
	s.MaxPending = 0
	return ok
}
