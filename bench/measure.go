package main

import (
	"bufio"
	"context"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/store/dbstat"
)

// measureProbes reads the probes back and compares them with the schedule.
//
// A site's probes are due at its phase of the wall clock, as the checker
// places them (checker.NextDue). A probe's lateness is its at (stamped when
// the probe begins, before the request) minus the nearest due time. Every
// due time in the window without a probe counts as missed, and a missed
// probe is not on time.
func measureProbes(ctx context.Context, db *dbstat.DB, spec runSpec, winStart, winEnd time.Time, res *result) error {
	probes, err := db.Probes(ctx)
	if err != nil {
		return err
	}
	bySite := map[string][]dbstat.Probe{}
	for _, p := range probes {
		bySite[p.Slug] = append(bySite[p.Slug], p)
	}
	iv := spec.interval
	var late []float64
	for i := range spec.n {
		slug := siteSlug(i)
		for due := checker.NextDue(slug, iv, winStart); due.Before(winEnd); due = due.Add(iv) {
			res.expected++
		}
		seen := map[int64]bool{}
		for _, p := range bySite[slug] {
			due := checker.NextDue(slug, iv, p.At.Add(-iv/2))
			if due.Before(winStart) || !due.Before(winEnd) || seen[due.UnixNano()] {
				continue
			}
			seen[due.UnixNano()] = true
			l := p.At.Sub(due).Seconds()
			late = append(late, l)
			res.written++
			if !p.OK {
				res.notOK++
			}
			if l <= 1 {
				res.onTime++
			}
		}
	}
	res.missed = res.expected - res.written
	if len(late) > 0 {
		slices.Sort(late)
		res.lateP50 = quantile(late, 0.50)
		res.lateP99 = quantile(late, 0.99)
		res.lateMax = late[len(late)-1]
	}
	return nil
}

// measureSize divides the size of the probes' partitions (heap, index and
// TOAST) by their rows.
func measureSize(ctx context.Context, db *dbstat.DB, res *result) error {
	bytes, rows, err := db.ProbeBytes(ctx)
	if err != nil {
		return err
	}
	if rows > 0 {
		res.probeBytes = float64(bytes) / float64(rows)
	}
	return nil
}

// dbSize is the database's size, 0 when it cannot be read: the growth it
// measures is then left out.
func dbSize(ctx context.Context, db *dbstat.DB) int64 {
	n, _ := db.Size(ctx)
	return n
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// timeGets makes up to n sequential GETs of url, stopping after limit, and
// returns the p95 latency in seconds (of complete 200 responses), how many
// were made and the size of the last body.
func timeGets(ctx context.Context, client *http.Client, url string, n int, limit time.Duration) (p95 float64, count, size int) {
	var ds []float64
	deadline := time.Now().Add(limit)
	for range n {
		if ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
		t := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		ds = append(ds, time.Since(t).Seconds())
		size = len(b)
	}
	slices.Sort(ds)
	return quantile(ds, 0.95), len(ds), size
}

// scrapeMetrics reads samples from /metrics, summing a metric's labelled
// series; a name not found is missing from the map.
func scrapeMetrics(ctx context.Context, client *http.Client, base string, names ...string) map[string]float64 {
	out := map[string]float64{}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := client.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:max(strings.IndexAny(line, "{ "), 0)]
		if !slices.Contains(names, name) {
			continue
		}
		fs := strings.Fields(line)
		v, err := strconv.ParseFloat(fs[len(fs)-1], 64)
		if err == nil {
			out[name] += v // labelled series are summed
		}
	}
	return out
}
