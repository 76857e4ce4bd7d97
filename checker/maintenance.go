package checker

import (
	"time"

	"github.com/walnut-board/walnut/store"
)

// maintenanceSink hands on the probes of one site, each turned pending with
// the window's reason while maintenanceFunc says the site is in one.
type maintenanceSink struct {
	next            Sink
	slug            string
	maintenanceFunc func(slug string, at time.Time) (reason string, in bool)
}

// withMaintenance wraps next for the site with slug; next itself when f is
// nil.
func withMaintenance(next Sink, slug string, f func(string, time.Time) (string, bool)) Sink {
	if f == nil {
		return next
	}
	return maintenanceSink{next: next, slug: slug, maintenanceFunc: f}
}

func (m maintenanceSink) Add(p store.Probe) {
	m.next.Add(inMaintenance(m.maintenanceFunc, m.slug, p))
}

// inMaintenance is p, a probe of the site with slug, as recorded: pending
// with the window's reason if f says a window covers the site at p.At.
func inMaintenance(f func(string, time.Time) (string, bool), slug string, p store.Probe) store.Probe {
	if f == nil {
		return p
	}
	if reason, in := f(slug, p.At); in {
		p.State, p.Reason = store.StatePending, reason
	}
	return p
}
