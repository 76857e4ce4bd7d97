package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/walnut-board/walnut/store/dbstat"
)

// meter measures one run's window once walnut has warmed up.
type meter struct {
	cfg   config
	spec  runSpec
	w     *walnutProc
	up    *upstream
	db    *dbstat.DB
	pgPID int
}

// windowStart holds the cumulative figures read as the window opens, the
// window's figures being what they grew by.
type windowStart struct {
	at     time.Time
	cpu    float64 // walnut's CPU seconds
	pgCPU  float64 // PostgreSQL's CPU seconds
	served int64   // requests the upstream answered
	dbSize int64   // bytes
	writer map[string]float64
}

// writerCounters are the writer's metrics read at both ends of the window,
// to tell its batches in the window.
var writerCounters = []string{"walnut_writer_batch_duration_seconds_sum", "walnut_writer_batch_duration_seconds_count", "walnut_writer_written_total"}

// measure measures the window: probing alone in its first half, beside
// sequential GETs of the board and the API in its second, so their cost
// shows in the lateness too; then it lets the writer catch up and reads the
// probes back.
func (m *meter) measure(ctx context.Context, res *result) error {
	start := m.open(ctx)
	winEnd := start.at.Add(m.cfg.duration)
	profDone := m.cpuProfile(ctx)
	queueMax, samplerDone := m.sampleQueue(ctx, winEnd)
	if err := m.load(ctx, start, res); err != nil {
		return err
	}
	m.close(start, winEnd, res)
	if err := <-profDone; err != nil {
		fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
	}
	m.heapProfile(ctx)
	<-samplerDone
	m.readWriter(ctx, start.writer, int(queueMax.Load()), res)
	m.waitDrain(ctx, res)
	return m.readBack(ctx, start, winEnd, res)
}

func (m *meter) open(ctx context.Context) windowStart {
	s := windowStart{at: time.Now(), cpu: procCPU(m.w.pid), pgCPU: treeCPU(m.pgPID), served: m.up.served.Load(), dbSize: dbSize(ctx, m.db)}
	// Scraped again if the first try fails: a missing start would count
	// the batches since Walnut started.
	for range 3 {
		s.writer = scrapeMetrics(ctx, m.w.client, m.w.base, writerCounters...)
		if len(s.writer) == len(writerCounters) {
			break
		}
	}
	return s
}

// sampleQueue reads the writer's backlog every 5s until the window ends,
// keeping the highest; done closes when it stops.
func (m *meter) sampleQueue(ctx context.Context, winEnd time.Time) (highest *atomic.Int64, done <-chan struct{}) {
	highest = new(atomic.Int64)
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for sleep(ctx, 5*time.Second) && time.Now().Before(winEnd) {
			q := scrapeMetrics(ctx, m.w.client, m.w.base, "walnut_writer_queue_depth")["walnut_writer_queue_depth"]
			if int64(q) > highest.Load() {
				highest.Store(int64(q))
			}
		}
	}()
	return highest, ch
}

// load waits out the window's first half, then times the board's and the
// API's GETs and waits out the rest of it.
func (m *meter) load(ctx context.Context, start windowStart, res *result) error {
	if !sleep(ctx, m.cfg.duration/2) {
		return ctx.Err()
	}
	res.cpuQuiet = procCPU(m.w.pid) - start.cpu
	// Each loop gets at most a quarter of the window, so that both end
	// within it and the window's figures cover exactly its length.
	getLimit := min(60*time.Second, m.cfg.duration/4)
	res.boardP95, res.boardN, res.boardBytes = timeGets(ctx, m.w.client, m.w.base+"/", m.cfg.requests, getLimit)
	res.apiP95, res.apiN, _ = timeGets(ctx, m.w.client, m.w.base+"/api/v1/sites", m.cfg.requests, getLimit)
	if rest := time.Until(start.at.Add(m.cfg.duration)); rest > 0 && !sleep(ctx, rest) {
		return ctx.Err()
	}
	return nil
}

// close reads walnut's and PostgreSQL's CPU, walnut's memory, the upstream's
// count and the load as the window ends.
func (m *meter) close(start windowStart, winEnd time.Time, res *result) {
	if over := time.Since(winEnd); over > time.Second {
		// A request in flight when its loop's time ran out.
		fmt.Fprintf(os.Stderr, "bench: the window's CPU, RSS and upstream figures were read %.0fs after its end\n", over.Seconds())
	}
	cpu1 := procCPU(m.w.pid)
	pgCPU1 := treeCPU(m.pgPID)
	res.served = m.up.served.Load() - start.served
	res.peakRSS, res.endRSS = procRSS(m.w.pid)
	res.cpu = cpu1 - start.cpu
	res.pgCPU = pgCPU1 - start.pgCPU
	res.load1 = loadAvg1()
}

// readWriter reads the writer's figures for the window from /metrics: its
// batches since writer0, its backlog, what it dropped, and Go's memory.
func (m *meter) readWriter(ctx context.Context, writer0 map[string]float64, queueMax int, res *result) {
	names := append([]string{"walnut_writer_dropped_total", "walnut_writer_queue_depth"}, writerCounters...)
	names = append(names, "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_goroutines")
	mt := scrapeMetrics(ctx, m.w.client, m.w.base, names...)
	res.heapInuse, res.stackInuse = mt["go_memstats_heap_inuse_bytes"], mt["go_memstats_stack_inuse_bytes"]
	res.goSys, res.goroutines = mt["go_memstats_sys_bytes"], mt["go_goroutines"]
	res.dropped = mt["walnut_writer_dropped_total"]
	res.queueEnd = int(mt["walnut_writer_queue_depth"])
	res.queueMax = max(queueMax, res.queueEnd)
	if n := mt["walnut_writer_batch_duration_seconds_count"] - writer0["walnut_writer_batch_duration_seconds_count"]; n > 0 {
		res.batchMean = (mt["walnut_writer_batch_duration_seconds_sum"] - writer0["walnut_writer_batch_duration_seconds_sum"]) / n
		res.batches = int(n)
		res.batchProbes = (mt["walnut_writer_written_total"] - writer0["walnut_writer_written_total"]) / n
	}
}

// waitDrain lets the writer flush what was probed in the window: it flushes
// every 250ms, a backlog takes longer. It waits until the writer's queue
// holds no more than a second of probes (those are newer than the window),
// at most 2 minutes.
func (m *meter) waitDrain(ctx context.Context, res *result) {
	caughtUp := max(10, float64(m.spec.n)/m.spec.interval.Seconds())
	drainStart := time.Now()
	for time.Since(drainStart) < 2*time.Minute && sleep(ctx, time.Second) {
		if q, ok := scrapeMetrics(ctx, m.w.client, m.w.base, "walnut_writer_queue_depth")["walnut_writer_queue_depth"]; ok && q <= caughtUp {
			break
		}
	}
	res.drain = time.Since(drainStart)
	sleep(ctx, time.Second) // the batch in flight
}

// readBack reads the probes of the window and their size from the database.
func (m *meter) readBack(ctx context.Context, start windowStart, winEnd time.Time, res *result) error {
	if err := measureProbes(ctx, m.db, m.spec, start.at, winEnd, res); err != nil {
		return err
	}
	if err := measureSize(ctx, m.db, res); err != nil {
		return err
	}
	if start.dbSize > 0 && res.written > 0 {
		res.dbGrowth = float64(dbSize(ctx, m.db)-start.dbSize) / float64(res.written)
	}
	return nil
}
