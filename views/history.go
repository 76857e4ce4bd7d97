package views

import (
	"regexp"
	"strings"
)

// HistoryView is the history part of a site's page: uptime windows, charts
// over the chosen range, the daily strip and the outages.
type HistoryView struct {
	Range       string      // the chosen range: 24h, 7d, 30d or 90d
	Ranges      []RangeLink // the range picker
	Windows     []UptimeCell
	RangeUptime UptimeCell // over the chosen range, with pending time
	EchartsPath string     // Walnut's own copy of echarts, never a CDN
	HistoryCSS  string
	Latency     ChartView
	Phases      ChartView
	Strip       []DayCell
	Outages     []OutageRow
	SeriesJSON  string // links to the same data through the API
	SeriesCSV   string
	NoData      bool // no history in the range: charts would be empty
}

// RangeLink is one choice of the range picker.
type RangeLink struct {
	Label   string
	Href    string
	Current bool
}

// UptimeCell is an uptime figure with its window.
type UptimeCell struct {
	Label   string
	Value   string // "99.95%", or "–" without data
	Pending string // time pending in the window, "" when none
}

// ChartView is a go-echarts chart as an element and its script. Both are
// HTML built by go-echarts from numbers and fixed labels only.
type ChartView struct {
	ID      string
	Element string
	Script  string
}

// DayCell is one day of the 90-day strip.
type DayCell struct {
	Date  string // YYYY-MM-DD
	Class string // ok, warn, bad, pending or none
	Title string // "2026-11-25: 99.95% up"
}

// OutageRow is one spell of a site being down.
type OutageRow struct {
	Start    string
	End      string // "" while ongoing
	Duration string
	Reason   string
}

// withNonce marks an inline script with the response's CSP nonce, so that
// the browser runs it under a policy that refuses other inline scripts.
func withNonce(script, nonce string) string {
	if nonce == "" {
		return script
	}
	return strings.Replace(script, "<script", `<script nonce="`+nonce+`"`, 1)
}

var styleAttr = regexp.MustCompile(` style="[^"]*"`)

// withoutStyle drops the style attribute go-echarts puts on its element: the
// content security policy refuses inline styles, and history.css sizes the
// chart instead.
func withoutStyle(element string) string {
	return styleAttr.ReplaceAllString(element, "")
}
