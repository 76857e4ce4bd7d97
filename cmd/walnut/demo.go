package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
