// Package views holds Walnut's templ components. Each page takes one view
// model shaped like the screen, built by its handler; views do no I/O and
// import no other Walnut package.
package views

// TileView is one site's tile on the board.
type TileView struct {
	Slug    string
	Name    string
	State   string // ok, notok, pending or unknown
	Reason  string
	For     string // how long the state has held, e.g. "3h 12m"
	Checked string // when it was last probed, RFC 3339, empty before the first probe
}

// GroupView is a heading on the board and its tiles, in config order.
type GroupView struct {
	Name  string
	Tiles []TileView
}

// BoardView is the whole board.
type BoardView struct {
	Title   string
	Groups  []GroupView
	Counts  map[string]int // sites per state
	Updated string         // when the page was rendered, RFC 3339
	CSSPath string
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
	CSSPath     string
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
