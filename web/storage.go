package web

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/walnut-board/walnut/views"
)

// DatabaseSizer reads how much disk the database takes; *store.Store has it.
type DatabaseSizer interface {
	DatabaseSize(ctx context.Context) (int64, error)
}

// StorageWatchOptions configures a StorageWatch.
type StorageWatchOptions struct {
	Sizer  DatabaseSizer
	Logger *slog.Logger
	// Budget is WALNUT_DB_BUDGET in bytes; 0: none, the size is only
	// reported.
	Budget int64
	// Trimming says that maintenance drops the oldest probes to keep the
	// database under Budget (store.MaintainerOptions.Budget), which the
	// warning then says; without it the warning says what a person can do.
	Trimming bool
	// Every is how often the size is read; default a minute. Reading it
	// walks the database's files: cheap, but not for every scrape, page or
	// health check, and a database grows by megabytes a day, not a minute.
	Every time.Duration
}

// StorageWatch keeps the latest reading of the database's size against its
// budget, for /healthz, the board's footer and the metrics.
type StorageWatch struct {
	opts StorageWatchOptions

	mu    sync.Mutex
	usage StorageUsage
}

// StorageUsage is one reading of the database's size.
type StorageUsage struct {
	Bytes  int64
	Budget int64 // 0: no budget
	// Trimming: the oldest probes are dropped to stay under Budget.
	Trimming bool
	At       time.Time
	Known    bool // false until the first reading succeeds
}

// StorageWarnAt is the share of the budget from which /healthz and the board
// warn: early enough to act (a larger plan, fewer sites, a shorter
// WALNUT_RAW_RETENTION) before the host restricts the database.
const StorageWarnAt = 0.8

// NewStorageWatch returns a watch; call Run to start reading, or Refresh.
func NewStorageWatch(opts StorageWatchOptions) *StorageWatch {
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &StorageWatch{opts: opts, usage: StorageUsage{Budget: opts.Budget, Trimming: opts.Trimming}}
}

// Run reads the size at once and then every Every until ctx ends.
func (w *StorageWatch) Run(ctx context.Context) {
	runEvery(ctx, w.opts.Every, w.opts.Logger, "read the database's size", w.Refresh)
}

// Refresh reads the size now.
func (w *StorageWatch) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := w.opts.Sizer.DatabaseSize(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.usage = StorageUsage{Bytes: n, Budget: w.opts.Budget, Trimming: w.opts.Trimming, At: time.Now(), Known: true}
	return nil
}

// Usage is the latest reading; Known is false before the first.
func (w *StorageWatch) Usage() StorageUsage {
	if w == nil {
		return StorageUsage{}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.usage
}

// share is the size over the budget, 0 without one.
func (u StorageUsage) share() float64 {
	if !u.Known || u.Budget <= 0 {
		return 0
	}
	return float64(u.Bytes) / float64(u.Budget)
}

// Storage statuses on /healthz.
const (
	storageOK   = "ok"
	storageNear = "near_budget" // from 80 % of the budget
	storageOver = "over_budget"
)

func (u StorageUsage) status() string {
	switch s := u.share(); {
	case s >= 1:
		return storageOver
	case s >= StorageWarnAt:
		return storageNear
	}
	return storageOK
}

// storageJSON is the database's size on /healthz.
type storageJSON struct {
	Bytes       int64    `json:"bytes"`
	BudgetBytes int64    `json:"budget_bytes,omitempty"`
	Percent     *float64 `json:"percent,omitempty"`
	Status      string   `json:"status"`
	Message     string   `json:"message,omitempty"`
	ReadAt      string   `json:"read_at"`
}

func storageHealth(u StorageUsage) *storageJSON {
	if !u.Known {
		return nil
	}
	j := &storageJSON{Bytes: u.Bytes, BudgetBytes: u.Budget, Status: u.status(), ReadAt: rfc3339(u.At)}
	if u.Budget > 0 {
		p := math.Round(u.share()*1000) / 10
		j.Percent = &p
	}
	if j.Status != storageOK {
		j.Message = storageSentence(u)
	}
	return j
}

// storageSentence is the warning as /healthz and the board say it:
// "database 850 MB of its 1 GB budget (85 %) — …".
func storageSentence(u StorageUsage) string {
	what, effect := storageWords(u)
	return "database " + what + " — " + effect
}

// storageWords are how full the database is, "850 MB of its 1 GB budget
// (85 %)", and what Walnut does about it.
func storageWords(u StorageUsage) (what, effect string) {
	what = fmt.Sprintf("%s of its %s budget (%d %%)", FormatBytes(u.Bytes), FormatBytes(u.Budget), int(math.Floor(u.share()*100)))
	switch {
	case !u.Trimming:
		return what, "a larger plan, fewer sites or a shorter WALNUT_RAW_RETENTION is needed"
	case u.status() == storageOver:
		return what, "the oldest probes are being dropped to get back under it"
	}
	return what, "past it, the oldest probes are dropped"
}

// storageAlert is the footer's line for a database near or over its budget;
// nil when there is nothing to say.
func storageAlert(u StorageUsage) *views.AlertView {
	if u.status() == storageOK {
		return nil
	}
	what, effect := storageWords(u)
	return &views.AlertView{Sink: "database", Name: "Database", Status: u.status(), Detail: what, Effect: effect}
}

// FormatBytes is a size in decimal units, as hosts sell plans: "850 MB",
// "1 GB", "1.5 GB".
func FormatBytes(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	v, i := float64(n), 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	switch {
	case i == 0 || v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f %s", v, units[i])
	case v >= 10:
		return fmt.Sprintf("%.0f %s", math.Round(v), units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
