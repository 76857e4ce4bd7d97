package store

import "time"

// Footprint is what history costs on disk with this schema, all in: rows,
// their indexes, TOAST, and the free space a table keeps after VACUUM. It is
// measured, not derived: `go run ./bench -history` writes history through
// the writer, runs serve's maintenance and reads pg_database_size and
// pg_total_relation_size (BENCHMARKS.md, "Storage"). Change the schema,
// run the bench again and update CurrentFootprint, here and only here.
type Footprint struct {
	// Empty is the database after the migrations, before any probe.
	Empty float64
	// HotProbe is a probe of the last HotWindow, all in: its row, and
	// whatever else the schema keeps of it while it is recent. After
	// HotWindow it costs Probe. A zero HotWindow: every probe costs Probe.
	HotProbe  float64
	HotWindow time.Duration
	// Probe is a probe kept for raw retention (WALNUT_RAW_RETENTION), once
	// past HotWindow: its row or packed form and its share of the indexes.
	Probe float64
	// SiteHour is an hour of one site's history, kept for the history's
	// retention (a history_hours row).
	SiteHour float64
}

// CurrentFootprint is Footprint for the schema of migration 00008
// (recent probes as rows, older ones packed per site and hour, hourly
// history), measured with `go run ./bench -history -sites 100 -interval 30s
// -days 8` (2,304,000 probes; BENCHMARKS.md, "Storage"): a raw row costs
// 80.6 B with the indexes of that run, 107 B with the (site_id, at) index
// that replaced the site_id one after it (TestProbeRowSize: 26.6 B more),
// and is kept for today and yesterday (HotWindow, at most two days),
// beside its packed copy; a packed probe costs 17.6 B
// (40.3 MB of probe_blocks); an hour of a site's history 229 B (4.4 MB of
// history_hours for 19,200 site-hours). There are no minute rows.
//
// The 90-day run, -sites 100 -interval 30s -days 90 at ad7c1ac (25,920,000
// probes; BENCHMARKS.md, "The 1 GB goal"), measured 558.6 MB where this
// projects 578 MB: 17.5 B a packed probe, 222 B a site-hour, 105 B a raw
// row. The projection errs large, as a budget wants. The quarter-hour sums
// of 00032 (blocks of 1,000 probes or more, a site probed every 3 s or
// faster) add about 250 B a block, at most 0.25 B a probe, not counted.
var CurrentFootprint = Footprint{
	Empty:     10.3e6,
	HotProbe:  107 + 17.6,
	HotWindow: 48 * time.Hour,
	Probe:     17.6,
	SiteHour:  229,
}

// HistoryRetention is how long hourly history is kept by default, and
// DefaultRawRetention every probe (WALNUT_RAW_RETENTION).
const (
	HistoryRetention    = 400 * 24 * time.Hour
	DefaultRawRetention = 90 * 24 * time.Hour
)

// Project is the size of a database holding the history of sites probed
// at intervals (one entry per site), after running for age, with raw
// probes kept raw and hourly history kept history.
func (f Footprint) Project(intervals []time.Duration, raw, history, age time.Duration) float64 {
	rawAge := min(age, raw).Seconds()
	hot := min(age, raw, f.HotWindow).Seconds()
	histHours := min(age, history).Hours()
	size := f.Empty
	for _, iv := range intervals {
		if iv <= 0 {
			continue
		}
		perSecond := 1 / iv.Seconds()
		size += hot*perSecond*f.HotProbe + (rawAge-hot)*perSecond*f.Probe + histHours*f.SiteHour
	}
	return size
}

// DaysToReach is the first whole day of running after which the database
// holds more than budget bytes, and false if it never does: the size stops
// growing once the longer retention is full.
func (f Footprint) DaysToReach(budget float64, intervals []time.Duration, raw, history time.Duration) (int, bool) {
	last := int(max(raw, history)/(24*time.Hour)) + 1
	for d := 0; d <= last; d++ {
		if f.Project(intervals, raw, history, time.Duration(d)*24*time.Hour) > budget {
			return d, true
		}
	}
	return 0, false
}
