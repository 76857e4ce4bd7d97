// Command bench is Walnut's scale harness: it starts a throwaway PostgreSQL
// (store/pglocal), a fake upstream on 127.0.0.1 with many paths and a
// configurable delay, and the walnut binary serving N sites, lets it run, and
// prints what it measured against the targets of issue 9:
//
//	go run ./bench -runs 100@10s,1000@10s -duration 2m
//	go run ./bench -runs 10000@10s -duration 3m -pprof
//	go run ./bench -history -sites 100 -interval 30s -days 90   (history.go)
//
// Each run gets a fresh cluster, a fresh walnut process and its own upstream
// ports. Nothing leaves 127.0.0.1, every loop is bounded, and the harness
// stops everything it started before it exits. It is a program, not a test:
// `go test ./...` never runs it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/walnut-board/walnut/store/dbstat"
	"github.com/walnut-board/walnut/store/pglocal"
)

func main() {
	var (
		runsFlag  = flag.String("runs", "100@10s,1000@10s", "comma-separated runs, each N@INTERVAL (sites at that interval)")
		duration  = flag.Duration("duration", 2*time.Minute, "measurement window per run, after a warm-up of one interval plus 5s")
		delay     = flag.Duration("delay", 20*time.Millisecond, "fake upstream's response delay (each response waits delay ± jitter)")
		jitter    = flag.Duration("jitter", 10*time.Millisecond, "random spread added to the delay, uniform in [-jitter, +jitter]")
		ports     = flag.Int("ports", 8, "listening ports of the fake upstream; sites are spread over them")
		timeout   = flag.Duration("timeout", 5*time.Second, "site timeout in the generated config")
		requests  = flag.Int("requests", 200, "sequential GETs of / and of /api/v1/sites per run (each loop also stops after 60s or a quarter of the window)")
		ephemeral = flag.Bool("ephemeral", false, "PostgreSQL without fsync (pglocal's test mode); default is fsync on, as in production")
		binary    = flag.String("walnut", "", "walnut binary to run; empty: go build ./cmd/walnut from the current directory")
		pprofOn   = flag.Bool("pprof", false, "set WALNUT_PPROF and save a 30s CPU profile and a heap profile of each run to -out")
		outDir    = flag.String("out", filepath.Join(os.TempDir(), "walnut-bench"), "where the walnut binary, its logs and profiles go")
		keep      = flag.Bool("keep", false, "keep the cluster directory of each run")
		logLevel  = flag.String("loglevel", "warn", "WALNUT_LOG_LEVEL for walnut serve; its log goes to -out")
	)
	hist := historyFlags(flag.CommandLine)
	flag.Parse()
	if hist.on {
		os.Exit(runHistory(hist, *ephemeral, *keep))
	}
	runs, err := parseRuns(*runsFlag)
	if err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		fatal(err)
	}
	bin := *binary
	if bin == "" {
		bin = filepath.Join(*outDir, "walnut")
		fmt.Fprintln(os.Stderr, "bench: building", bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/walnut")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fatal(fmt.Errorf("build walnut: %w", err))
		}
	}
	bin, _ = filepath.Abs(bin)

	cfg := config{
		duration: *duration, delay: *delay, jitter: *jitter, ports: *ports, timeout: *timeout,
		requests: *requests, ephemeral: *ephemeral, logLevel: *logLevel, binary: bin, pprof: *pprofOn, outDir: *outDir, keep: *keep,
	}
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
			os.Exit(1)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

type runSpec struct {
	n        int
	interval time.Duration
}

func parseRuns(s string) ([]runSpec, error) {
	var runs []runSpec
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		nStr, ivStr, ok := strings.Cut(part, "@")
		if !ok {
			ivStr = "10s"
		}
		n, err := strconv.Atoi(nStr)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("run %q: N must be a positive number", part)
		}
		iv, err := time.ParseDuration(ivStr)
		if err != nil || iv < time.Second {
			return nil, fmt.Errorf("run %q: interval must be a duration of at least 1s", part)
		}
		runs = append(runs, runSpec{n, iv})
	}
	if len(runs) == 0 {
		return nil, errors.New("no runs given")
	}
	return runs, nil
}

type config struct {
	duration, delay, jitter, timeout time.Duration
	ports, requests                  int
	ephemeral, pprof, keep           bool
	binary, outDir, logLevel         string
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
	// of a durable database.
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

	// The fake upstream.
	up, err := startUpstream(cfg)
	if err != nil {
		return res, err
	}
	defer up.close()

	// The config.
	confPath := filepath.Join(tmp, "walnut.yaml")
	if err := writeConfig(confPath, spec, cfg.timeout, up.addrs); err != nil {
		return res, err
	}

	// Walnut.
	port, err := freePort()
	if err != nil {
		return res, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	logPath := filepath.Join(cfg.outDir, fmt.Sprintf("walnut-%d.log", spec.n))
	logFile, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer logFile.Close()
	cmd := exec.Command(cfg.binary, "serve", "--config", confPath)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "PORT="+strconv.Itoa(port), "WALNUT_LOG_LEVEL="+cfg.logLevel,
		"WALNUT_PASSWORD=", "WALNUT_KIOSK_TOKEN=")
	var pprofAddr string
	if cfg.pprof {
		pp, err := freePort()
		if err != nil {
			return res, err
		}
		pprofAddr = fmt.Sprintf("127.0.0.1:%d", pp)
		cmd.Env = append(cmd.Env, "WALNUT_PPROF="+pprofAddr)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return res, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stopProcess(cmd, exited)
	pid := cmd.Process.Pid

	client := &http.Client{Timeout: 30 * time.Second}
	if err := waitHealthy(ctx, client, base, exited, 90*time.Second); err != nil {
		return res, fmt.Errorf("walnut did not come up (log in %s): %w", logPath, err)
	}

	// Warm-up: every runner has made its first probe after one interval.
	warm := spec.interval + 5*time.Second
	if !sleep(ctx, warm) {
		return res, ctx.Err()
	}

	pgPID := postmasterPID(filepath.Join(tmp, "pg", "data"))
	winStart := time.Now()
	cpu0 := procCPU(pid)
	pgCPU0 := treeCPU(pgPID)
	served0 := up.served.Load()
	dbSize0 := dbSize(ctx, db)

	// In the second half of the window: the board and the API, sequentially,
	// while probing goes on, so their cost shows in the lateness too.
	half := cfg.duration / 2
	var profErr error
	profDone := make(chan struct{})
	go func() {
		defer close(profDone)
		if cfg.pprof && cfg.duration >= 40*time.Second {
			if !sleep(ctx, 5*time.Second) {
				return
			}
			secs := min(30, int(half.Seconds())-5)
			profErr = fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs),
				filepath.Join(cfg.outDir, fmt.Sprintf("cpu-%d.pprof", spec.n)), time.Duration(secs+30)*time.Second)
		}
	}()
	// The writer's backlog, every 5s through the window.
	// Scraped again if the first try fails: a missing start would count
	// the batches since Walnut started.
	var batch0 map[string]float64
	for range 3 {
		batch0 = scrapeMetrics(ctx, client, base, "walnut_writer_batch_duration_seconds_sum", "walnut_writer_batch_duration_seconds_count", "walnut_writer_written_total")
		if len(batch0) == 3 {
			break
		}
	}
	samplerDone := make(chan struct{})
	var maxQueue atomic.Int64
	go func() {
		defer close(samplerDone)
		for sleep(ctx, 5*time.Second) && time.Now().Before(winStart.Add(cfg.duration)) {
			q := scrapeMetrics(ctx, client, base, "walnut_writer_queue_depth")["walnut_writer_queue_depth"]
			if int64(q) > maxQueue.Load() {
				maxQueue.Store(int64(q))
			}
		}
	}()
	if !sleep(ctx, half) {
		return res, ctx.Err()
	}
	res.cpuQuiet = procCPU(pid) - cpu0
	// Each loop gets at most a quarter of the window, so that both end
	// within it and the window's figures cover exactly its length.
	getLimit := min(60*time.Second, cfg.duration/4)
	res.boardP95, res.boardN, res.boardBytes = timeGets(ctx, client, base+"/", cfg.requests, getLimit)
	res.apiP95, res.apiN, _ = timeGets(ctx, client, base+"/api/v1/sites", cfg.requests, getLimit)
	if rest := time.Until(winStart.Add(cfg.duration)); rest > 0 && !sleep(ctx, rest) {
		return res, ctx.Err()
	}
	winEnd := winStart.Add(cfg.duration)
	if over := time.Since(winEnd); over > time.Second {
		// A request in flight when its loop's time ran out.
		fmt.Fprintf(os.Stderr, "bench: the window's CPU, RSS and upstream figures were read %.0fs after its end\n", over.Seconds())
	}
	cpu1 := procCPU(pid)
	pgCPU1 := treeCPU(pgPID)
	res.served = up.served.Load() - served0
	res.peakRSS, res.endRSS = procRSS(pid)
	res.cpu = cpu1 - cpu0
	res.pgCPU = pgCPU1 - pgCPU0
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.load1 = strings.Fields(string(b))[0]
	}
	<-profDone
	if profErr != nil {
		fmt.Fprintln(os.Stderr, "bench: cpu profile:", profErr)
	}
	if cfg.pprof {
		if err := fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/heap", pprofAddr), filepath.Join(cfg.outDir, fmt.Sprintf("heap-%d.pprof", spec.n)), 30*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "bench: heap profile:", err)
		}
	}
	<-samplerDone
	m := scrapeMetrics(ctx, client, base, "walnut_writer_dropped_total", "walnut_writer_queue_depth",
		"walnut_writer_batch_duration_seconds_sum", "walnut_writer_batch_duration_seconds_count", "walnut_writer_written_total",
		"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_goroutines")
	res.heapInuse, res.stackInuse = m["go_memstats_heap_inuse_bytes"], m["go_memstats_stack_inuse_bytes"]
	res.goSys, res.goroutines = m["go_memstats_sys_bytes"], m["go_goroutines"]
	res.dropped = m["walnut_writer_dropped_total"]
	res.queueEnd = int(m["walnut_writer_queue_depth"])
	res.queueMax = max(int(maxQueue.Load()), res.queueEnd)
	if n := m["walnut_writer_batch_duration_seconds_count"] - batch0["walnut_writer_batch_duration_seconds_count"]; n > 0 {
		res.batchMean = (m["walnut_writer_batch_duration_seconds_sum"] - batch0["walnut_writer_batch_duration_seconds_sum"]) / n
		res.batches = int(n)
		res.batchProbes = (m["walnut_writer_written_total"] - batch0["walnut_writer_written_total"]) / n
	}

	// Let the writer flush what was probed in the window: it flushes every
	// 250ms, a backlog takes longer. Wait until its queue holds no more than
	// a second of probes (those are newer than the window), at most 2
	// minutes, then read the probes back.
	caughtUp := max(10, float64(spec.n)/spec.interval.Seconds())
	drainStart := time.Now()
	for time.Since(drainStart) < 2*time.Minute && sleep(ctx, time.Second) {
		if q, ok := scrapeMetrics(ctx, client, base, "walnut_writer_queue_depth")["walnut_writer_queue_depth"]; ok && q <= caughtUp {
			break
		}
	}
	res.drain = time.Since(drainStart)
	sleep(ctx, time.Second) // the batch in flight
	if err := measureProbes(ctx, db, spec, winStart, winEnd, &res); err != nil {
		return res, err
	}
	if err := measureSize(ctx, db, &res); err != nil {
		return res, err
	}
	if dbSize0 > 0 && res.written > 0 {
		res.dbGrowth = float64(dbSize(ctx, db)-dbSize0) / float64(res.written)
	}
	return res, nil
}

// measureProbes reads the probes back and compares them with the schedule.
//
// A site's probes are due at its phase of the wall clock: phase =
// fnv64a(slug) mod interval past every multiple of the interval since the
// Unix epoch (checker's staggerDelay). A probe's lateness is its at (stamped
// when the probe begins, before the request) minus its due time. Every due
// time in the window without a probe counts as missed, and a missed probe is
// not on time.
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
		first := time.Unix(0, 0).Add(phase(slug, iv))
		// Due times in [winStart, winEnd).
		k0 := int(math.Ceil(float64(winStart.Sub(first)) / float64(iv)))
		k1 := int(math.Ceil(float64(winEnd.Sub(first))/float64(iv))) - 1
		k0 = max(k0, 0)
		if k1 < k0 {
			continue
		}
		res.expected += k1 - k0 + 1
		seen := map[int]bool{}
		for _, p := range bySite[slug] {
			k := int(math.Floor(float64(p.At.Sub(first)+iv/2) / float64(iv)))
			if k < k0 || k > k1 || seen[k] {
				continue
			}
			seen[k] = true
			l := p.At.Sub(first.Add(time.Duration(k) * iv)).Seconds()
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

// phase is checker's sitePhase: fnv64a of the slug modulo the interval.
func phase(slug string, iv time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(slug))
	return time.Duration(h.Sum64() % uint64(iv))
}

func siteSlug(i int) string { return fmt.Sprintf("s%05d", i) }

func writeConfig(path string, spec runSpec, timeout time.Duration, addrs []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# generated by bench: %d sites every %s\ndefaults:\n  interval: %s\n  timeout: %s\nsites:\n",
		spec.n, spec.interval, spec.interval, min(timeout, spec.interval))
	for i := range spec.n {
		fmt.Fprintf(&b, "  - name: Site %d\n    slug: %s\n    group: g%d\n    url: http://%s/s/%d\n",
			i, siteSlug(i), i%20, addrs[i%len(addrs)], i)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// upstream is the fake upstream: one handler on several ports.
type upstream struct {
	addrs   []string
	servers []*http.Server
	served  atomic.Int64
}

func startUpstream(cfg config) (*upstream, error) {
	up := &upstream{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := cfg.delay
		if cfg.jitter > 0 {
			d += time.Duration(randInt(int64(2*cfg.jitter))) - cfg.jitter
		}
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok "+r.URL.Path+"\n")
		up.served.Add(1)
	})
	for range max(cfg.ports, 1) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			up.close()
			return nil, err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		up.addrs = append(up.addrs, ln.Addr().String())
		up.servers = append(up.servers, srv)
		go srv.Serve(ln)
	}
	return up, nil
}

func (u *upstream) close() {
	for _, s := range u.servers {
		s.Close()
	}
}

var rng struct {
	sync.Mutex
	x uint64
}

// randInt is a small xorshift, enough for jitter.
func randInt(n int64) int64 {
	if n <= 0 {
		return 0
	}
	rng.Lock()
	defer rng.Unlock()
	if rng.x == 0 {
		rng.x = uint64(time.Now().UnixNano()) | 1
	}
	rng.x ^= rng.x << 13
	rng.x ^= rng.x >> 7
	rng.x ^= rng.x << 17
	return int64(rng.x % uint64(n))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitHealthy(ctx context.Context, client *http.Client, base string, exited chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("walnut exited: %v", err)
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
	return errors.New("no healthy /healthz within " + limit.String())
}

// stopProcess sends SIGTERM and waits up to 20s, then kills.
func stopProcess(cmd *exec.Cmd, exited chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

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

func fetchTo(ctx context.Context, url, path string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
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

// procCPU is a process's user plus system CPU seconds, from /proc/PID/stat.
func procCPU(pid int) float64 {
	f := statFields(pid)
	if len(f) < 17 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[13], 64)
	s, _ := strconv.ParseFloat(f[14], 64)
	return (u + s) / clockTicks
}

// treeCPU is the CPU seconds of a process and its live children plus those
// of children it has reaped: PostgreSQL's postmaster and its backends.
func treeCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	f := statFields(pid)
	if len(f) < 17 {
		return 0
	}
	var total float64
	for _, i := range []int{13, 14, 15, 16} {
		v, _ := strconv.ParseFloat(f[i], 64)
		total += v
	}
	total /= clockTicks
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cf := statFields(child)
		if len(cf) > 3 && cf[3] == strconv.Itoa(pid) {
			total += procCPU(child)
		}
	}
	return total
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// statFields splits /proc/PID/stat after the command name, keeping field
// numbers as in proc(5) minus one.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return append([]string{"pid", "comm"}, strings.Fields(s[i+1:])...)
}

// procRSS returns VmHWM (peak) and VmRSS in bytes.
func procRSS(pid int) (peak, now int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(fs[0], 10, 64)
		switch k {
		case "VmHWM":
			peak = kb << 10
		case "VmRSS":
			now = kb << 10
		}
	}
	return peak, now
}

func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

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
