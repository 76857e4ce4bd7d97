package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// walnutProc is the walnut serve process of one run.
type walnutProc struct {
	cmd       *exec.Cmd
	exited    chan error
	logFile   *os.File
	pid       int
	base      string // http://127.0.0.1:PORT
	pprofAddr string // empty without -pprof
	client    *http.Client
}

// startWalnut starts walnut serve on a free port with the config at
// confPath and waits until it is healthy. Its log goes to -out.
func startWalnut(ctx context.Context, cfg config, n int, confPath, dbURL string) (*walnutProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(cfg.outDir, fmt.Sprintf("walnut-%d.log", n))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	w := &walnutProc{
		logFile: logFile,
		base:    fmt.Sprintf("http://127.0.0.1:%d", port),
		client:  &http.Client{Timeout: 30 * time.Second},
	}
	w.cmd = exec.Command(cfg.binary, "serve", "--config", confPath)
	w.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "PORT="+strconv.Itoa(port), "WALNUT_LOG_LEVEL="+cfg.logLevel,
		"WALNUT_PASSWORD=", "WALNUT_KIOSK_TOKEN=")
	if cfg.pprof {
		pp, err := freePort()
		if err != nil {
			logFile.Close()
			return nil, err
		}
		w.pprofAddr = fmt.Sprintf("127.0.0.1:%d", pp)
		w.cmd.Env = append(w.cmd.Env, "WALNUT_PPROF="+w.pprofAddr)
	}
	w.cmd.Stdout, w.cmd.Stderr = logFile, logFile
	if err := w.cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	w.exited = make(chan error, 1)
	go func() { w.exited <- w.cmd.Wait() }()
	w.pid = w.cmd.Process.Pid
	if err := w.waitHealthy(ctx, 90*time.Second); err != nil {
		w.stop()
		return nil, fmt.Errorf("walnut did not come up (log in %s): %w", logPath, err)
	}
	return w, nil
}

func (w *walnutProc) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-w.exited:
			w.exited <- err
			return fmt.Errorf("walnut exited: %w", err)
		default:
		}
		resp, err := w.client.Get(w.base + "/healthz")
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

// stop sends SIGTERM and waits up to 20s, then kills.
func (w *walnutProc) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(20 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	w.logFile.Close()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
