package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// startDemo serves a few upstreams on loopback so that walnut.example.yaml
// shows green, red and grey tiles, and a tile that changes, on a machine
// without internet access. It returns the base URL.
func startDemo(ctx context.Context, logger *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo upstreams: %w", err)
	}
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "All good")
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(400 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintln(w, "All good, slowly")
	})
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database connection pool exhausted", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("GET /building", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintln(w, "build #4812 running")
	})
	// flaky is up for two minutes, then down for one, over and over.
	mux.HandleFunc("GET /flaky", func(w http.ResponseWriter, r *http.Request) {
		if int(time.Since(started).Minutes())%3 == 2 {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	url := "http://" + ln.Addr().String()
	logger.Info("demo upstreams serving", "url", url)
	return url, func() { srv.Close() }, nil
}

// demoHeartbeatToken is a fresh token for the example's heartbeat site,
// set as WALNUT_DEMO_HEARTBEAT_TOKEN by serve --demo unless the environment
// sets one.
func demoHeartbeatToken() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// feedDemoHeartbeat plays the example's "Billing worker": a job that runs
// every 10 seconds, saying when it starts (pending) and when it ends (ok,
// with how long it took), as the README's curl examples do. base is
// Walnut's own address.
func feedDemoHeartbeat(ctx context.Context, base, token string, logger *slog.Logger) {
	client := &http.Client{Timeout: 5 * time.Second}
	call := func(body string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/heartbeat/billing-worker", strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				logger.Debug("demo heartbeat", "error", err)
			}
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			logger.Debug("demo heartbeat refused", "status", resp.StatusCode)
		}
	}
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		call(`{"state": "pending", "reason": "invoice run started"}`)
		run := time.NewTimer(2 * time.Second)
		select {
		case <-ctx.Done():
			run.Stop()
			return
		case <-run.C:
		}
		call(`{"state": "ok", "duration_ms": 2000}`)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
