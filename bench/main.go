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
//
// The files: main.go reads the flags; run.go drives one run (cluster,
// upstream.go's fake upstream, walnut.go's process); window.go measures its
// window, with proc.go reading /proc and measure.go reading the probes back;
// report.go prints the table; profile.go fetches pprof profiles.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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
		pprofOn   = flag.Bool("pprof", false, "set WALNUT_PPROF and save a 30s CPU profile and a heap profile (binary and text) of each run to -out")
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
	bin, err := walnutBinary(ctx, *binary, *outDir)
	if err != nil {
		fatal(err)
	}
	cfg := config{
		duration: *duration, delay: *delay, jitter: *jitter, ports: *ports, timeout: *timeout,
		requests: *requests, ephemeral: *ephemeral, logLevel: *logLevel, binary: bin, pprof: *pprofOn, outDir: *outDir, keep: *keep,
	}
	if !runAll(ctx, cfg, runs) {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// walnutBinary returns the absolute path of the walnut binary to run: the
// one given, or one built from ./cmd/walnut into outDir.
func walnutBinary(ctx context.Context, given, outDir string) (string, error) {
	bin := given
	if bin == "" {
		bin = filepath.Join(outDir, "walnut")
		fmt.Fprintln(os.Stderr, "bench: building", bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/walnut")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("build walnut: %w", err)
		}
	}
	bin, _ = filepath.Abs(bin)
	return bin, nil
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

// config is what the flags say about every run.
type config struct {
	duration, delay, jitter, timeout time.Duration
	ports, requests                  int
	ephemeral, pprof, keep           bool
	binary, outDir, logLevel         string
}
