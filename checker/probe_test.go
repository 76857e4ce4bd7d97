package checker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

func TestProbePhases(t *testing.T) {
	t.Parallel()

	const delay = 50 * time.Millisecond
	tests := map[string]struct{ tls bool }{
		"Plain": {tls: false},
		"TLS":   {tls: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select { // the injected delay before the first byte
				case <-time.After(delay):
				case <-r.Context().Done():
				}
				io.WriteString(w, "hello")
			}), tt.tls)

			p := Probe(probeCtx(t), clientFor(t, srv), Site{ID: 7, URL: srv.URL + "/", Timeout: waitTimeout}, nil)

			if p.State != store.StateOK || p.HTTPStatus != 200 || p.Reason != "" || p.SiteID != 7 {
				t.Fatalf("probe = %+v, want ok 200 for site 7", p)
			}
			if p.TTFB < delay {
				t.Errorf("TTFB = %v, want at least the handler's delay %v", p.TTFB, delay)
			}
			if p.Latency < p.TTFB {
				t.Errorf("Latency = %v, want at least TTFB %v", p.Latency, p.TTFB)
			}
			if p.Connect <= 0 {
				t.Errorf("Connect = %v, want > 0", p.Connect)
			}
			if p.DNS != 0 {
				t.Errorf("DNS = %v, want 0 for an IP literal", p.DNS)
			}
			if tt.tls && p.TLS <= 0 {
				t.Errorf("TLS = %v, want > 0 for a TLS server", p.TLS)
			}
			if !tt.tls && p.TLS != 0 {
				t.Errorf("TLS = %v, want 0 for a plain server", p.TLS)
			}
			if p.At.IsZero() {
				t.Error("At is zero")
			}
		})
	}
}

func TestProbeStampsAtWithNow(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), false)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := Probe(probeCtx(t), NewClient(), Site{URL: srv.URL}, func() time.Time { return at })
	if !p.At.Equal(at) {
		t.Errorf("At = %v, want %v from now", p.At, at)
	}
}

// Keep-alives are off, so every probe pays for, and measures, a connection.
func TestProbeEveryProbeConnects(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	client := NewClient()
	for i := range 3 {
		p := Probe(probeCtx(t), client, Site{URL: srv.URL}, nil)
		if p.State != store.StateOK || p.Connect <= 0 {
			t.Fatalf("probe %d = %+v, want ok with Connect > 0", i, p)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("server saw %d connections for 3 probes, want 3", n)
	}
}

func TestProbeTransportFailures(t *testing.T) {
	t.Parallel()

	// Each setup returns the site to probe and the client to probe it with.
	type setup func(t *testing.T) (Site, *http.Client)
	tests := map[string]struct {
		setup setup
		want  string
		// status is the HTTP status expected alongside the failure: a
		// timeout while reading the body came after the status line.
		status int
	}{
		"ConnectionRefused": {
			setup: func(t *testing.T) (Site, *http.Client) {
				return Site{URL: "http://" + deadAddr(t) + "/?token=SECRET"}, NewClient()
			},
			want: "connection refused",
		},
		"TooManyRedirects": {
			setup: func(t *testing.T) (Site, *http.Client) {
				var n atomic.Int64
				srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, fmt.Sprintf("/loop?token=SECRET&n=%d", n.Add(1)), http.StatusFound)
				}), false)
				return Site{URL: srv.URL + "/?token=SECRET"}, NewClient()
			},
			want: "too many redirects",
		},
		"TimeoutDuringBody": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, nil, false)
				block := blocker(t)
				srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, "the start of a body that never ends")
					w.(http.Flusher).Flush()
					select {
					case <-block:
					case <-r.Context().Done():
					}
				})
				return Site{URL: srv.URL + "/?token=SECRET", Timeout: 100 * time.Millisecond}, NewClient()
			},
			want:   "timed out after 100ms reading the body",
			status: 200,
		},
		"TimeoutWaitingForResponse": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, nil, false)
				block := blocker(t)
				srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-block:
					case <-r.Context().Done():
					}
				})
				return Site{URL: srv.URL + "/?token=SECRET", Timeout: 100 * time.Millisecond}, NewClient()
			},
			want: "timed out after 100ms waiting for the response",
		},
		"UnknownAuthority": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), true)
				return Site{URL: srv.URL + "/?token=SECRET"}, NewClient()
			},
			want: "TLS handshake failed: certificate signed by unknown authority",
		},
		"HostnameMismatch": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), true)
				c := clientFor(t, srv)
				c.Transport.(*http.Transport).TLSClientConfig.ServerName = "other.test"
				return Site{URL: srv.URL + "/?token=SECRET"}, c
			},
			want: "TLS handshake failed: certificate is not valid for other.test",
		},
		"ExpiredCertificate": {
			setup: func(t *testing.T) (Site, *http.Client) {
				cert, pool := expiredCert(t)
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
				srv.Config.ErrorLog = log.New(io.Discard, "", 0)
				srv.StartTLS()
				t.Cleanup(srv.Close)
				return Site{URL: srv.URL + "/?token=SECRET"}, trustingClient(t, pool, "")
			},
			want: "TLS handshake failed: certificate has expired or is not yet valid",
		},
		"NotTLS": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), false)
				return Site{URL: strings.Replace(srv.URL, "http://", "https://", 1) + "/?token=SECRET"}, NewClient()
			},
			want: "TLS handshake failed: the server answered with plain HTTP",
		},
		"NotTLSAtAll": {
			setup: func(t *testing.T) (Site, *http.Client) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for {
						conn, err := ln.Accept()
						if err != nil {
							return
						}
						io.WriteString(conn, "SSH-2.0-OpenSSH_9.6\r\n")
						conn.Close()
					}
				}()
				return Site{URL: "https://" + ln.Addr().String() + "/?token=SECRET"}, NewClient()
			},
			want: "TLS handshake failed: the server did not answer with TLS",
		},
		"ServerClosedTheConnection": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.Close()
					}
				}), false)
				return Site{URL: srv.URL + "/?token=SECRET"}, NewClient()
			},
			want: "server closed the connection",
		},
		"ConnectionReset": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.(*net.TCPConn).SetLinger(0) // close with RST
						conn.Close()
					}
				}), false)
				return Site{URL: srv.URL + "/?token=SECRET"}, NewClient()
			},
			want: "connection reset",
		},
		"HeadersTooLarge": {
			setup: func(t *testing.T) (Site, *http.Client) {
				srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Big", strings.Repeat("x", 2*MaxResponseHeaderBytes))
				}), false)
				return Site{URL: srv.URL + "/?token=SECRET"}, NewClient()
			},
			want: "response headers too large",
		},
		"InvalidURL": {
			setup: func(t *testing.T) (Site, *http.Client) {
				return Site{URL: "http://[::1/?token=SECRET"}, NewClient()
			},
			want: "invalid URL",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			site, client := tt.setup(t)
			site.Recipe = failIfAsked(t)
			if site.Timeout == 0 {
				site.Timeout = waitTimeout
			}

			p := Probe(probeCtx(t), client, site, nil)
			t.Logf("reason: %q", p.Reason)

			if p.State != store.StateNotOK {
				t.Errorf("State = %s, want notok", p.State)
			}
			if !strings.Contains(p.Reason, tt.want) {
				t.Errorf("Reason = %q, want it to contain %q", p.Reason, tt.want)
			}
			if strings.Contains(p.Reason, "SECRET") || strings.Contains(p.Reason, "token") {
				t.Errorf("Reason = %q leaks the URL's query", p.Reason)
			}
			if p.HTTPStatus != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", p.HTTPStatus, tt.status)
			}
		})
	}
}

// A .invalid name fails fast with a local resolver. If lookups hang in this
// environment, the bounded context turns the case into a skip.
func TestProbeDNSFailure(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	p := Probe(ctx, NewClient(), Site{
		URL: "http://nonexistent.invalid/?token=SECRET", Timeout: waitTimeout, Recipe: failIfAsked(t),
	}, nil)
	if strings.Contains(p.Reason, "timed out") {
		t.Skipf("DNS lookups hang here: %s", p.Reason)
	}
	if p.State != store.StateNotOK || !strings.HasPrefix(p.Reason, "DNS lookup failed") {
		t.Errorf("probe = %+v, want notok, DNS lookup failed", p)
	}
	if p.Reason != "DNS lookup failed: no such host" {
		t.Logf("resolver said %q (not NXDOMAIN)", p.Reason)
	}
	if strings.Contains(p.Reason, "SECRET") {
		t.Errorf("Reason = %q leaks the URL's query", p.Reason)
	}
}

// The caller's context ending is not the site's fault, and says so.
func TestProbeCanceled(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil, false)
	block := blocker(t)
	started := make(chan struct{})
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(probeCtx(t))
	go func() {
		<-started
		cancel()
	}()
	p := Probe(ctx, NewClient(), Site{URL: srv.URL, Timeout: waitTimeout}, nil)
	if p.State != store.StateNotOK || p.Reason != "probe canceled" {
		t.Errorf("probe = %+v, want notok, probe canceled", p)
	}
}

// Phases describe the last hop: a TLS site redirecting to a plain one has no
// TLS phase.
func TestProbeRedirectPhasesDescribeLastHop(t *testing.T) {
	t.Parallel()
	plain := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "landed")
	}), false)
	secure := newServer(t, http.RedirectHandler(plain.URL+"/landing", http.StatusFound), true)

	var got *recipes.Response
	rec := recipeFunc(func(_ context.Context, resp *recipes.Response, _ recipes.FetchFunc) recipes.Verdict {
		got = resp
		return recipes.Verdict{State: recipes.OK}
	})
	p := Probe(probeCtx(t), clientFor(t, secure), Site{URL: secure.URL, Recipe: rec}, nil)

	if p.State != store.StateOK || p.HTTPStatus != 200 {
		t.Fatalf("probe = %+v, want ok 200 after the redirect", p)
	}
	if string(got.Body) != "landed" {
		t.Errorf("body = %q, want the last hop's", got.Body)
	}
	if p.TLS != 0 {
		t.Errorf("TLS = %v, want 0: the last hop is plain HTTP", p.TLS)
	}
	if p.Connect <= 0 {
		t.Errorf("Connect = %v, want the last hop's, > 0", p.Connect)
	}
	if p.Latency < p.TTFB {
		t.Errorf("Latency %v < TTFB %v", p.Latency, p.TTFB)
	}
}

func TestProbeBodyLimit(t *testing.T) {
	t.Parallel()

	const endless = -1
	tests := map[string]struct {
		size      int   // bytes the server sends; endless: until the client hangs up
		limit     int64 // Site.BodyLimit
		wantLen   int
		truncated bool
	}{
		"Small":         {size: 1000, wantLen: 1000},
		"ExactlyLimit":  {size: BodyLimit, wantLen: BodyLimit},
		"OneOverLimit":  {size: BodyLimit + 1, wantLen: BodyLimit, truncated: true},
		"ThreeMiB":      {size: 3 << 20, wantLen: BodyLimit, truncated: true},
		"Endless":       {size: endless, wantLen: BodyLimit, truncated: true},
		"SiteOverrides": {size: 100, limit: 10, wantLen: 10, truncated: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				chunk := []byte(strings.Repeat("w", 32<<10))
				for sent := 0; tt.size == endless || sent < tt.size; sent += len(chunk) {
					n := len(chunk)
					if tt.size != endless {
						n = min(n, tt.size-sent)
					}
					if _, err := w.Write(chunk[:n]); err != nil {
						return // the client hung up
					}
				}
			}), false)

			var got *recipes.Response
			rec := recipeFunc(func(_ context.Context, resp *recipes.Response, _ recipes.FetchFunc) recipes.Verdict {
				got = resp
				return recipes.Verdict{State: recipes.OK}
			})
			p := Probe(probeCtx(t), NewClient(), Site{URL: srv.URL, BodyLimit: tt.limit, Timeout: waitTimeout, Recipe: rec}, nil)

			if p.State != store.StateOK {
				t.Fatalf("probe = %+v, want ok", p)
			}
			if len(got.Body) != tt.wantLen || got.Truncated != tt.truncated {
				t.Errorf("body of %d bytes, truncated %v; want %d, %v", len(got.Body), got.Truncated, tt.wantLen, tt.truncated)
			}
			// Memory stays bounded: the buffer is about the limit, not the body.
			if limit := max(tt.limit, BodyLimit); cap(got.Body) > 2*int(limit) {
				t.Errorf("body buffer capacity %d, want at most twice the limit", cap(got.Body))
			}
		})
	}
}

func TestProbeRequest(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, host, header, ua, body, query string
	}
	ch := make(chan seen, 1)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- seen{r.Method, r.Host, r.Header.Get("X-Api-Key"), r.Header.Get("User-Agent"), string(b), r.URL.RawQuery}
	}), false)

	p := Probe(probeCtx(t), NewClient(), Site{
		URL:     srv.URL + "/health?token=SECRET",
		Method:  http.MethodPost,
		Headers: map[string]string{"X-Api-Key": "k", "Host": "api.example.com"},
		Body:    `{"ping":true}`,
	}, nil)
	if p.State != store.StateOK {
		t.Fatalf("probe = %+v", p)
	}
	got := <-ch
	want := seen{"POST", "api.example.com", "k", userAgent, `{"ping":true}`, "token=SECRET"}
	if got != want {
		t.Errorf("server saw %+v, want %+v", got, want)
	}
}

func TestProbeVerdicts(t *testing.T) {
	t.Parallel()

	verdict := func(v recipes.Verdict) recipes.Recipe {
		return recipeFunc(func(context.Context, *recipes.Response, recipes.FetchFunc) recipes.Verdict { return v })
	}
	tests := map[string]struct {
		status int
		recipe recipes.Recipe
		state  store.State
		reason string
	}{
		"DefaultRecipeOK":     {status: 204, state: store.StateOK},
		"DefaultRecipeNotOK":  {status: 503, state: store.StateNotOK, reason: "HTTP 503 Service Unavailable"},
		"Pending":             {status: 202, recipe: verdict(recipes.Verdict{State: recipes.Pending, Reason: "build running"}), state: store.StatePending, reason: "build running"},
		"NotOKKeepsStatus":    {status: 200, recipe: verdict(recipes.Verdict{State: recipes.NotOK, Reason: "body says down"}), state: store.StateNotOK, reason: "body says down"},
		"UnknownState":        {status: 200, recipe: verdict(recipes.Verdict{State: "green"}), state: store.StateNotOK, reason: `recipe returned an unknown state "green"`},
		"ReasonScrubbed":      {status: 200, recipe: verdict(recipes.Verdict{State: recipes.NotOK, Reason: "token SECRET rejected"}), state: store.StateNotOK, reason: "token *** rejected"},
		"LongReasonTruncated": {status: 200, recipe: verdict(recipes.Verdict{State: recipes.NotOK, Reason: strings.Repeat("é", 400)}), state: store.StateNotOK, reason: strings.Repeat("é", maxReason/2) + "…"},
		"PanicBecomesNotOK":   {status: 200, recipe: recipeFunc(func(context.Context, *recipes.Response, recipes.FetchFunc) recipes.Verdict { panic("boom") }), state: store.StateNotOK, reason: "checker crashed: boom"},
		"PanicValueScrubbed": {status: 200, recipe: recipeFunc(func(context.Context, *recipes.Response, recipes.FetchFunc) recipes.Verdict {
			panic(errors.New("bad SECRET"))
		}), state: store.StateNotOK, reason: "checker crashed: bad ***"},
		"NilPointerPanic": {status: 200, recipe: recipeFunc(func(_ context.Context, r *recipes.Response, _ recipes.FetchFunc) recipes.Verdict {
			var m map[string]int
			m["x"] = r.StatusCode
			return recipes.Verdict{}
		}), state: store.StateNotOK, reason: "checker crashed: assignment to entry in nil map"},
		"OKReasonPassedAlong":  {status: 200, recipe: verdict(recipes.Verdict{State: recipes.OK, Reason: "3 builds green"}), state: store.StateOK, reason: "3 builds green"},
		"QueryValueScrubbed":   {status: 200, recipe: verdict(recipes.Verdict{State: recipes.NotOK, Reason: "key q-9f8e7d6c5b was refused"}), state: store.StateNotOK, reason: "key *** was refused"},
		"ShortQueryValuesKept": {status: 200, recipe: verdict(recipes.Verdict{State: recipes.NotOK, Reason: "HTTP 200 but page 2 empty"}), state: store.StateNotOK, reason: "HTTP 200 but page 2 empty"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
			}), false)
			p := Probe(probeCtx(t), NewClient(), Site{
				URL:     srv.URL + "/?key=q-9f8e7d6c5b&page=2",
				Recipe:  tt.recipe,
				Secrets: []string{"SECRET"},
			}, nil)
			if p.State != tt.state || p.Reason != tt.reason || p.HTTPStatus != tt.status {
				t.Errorf("probe = {State:%s Reason:%q HTTPStatus:%d}, want {%s %q %d}", p.State, p.Reason, p.HTTPStatus, tt.state, tt.reason, tt.status)
			}
		})
	}
}

func TestProbeFetch(t *testing.T) {
	t.Parallel()

	srv := newServer(t, nil, false)
	block := blocker(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/workflow", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	srv.Config.Handler = mux
	dead := deadAddr(t)

	tests := map[string]struct {
		url       string
		recipeCtx func(context.Context) context.Context // the context the recipe fetches with
		wantErr   string
		wantBody  int
	}{
		"FollowUp":      {url: srv.URL + "/workflow", wantBody: 10},
		"Refused":       {url: "http://" + dead + "/api?circle-token=SECRET", wantErr: "connection refused"},
		"ProbeDeadline": {url: srv.URL + "/hang?circle-token=SECRET", wantErr: "timed out after 200ms"},
		"DeadlineOutlivesWithoutCancel": {
			url:       srv.URL + "/hang?circle-token=SECRET",
			recipeCtx: context.WithoutCancel, // a recipe escaping the deadline is still bounded
			wantErr:   "timed out after 200ms",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var (
				resp *recipes.Response
				err  error
			)
			rec := recipeFunc(func(ctx context.Context, _ *recipes.Response, fetch recipes.FetchFunc) recipes.Verdict {
				if tt.recipeCtx != nil {
					ctx = tt.recipeCtx(ctx)
				}
				req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
				if rerr != nil {
					t.Fatal(rerr)
				}
				resp, err = fetch(ctx, req)
				if err != nil {
					return recipes.Verdict{State: recipes.NotOK, Reason: "follow-up: " + err.Error()}
				}
				return recipes.Verdict{State: recipes.OK}
			})
			p := Probe(probeCtx(t), NewClient(), Site{URL: srv.URL, Recipe: rec, Timeout: 200 * time.Millisecond, BodyLimit: 10}, nil)

			if tt.wantErr == "" {
				if err != nil || p.State != store.StateOK {
					t.Fatalf("fetch error %v, probe %+v", err, p)
				}
				if len(resp.Body) != tt.wantBody || !resp.Truncated || resp.StatusCode != 200 {
					t.Errorf("follow-up response: %d bytes, truncated %v, status %d; want %d bytes truncated, 200",
						len(resp.Body), resp.Truncated, resp.StatusCode, tt.wantBody)
				}
				return
			}
			if err == nil {
				t.Fatalf("fetch succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("fetch error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "circle-token") {
				t.Errorf("fetch error = %q leaks the URL", err)
			}
		})
	}
}

func TestScrubber(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		site Site
		base *secret.Scrubber
		in   string
		want string
	}{
		"DeclaredSecret":        {site: Site{Secrets: []string{"s3cr3t"}}, in: "bad s3cr3t here", want: "bad *** here"},
		"ShortSecretAsWord":     {site: Site{Secrets: []string{"ab"}}, in: "ab rejected, xaby", want: "*** rejected, xaby"},
		"LongestFirst":          {site: Site{Secrets: []string{"abc", "abcdef"}}, in: "abcdef", want: "***"},
		"QueryString":           {site: Site{URL: "https://h.example/p?t=0123456789"}, in: "GET https://h.example/p?t=0123456789 failed", want: "GET https://h.example/p?*** failed"},
		"QueryValue":            {site: Site{URL: "https://h.example/p?t=0123456789"}, in: "token 0123456789", want: "token ***"},
		"EscapedValue":          {site: Site{URL: "https://h.example/p?t=a%2Fb%2Fc%2Fd%2Fe"}, in: "a%2Fb%2Fc%2Fd%2Fe and a/b/c/d/e", want: "*** and ***"},
		"Password":              {site: Site{URL: "https://u:pw@h.example/"}, in: "pw rejected", want: "*** rejected"},
		"ShortQueryValueByName": {site: Site{URL: "https://h.example/p?page=2&a=1"}, in: "HTTP 200, a=1, page 2", want: "HTTP 200, a=***, page 2"},
		"LiteralHeader":         {site: Site{Headers: map[string]string{"Authorization": "Bearer abc123"}}, in: "echo: Bearer abc123 / abc123", want: "echo: *** / ***"},
		"SinkCredential":        {base: secret.New("R0UTINGKEY"), in: "key R0UTINGKEY", want: "key ***"},
		"UserAgentNoSecret":     {site: Site{Headers: map[string]string{"User-Agent": "walnut"}}, in: "403 for walnut-board/walnut", want: "403 for walnut-board/walnut"},
		"UserAgentFromEnv":      {site: Site{Headers: map[string]string{"User-Agent": "ua-k3y-42"}, Secrets: []string{"ua-k3y-42"}}, in: "agent ua-k3y-42 refused", want: "agent *** refused"},
		"ShortValueNotInWord":   {site: Site{Headers: map[string]string{"X-Env": "prod"}}, in: "production down, env=prod", want: "production down, env=***"},
		"WhitespaceFolded":      {in: "a\n  b\tc", want: "a b c"},
		"NoSecrets":             {in: "HTTP 503 Service Unavailable", want: "HTTP 503 Service Unavailable"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := newScrubber(tt.site, tt.base).clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
