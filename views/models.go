// Package views holds Walnut's templ components. Each page takes one view
// model shaped like the screen, built by its handler; views do no I/O and
// import no other Walnut package.
package views

import (
	"strconv"

	"github.com/a-h/templ"
)

// TileView is one site's tile on the board.
type TileView struct {
	Slug     string
	Name     string
	State    string // ok, notok, pending or unknown
	Reason   string
	For      string // how long the state has held, e.g. "3h 12m"
	Since    string // when the state began, RFC 3339; the page's script keeps For current from it
	Checked  string // when it was last probed, RFC 3339, empty before the first probe
	Interval int    // seconds between probes; the page calls a site stale after three
	// Cert is the certificate warning a green tile shows, "certificate
	// expires in 9 days"; empty outside the site's cert_warning. CertShort
	// says it in fewer words for the denser boards: "cert: 9 days left".
	Cert, CertShort string
}

// GroupView is a heading on the board and its tiles, in config order.
type GroupView struct {
	Name  string
	Tiles []TileView
}

// SupportView is who is on support today. Person is empty when nobody is.
type SupportView struct {
	Person  string
	Contact string
	Until   string // the last day of the shift, as "Sun 7 Dec"
	// AsOf is "as of 14:05" when the roster's sync from PagerDuty is
	// failing and this is the last roster it read; empty when all is well.
	AsOf string
}

// SummaryView is the part of the board above the tiles that changes with
// them: the counts and the failing strip.
type SummaryView struct {
	Counts  map[string]int // sites per state
	Total   int
	Failing []TileView // red sites, longest down first
}

// AlertView is an alert sink in trouble, as the board's footer warns of it:
// failing (its last notice was refused and will not be retried, such as a
// bad PagerDuty routing key) or delayed (notices waiting on retries). Sink
// "database" is the database near or over its budget instead: Detail says
// how full it is, Effect what Walnut does about it.
type AlertView struct {
	Sink    string // pagerduty, slack, webhook; or database
	Name    string // as a person reads it: "PagerDuty"
	Status  string // failing or delayed; near_budget or over_budget for the database
	At      string // failing: when the last notice was refused; delayed: since when one waits; RFC 3339, may be empty
	AtText  string // the same as a person reads it, "14:02 UTC"; the page's script shows it in local time
	Detail  string // failing: what the sink answered, scrubbed of secrets
	Pending int    // notices waiting
	Effect  string // what it means: "on-call will not be paged" (failing), "pages are late" (delayed)
}

// BoardView is the whole board.
type BoardView struct {
	Title      string
	Groups     []GroupView
	Summary    SummaryView
	Support    SupportView
	Updated    string // when the page was rendered, RFC 3339
	UpdatedAt  string // the same, as a person reads it: "14:03:12 UTC"
	Version    string // the server's version; the page reloads when it changes
	Instance   string // the server process; the page reloads when it changes too
	Kiosk      bool   // opened with a kiosk token: read-only, no pointer
	CSSPath    string
	ScriptPath string
	EventsPath string // the server-sent event stream; empty: no live updates
	// Alerts are the alert sinks in trouble, for the footer; empty when
	// all is well.
	Alerts []AlertView
	// Unavailable, when set, says why the board could not be read
	// ("database unreachable"). The page is then the board's shell: no
	// tiles, the banner up, and the script retrying until the board can be
	// read, so that a TV that reloaded during an outage recovers by itself.
	Unavailable      string
	UnavailableSince string // when the trouble began, RFC 3339; empty when unknown
	UnavailableAt    string // the same as a person reads it, "14:02 UTC"; the script shows local time
}

// UnavailableView is a page other than the board that could not be read.
type UnavailableView struct {
	Title   string
	Reason  string // "database unreachable"
	Since   string // RFC 3339, may be empty
	SinceAt string // "14:02 UTC"
	Retry   int    // seconds until the page tries again
	CSSPath string
}

// Density is the body class that sizes tiles for the number of sites, so
// that up to 200 fit a 1920×1080 screen without scrolling.
func Density(sites int) string {
	switch {
	case sites <= 24:
		return "density-s"
	case sites <= 60:
		return "density-m"
	case sites <= 120:
		return "density-l"
	}
	return "density-xl"
}

// ProbeRow is one line of a site's recent probes.
type ProbeRow struct {
	At         string
	State      string
	HTTPStatus string
	Latency    string
	TTFB       string
	DNS        string
	Connect    string
	TLS        string
	Reason     string
}

// TransitionRow is one change of a site's state.
type TransitionRow struct {
	At     string
	From   string
	To     string
	Reason string
}

// SiteView is a site's page.
type SiteView struct {
	Title       string
	Slug        string
	Name        string
	Group       string
	URL         string // redacted: scheme, host and path
	State       string
	Reason      string
	For         string
	Retired     bool
	Probes      []ProbeRow
	Transitions []TransitionRow
	History     HistoryView
	CSSPath     string
	// Cert is the certificate the site last presented; nil for sites
	// without TLS or before the first handshake.
	Cert *CertView
}

// CertView is a site's certificate on its page.
type CertView struct {
	ExpiresAt string // RFC 3339
	ExpiresIn string // "certificate expires in 9 days"
	Issuer    string
	Subject   string
	FirstSeen string // RFC 3339
	LastSeen  string // RFC 3339
	Warning   bool   // within the site's cert_warning: the line is amber
	// Insecure: the site skips verification (tls: {insecure: true}).
	Insecure bool
}

// stateLabel is the word shown beside the state's symbol, so that state is
// never carried by colour alone.
func stateLabel(state string) string {
	switch state {
	case "ok":
		return "OK"
	case "notok":
		return "DOWN"
	case "pending":
		return "PENDING"
	}
	return "UNKNOWN"
}

func stateIcon(state string) string {
	switch state {
	case "ok":
		return "✓"
	case "notok":
		return "✕"
	case "pending":
		return "…"
	}
	return "?"
}

// boardData is what the board's script reads from the body.
func boardData(v BoardView) templ.Attributes {
	a := templ.Attributes{
		"data-events":   v.EventsPath,
		"data-version":  v.Version,
		"data-instance": v.Instance,
	}
	if v.Unavailable != "" {
		a["data-unavailable"] = v.Unavailable
		a["data-unavailable-since"] = v.UnavailableSince
	}
	return a
}

func boardClass(v BoardView) string {
	c := "board-page " + Density(v.Summary.Total)
	if v.Kiosk {
		c += " kiosk"
	}
	if v.Unavailable != "" {
		c += " is-unavailable"
	}
	return c
}

// clockText is the clock's first face, HH:MM of an "HH:MM:SS UTC" time; the
// script replaces it with the local time.
func clockText(updatedAt string) string {
	if len(updatedAt) >= 5 {
		return updatedAt[:5]
	}
	return updatedAt
}

func allClear(s SummaryView) string {
	switch {
	case s.Total == 0:
		return "No sites yet"
	case s.Counts["ok"] == s.Total:
		return "All " + strconv.Itoa(s.Total) + " sites OK"
	}
	return "Nothing is down"
}
