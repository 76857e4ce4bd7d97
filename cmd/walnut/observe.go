package main

import (
	"math"

	"github.com/walnut-board/walnut/metrics"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/web"
)

// observedSink counts each probe in the metrics on its way to the writer.
type observedSink struct {
	next    *store.Writer
	metrics *metrics.Metrics
}

func (s observedSink) Add(p store.Probe) {
	s.metrics.ObserveProbe(p.Slug, string(p.State), p.Latency)
	s.next.Add(p)
}

// observeWriter exposes the writer's queue and losses as metrics.
func observeWriter(m *metrics.Metrics, w *store.Writer) {
	m.Gauge("walnut_writer_queue_depth", "Probes waiting to be written to PostgreSQL.", func() float64 { return float64(w.Buffered()) })
	m.Counter("walnut_writer_dropped_total", "Probes lost: the buffer was full while the database was away, the writer had stopped, or the database refused a probe and the verdict in its place.", func() float64 { return float64(w.Dropped()) })
	m.Counter("walnut_writer_rejected_total", "Probes the database refused, each stored as a notok verdict \"probe could not be stored\" instead.", func() float64 { return float64(w.Rejected()) })
	m.Counter("walnut_writer_written_total", "Probes written to PostgreSQL.", func() float64 { return float64(w.Written()) })
}

// observeMaintenance exports what the maintenance passes say: a pass that
// keeps failing, or history that stops being compacted, is how a database
// outgrows its plan months later.
func observeMaintenance(m *metrics.Metrics, w *web.MaintenanceWatch) {
	m.CounterByLabel("walnut_maintenance_passes_total", "Maintenance passes of this instance by result: ok, error, or skipped (another instance held the maintenance lock).",
		"result", []string{"ok", "error", "skipped"}, w.Passes)
	m.Gauge("walnut_history_behind_seconds", "How far the oldest site's compacted history trails now, as of this instance's latest maintenance pass; NaN before one, or while another instance maintains.", func() float64 {
		d, ok := w.HistoryBehind()
		if !ok {
			return math.NaN()
		}
		return d.Seconds()
	})
}

// observeStorage exposes the database's size, from the watch's latest
// reading rather than a read per scrape, and the budget when one is set.
func observeStorage(m *metrics.Metrics, w *web.StorageWatch, budget int64) {
	m.Gauge("walnut_database_bytes", "Disk the database takes (pg_database_size), read every minute; NaN before the first reading.", func() float64 {
		u := w.Usage()
		if !u.Known {
			return math.NaN()
		}
		return float64(u.Bytes)
	})
	if budget > 0 {
		m.Gauge("walnut_database_budget_bytes", "WALNUT_DB_BUDGET in bytes: the size Walnut keeps the database under.", func() float64 { return float64(budget) })
	}
}
