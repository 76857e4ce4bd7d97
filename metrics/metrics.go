// Package metrics holds Walnut's Prometheus metrics in a registry of its own
// (no global state) and serves them at /metrics.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the registry and the instruments the rest of Walnut reports to.
type Metrics struct {
	registry      *prometheus.Registry
	probes        *prometheus.CounterVec
	probeDuration prometheus.Histogram
	batchDuration *prometheus.HistogramVec
	probeLate     prometheus.Histogram
}

// New builds the registry with Go's runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "walnut_probes_total",
			Help: "Probes made, by site slug and verdict.",
		}, []string{"site", "state"}),
		// No site label: with thousands of sites a histogram per site would
		// be most of the scrape.
		probeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "walnut_probe_duration_seconds",
			Help:    "Total latency of each probe, body included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		probeLate: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "walnut_probe_start_late_seconds",
			Help:    "How late each probe started against its schedule.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		batchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "walnut_writer_batch_duration_seconds",
			Help:    "Time to write one batch of probes and derive transitions, by outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"result"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.probes, m.probeDuration, m.batchDuration, m.probeLate,
	)
	return m
}

// ObserveProbe counts one probe of site with its verdict and latency.
func (m *Metrics) ObserveProbe(site, state string, latency time.Duration) {
	m.probes.WithLabelValues(site, state).Inc()
	m.probeDuration.Observe(latency.Seconds())
}

// ForgetSite drops site's series. A reload that removes a site calls it:
// the series would otherwise be scraped, frozen, for as long as the
// process lives, and pile up over renames.
func (m *Metrics) ForgetSite(site string) {
	m.probes.DeletePartialMatch(prometheus.Labels{"site": site})
}

// ObserveLate records how late a probe started against its schedule.
func (m *Metrics) ObserveLate(late time.Duration) {
	m.probeLate.Observe(late.Seconds())
}

// ObserveBatch records one write of the probe writer.
func (m *Metrics) ObserveBatch(took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.batchDuration.WithLabelValues(result).Observe(took.Seconds())
}

// Gauge registers a gauge read from f at each scrape, for values another
// part of Walnut already keeps (the writer's queue, SSE clients).
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Counter registers a counter read from f at each scrape.
func (m *Metrics) Counter(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// CounterByLabel registers one counter per value of label, each read from
// f(value) at each scrape: one metric, such as passes by result.
func (m *Metrics) CounterByLabel(name, help, label string, values []string, f func(value string) float64) {
	for _, v := range values {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: name, Help: help, ConstLabels: prometheus.Labels{label: v},
		}, func() float64 { return f(v) }))
	}
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}
