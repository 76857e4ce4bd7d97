package main

import (
	"fmt"
	"io"
	"math"
	"time"
)

// printTable prints one row per run, with the targets of issue 9 beside the
// figures they apply to.
func printTable(w io.Writer, cfg config, results []result) {
	fmt.Fprintf(w, "Walnut scale run, %s UTC; window %s after warm-up; upstream delay %s±%s on %d ports; PostgreSQL fsync %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04"), cfg.duration, cfg.delay, cfg.jitter, cfg.ports, map[bool]string{true: "off", false: "on"}[cfg.ephemeral])
	fmt.Fprintln(w, "| sites @ interval | probes/s written (of scheduled) | started ≤1s late | lateness p50 / p99 / max | missed | peak RSS (end) | Walnut CPU s / 1,000 probes: probing only; whole window (cores) | PostgreSQL CPU cores | bytes/probe (db growth) | `/` p95 (n, size) | `/api/v1/sites` p95 (n) | load |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		if r.err != nil && r.expected == 0 {
			fmt.Fprintf(w, "| %d @ %s | failed: %v |||||||||||\n", r.run.n, r.run.interval, r.err)
			continue
		}
		secs := cfg.duration.Seconds()
		pct := 0.0
		if r.expected > 0 {
			pct = 100 * float64(r.onTime) / float64(r.expected)
		}
		perK, quietK := 0.0, 0.0
		if r.written > 0 {
			perK = r.cpu / (float64(r.written) / 1000)
			quietK = r.cpuQuiet / (float64(r.written) / 2000)
		}
		fmt.Fprintf(w, "| %d @ %s | %.1f of %.1f (%.2f%%) | %.2f%%%s | %s / %s / %s | %d | %s (%s)%s | %.2f; %.2f (%.2f%s) | %.2f | %.0f (%.0f) | %s (%d, %s) | %s (%d) | %s |\n",
			r.run.n, r.run.interval,
			float64(r.written)/secs, float64(r.expected)/secs, 100*float64(r.written)/math.Max(float64(r.expected), 1),
			pct, target(r, "late"),
			ms(r.lateP50), ms(r.lateP99), ms(r.lateMax), r.missed,
			mib(r.peakRSS), mib(r.endRSS), target(r, "rss"),
			quietK, perK, r.cpu/secs, target(r, "cpu"), r.pgCPU/secs,
			r.probeBytes, r.dbGrowth,
			ms(r.boardP95), r.boardN, kib(r.boardBytes), ms(r.apiP95), r.apiN, r.load1)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets (issue 9): 10,000 sites @ 10s: ≥99.5% of probes start ≤1s late, RSS ≤300 MB, Walnut leaves a core free (CPU cores < 1);")
	fmt.Fprintln(w, "500 sites @ 30s: RSS <100 MB. ✓/✗ marks a figure against the target that applies to its row.")
	for _, r := range results {
		if r.batches > 0 {
			fmt.Fprintf(w, "N=%d: writer: %d batches in the window, %.0f ms each on average, %.0f probes a batch; backlog up to %d probes, %d at the end, caught up %.0fs after\n",
				r.run.n, r.batches, r.batchMean*1000, r.batchProbes, r.queueMax, r.queueEnd, r.drain.Seconds())
		}
		if r.goSys > 0 {
			fmt.Fprintf(w, "N=%d: memory at the end of the window: heap in use %s, stacks %s, Go runtime total %s, %.0f goroutines\n",
				r.run.n, mib(int64(r.heapInuse)), mib(int64(r.stackInuse)), mib(int64(r.goSys)), r.goroutines)
		}
		if r.dropped > 0 {
			fmt.Fprintf(w, "N=%d: the writer dropped %.0f probes\n", r.run.n, r.dropped)
		}
		if r.notOK > 0 {
			fmt.Fprintf(w, "N=%d: %d probes in the window were notok (the fake upstream answers 200: these are Walnut-side timeouts or errors)\n", r.run.n, r.notOK)
		}
		if d := r.served - int64(r.written); r.written > 0 && (d > int64(r.written)/50 || d < -int64(r.written)/50) {
			fmt.Fprintf(w, "N=%d: the upstream answered %d requests in the window, %d probes were written\n", r.run.n, r.served, r.written)
		}
	}
}

// target marks a figure against the targets where they apply: the
// lateness and RSS of 10,000 sites at 10s, the RSS of up to 500 sites at 30s.
func target(r result, what string) string {
	switch what {
	case "late":
		if r.run.n >= 10000 && r.run.interval <= 10*time.Second {
			return mark(r.expected > 0 && float64(r.onTime) >= 0.995*float64(r.expected))
		}
	case "cpu":
		if r.run.n >= 10000 && r.run.interval <= 10*time.Second {
			return mark(r.cpu < r.window.Seconds())
		}
	case "rss":
		if r.run.n >= 10000 && r.run.interval <= 10*time.Second {
			return mark(r.peakRSS <= 300<<20)
		}
		if r.run.n <= 500 && r.run.interval >= 30*time.Second {
			return mark(r.peakRSS < 100<<20)
		}
	}
	return ""
}

func mark(ok bool) string {
	if ok {
		return " ✓"
	}
	return " ✗"
}

func ms(s float64) string {
	switch {
	case s >= 10:
		return fmt.Sprintf("%.1fs", s)
	case s >= 0.01:
		return fmt.Sprintf("%.0fms", s*1000)
	}
	return fmt.Sprintf("%.1fms", s*1000)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func kib(b int) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
}
