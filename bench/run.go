package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/walnut-board/walnut/store/dbstat"
	"github.com/walnut-board/walnut/store/pglocal"
)

// runAll makes the runs one after another, printing each row to stderr as it
// ends and the whole table to stdout at the end; it reports whether every
// run succeeded.
func runAll(ctx context.Context, cfg config, runs []runSpec) bool {
	var results []result
	for _, r := range runs {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "bench: run N=%d interval=%s duration=%s (started %s)\n", r.n, r.interval, cfg.duration, time.Now().UTC().Format("15:04:05"))
		res, err := runOne(ctx, cfg, r)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: run N=%d: %v\n", r.n, err)
			res.err = err
		}
		results = append(results, res)
		printTable(os.Stderr, cfg, results[len(results)-1:]) // progress
	}
	fmt.Println()
	printTable(os.Stdout, cfg, results)
	for _, r := range results {
		if r.err != nil {
			return false
		}
	}
	return true
}

// result is what one run measured.
type result struct {
	run    runSpec
	err    error
	window time.Duration

	expected, written                        int     // probes in the window: by schedule, and found in the database
	served                                   int64   // requests the fake upstream answered in the window
	onTime                                   int     // probes that started within 1s of their scheduled time
	lateP50, lateP99                         float64 // seconds
	lateMax                                  float64
	missed                                   int     // scheduled ticks with no probe
	peakRSS, endRSS                          int64   // bytes, walnut
	cpu                                      float64 // walnut CPU seconds in the window
	cpuQuiet                                 float64 // walnut CPU seconds in the window's first half, before the board and API requests
	pgCPU                                    float64 // PostgreSQL CPU seconds in the window (all its processes)
	probeBytes, dbGrowth                     float64 // bytes per probe
	boardP95, apiP95                         float64 // seconds
	boardN, apiN                             int
	boardBytes                               int
	dropped                                  float64
	queueMax, queueEnd                       int     // the writer's backlog: highest seen in the window, at its end
	batchMean                                float64 // mean seconds per batch written in the window
	batches                                  int
	batchProbes                              float64       // probes written per batch in the window
	drain                                    time.Duration // how long the backlog took to empty after the window
	heapInuse, stackInuse, goSys, goroutines float64       // Go's memory at the window's end
	notOK                                    int
	load1                                    string // load average at the end of the window
}

// runOne starts a cluster, the fake upstream and walnut serving spec.n
// sites, waits out the warm-up, measures one window and reads the probes
// back; it stops all it started before it returns.
func runOne(ctx context.Context, cfg config, spec runSpec) (res result, err error) {
	res.run, res.window = spec, cfg.duration
	tmp, err := os.MkdirTemp("", "wb")
	if err != nil {
		return res, err
	}
	// PostgreSQL runs as the postgres user when we are root: it must be able
	// to reach its directory.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return res, err
	}
	defer func() {
		if !cfg.keep {
			os.RemoveAll(tmp)
		}
	}()

	// PostgreSQL: fsync on unless -ephemeral, so that the figures are those
	// of a durable database. An interrupt must not kill it under walnut:
	// it is stopped in order, after walnut, by cluster.Stop.
	pgctx, pgcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pgcancel()
	cluster, err := pglocal.Start(pgctx, pglocal.Options{Dir: filepath.Join(tmp, "pg"), Ephemeral: cfg.ephemeral})
	if err != nil {
		return res, err
	}
	defer cluster.Stop()
	if err := cluster.CreateDatabase(ctx, "walnut"); err != nil {
		return res, err
	}
	dbURL := cluster.URL("walnut")
	db, err := dbstat.Open(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer db.Close()

	up, err := startUpstream(cfg)
	if err != nil {
		return res, err
	}
	defer up.close()
	confPath := filepath.Join(tmp, "walnut.yaml")
	if err := writeConfig(confPath, spec, cfg.timeout, up.addrs); err != nil {
		return res, err
	}

	w, err := startWalnut(ctx, cfg, spec.n, confPath, dbURL)
	if err != nil {
		return res, err
	}
	defer w.stop()

	// Warm-up: every runner has made its first probe after one interval.
	if !sleep(ctx, spec.interval+5*time.Second) {
		return res, ctx.Err()
	}
	m := &meter{cfg: cfg, spec: spec, w: w, up: up, db: db, pgPID: postmasterPID(filepath.Join(tmp, "pg", "data"))}
	return res, m.measure(ctx, &res)
}

// sleep waits d, or less if ctx ends first; it reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
