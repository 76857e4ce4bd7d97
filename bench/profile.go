package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// cpuProfile saves a CPU profile of up to 30s from the window's first half
// when -pprof is on and the window is long enough (40s) to hold one after 5s
// of settling; the channel gives its error once it is done, or nil.
func (m *meter) cpuProfile(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		if !m.cfg.pprof || m.cfg.duration < 40*time.Second || !sleep(ctx, 5*time.Second) {
			done <- nil
			return
		}
		secs := min(30, int((m.cfg.duration/2).Seconds())-5)
		done <- fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", m.w.pprofAddr, secs),
			filepath.Join(m.cfg.outDir, fmt.Sprintf("cpu-%d.pprof", m.spec.n)), time.Duration(secs+30)*time.Second)
	}()
	return done
}

// heapProfile saves a heap profile when -pprof is on, and the same in text
// (debug=1), whose end holds runtime.MemStats: the GC count, total
// allocations and the heap's spans, which tell more live data from more
// garbage between collections.
func (m *meter) heapProfile(ctx context.Context) {
	if !m.cfg.pprof {
		return
	}
	url := fmt.Sprintf("http://%s/debug/pprof/heap", m.w.pprofAddr)
	if err := fetchTo(ctx, url, filepath.Join(m.cfg.outDir, fmt.Sprintf("heap-%d.pprof", m.spec.n)), 30*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench: heap profile:", err)
	}
	if err := fetchTo(ctx, url+"?debug=1", filepath.Join(m.cfg.outDir, fmt.Sprintf("heap-%d.txt", m.spec.n)), 30*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench: heap profile:", err)
	}
}

// fetchTo saves the body of a GET of url to path, giving up after limit.
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
