package checker

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// rawServer accepts connections on loopback and hands each to serve, for
// upstreams that misbehave below HTTP. Connections are closed when the test
// ends.
func rawServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// readRequest consumes the request head so the client starts waiting.
func readRequest(c net.Conn) {
	http.ReadRequest(bufio.NewReader(c)) //nolint:errcheck // any request will do
}

// TestProbeHostileUpstreams: whatever an upstream does, the probe ends
// within the site's timeout with a verdict, and reads a bounded amount.
func TestProbeHostileUpstreams(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	stop := blocker(t)

	// A gzip bomb: a small body that inflates to far more than the limit.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 { // 64 MiB inflated, about 64 KiB on the wire
		zw.Write(zeros)
	}
	zw.Close()

	tests := map[string]struct {
		url   func(t *testing.T) string
		state store.State
		want  string
		// timeout, when set, replaces the short one, under probeCtx's
		// bound: the cases that end at the body limit read a whole MiB,
		// which on a loaded machine under -race can take longer than the
		// short timeout allows.
		timeout time.Duration
	}{
		"Tarpit": { // headers at once, then one byte a second
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"))
					tick := time.NewTicker(time.Second)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							if _, err := c.Write([]byte("x")); err != nil {
								return
							}
						}
					}
				})
			},
			state: store.StateNotOK, want: "timed out",
		},
		"HeadersNeverFinish": {
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					c.Write([]byte("HTTP/1.1 200 OK\r\nX-Slow: "))
					<-stop
				})
			},
			state: store.StateNotOK, want: "timed out",
		},
		"StalledTLSHandshake": { // accepts, then never answers the ClientHello
			url: func(t *testing.T) string {
				return "https://" + rawServer(t, func(c net.Conn) { <-stop })
			},
			state: store.StateNotOK, want: "timed out",
		},
		"ClosesMidBody": {
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial"))
					c.Close()
				})
			},
			state: store.StateNotOK, want: "",
		},
		"GzipBomb": { // read stops at the body limit: ok by status, memory bounded
			url: func(t *testing.T) string {
				srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(bomb.Bytes())
				}), false)
				return srv.URL
			},
			state:   store.StateOK,
			timeout: 8 * time.Second,
		},
		"EndlessBody": {
			url: func(t *testing.T) string {
				srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					chunk := bytes.Repeat([]byte("walnut "), 8192)
					for {
						if _, err := w.Write(chunk); err != nil {
							return
						}
					}
				}), false)
				return srv.URL
			},
			state:   store.StateOK,
			timeout: 8 * time.Second,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			limit := cmp.Or(tc.timeout, timeout)
			site := Site{Slug: strings.ToLower(name), URL: tc.url(t), Timeout: limit}
			start := time.Now()
			p := Probe(probeCtx(t), NewClient(), site, nil)
			if p.State != tc.state || !strings.Contains(p.Reason, tc.want) {
				t.Fatalf("state %s reason %q; want %s with %q", p.State, p.Reason, tc.state, tc.want)
			}
			// A hang guard, not a measurement: the timeout must have bound
			// the probe, with generous room for a busy machine.
			if took := time.Since(start); took > limit+5*time.Second {
				t.Fatalf("probe took %s with a %s timeout", took, limit)
			}
		})
	}

	t.Run("OthersNotDelayed", func(t *testing.T) {
		t.Parallel()
		// While a tarpit holds one probe for its whole timeout, a healthy
		// site probed at the same time answers as soon as it can.
		tarpit := rawServer(t, func(c net.Conn) { readRequest(c); <-stop })
		healthy := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), false)
		slow := make(chan store.Probe, 1)
		go func() {
			slow <- Probe(probeCtx(t), NewClient(), Site{URL: "http://" + tarpit, Timeout: 2 * time.Second}, nil)
		}()
		p := Probe(probeCtx(t), NewClient(), Site{URL: healthy.URL, Timeout: 2 * time.Second}, nil)
		if p.State != store.StateOK {
			t.Fatalf("healthy site: %s %q", p.State, p.Reason)
		}
		select {
		case sp := <-slow:
			t.Fatalf("the tarpit answered before the healthy site was done: %s %q", sp.State, sp.Reason)
		default:
		}
		if sp := <-slow; sp.State != store.StateNotOK {
			t.Fatalf("tarpit: %s %q", sp.State, sp.Reason)
		}
	})
}
