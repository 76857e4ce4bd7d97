package web

import (
	"sync"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// Maintenance that stops working fails slowly: raw partitions stay, the
// database grows past its budget, and history lags, months later. /healthz
// says so the day it starts.
const (
	// maintenanceFailingAfter is how long passes may fail (a database
	// blip, a lock held elsewhere) before /healthz warns.
	maintenanceFailingAfter = 15 * time.Minute
	// historyBehindAfter is how far the oldest site's compacted history
	// may trail now before /healthz warns: compaction keeps it within two
	// hours (the current hour, and an idle site's last hour), or longer
	// while the writer holds an outage's backlog.
	historyBehindAfter = 3 * time.Hour
)

// MaintenanceWatch keeps what the maintenance passes of this instance said
// (store.MaintainerOptions.PassedFunc is its Passed), for /healthz and
// /metrics.
type MaintenanceWatch struct {
	now     func() time.Time
	started time.Time

	mu        sync.Mutex
	lastPass  time.Time // the latest pass that ran or found another instance running
	lastOK    time.Time
	lastErr   string
	until     time.Time // store.MaintainResult.CompactedUntil of the latest pass that ran
	elsewhere bool      // the latest pass found another instance maintaining
	passes    map[string]float64
}

// NewMaintenanceWatch returns a watch; now nil is time.Now.
func NewMaintenanceWatch(now func() time.Time) *MaintenanceWatch {
	if now == nil {
		now = time.Now
	}
	return &MaintenanceWatch{now: now, started: now(), passes: map[string]float64{}}
}

// Passed records a pass.
func (w *MaintenanceWatch) Passed(res store.MaintainResult, err error) {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastPass = now
	switch {
	case err != nil:
		w.lastErr = secret.Guess(err.Error())
		w.passes["error"]++
	case res.Skipped:
		w.lastOK, w.lastErr, w.elsewhere = now, "", true
		w.passes["skipped"]++
	default:
		w.lastOK, w.lastErr, w.elsewhere = now, "", false
		w.until = res.CompactedUntil
		w.passes["ok"]++
	}
}

// Passes counts the passes by result: "ok", "error", "skipped" (another
// instance holds the maintenance lock).
func (w *MaintenanceWatch) Passes(result string) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.passes[result]
}

// HistoryBehind is how far the oldest site's compacted history trails now,
// as of the latest pass this instance ran; false before one has, or while
// another instance maintains.
func (w *MaintenanceWatch) HistoryBehind() (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.until.IsZero() || w.elsewhere {
		return 0, false
	}
	return max(w.now().Sub(w.until), 0), true
}

// maintenanceJSON is /healthz's maintenance object. Status is "ok",
// "starting" (no pass yet), "elsewhere" (another instance holds the lock
// and does the work), "failing" (no good pass for 15 minutes) or "behind"
// (history trails by more than 3 hours); the last two are warnings in a
// 200: a restart cures neither.
type maintenanceJSON struct {
	Status        string `json:"status"`
	LastPassAt    string `json:"last_pass_at,omitempty"`
	HistoryBehind string `json:"history_behind,omitempty"`
	Message       string `json:"message,omitempty"`
}

func (w *MaintenanceWatch) health() *maintenanceJSON {
	behind, known := w.HistoryBehind()
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	j := &maintenanceJSON{Status: "ok"}
	if !w.lastPass.IsZero() {
		j.LastPassAt = rfc3339(w.lastPass)
	}
	if known {
		j.HistoryBehind = ago(behind)
	}
	okSince := w.lastOK
	if okSince.IsZero() {
		okSince = w.started
	}
	switch {
	case w.lastErr != "" && now.Sub(okSince) > maintenanceFailingAfter:
		j.Status = "failing"
		j.Message = "maintenance has failed for " + ago(now.Sub(okSince)) + ": " + w.lastErr
	case known && behind > historyBehindAfter:
		j.Status = "behind"
		j.Message = "history is compacted only up to " + ago(behind) + " ago: old probes stay raw and the database grows"
	case w.lastPass.IsZero():
		j.Status = "starting"
	case w.elsewhere:
		j.Status = "elsewhere"
	}
	return j
}

// healthOrNil is health, or nil for a handler without a watch.
func (w *MaintenanceWatch) healthOrNil() *maintenanceJSON {
	if w == nil {
		return nil
	}
	return w.health()
}
