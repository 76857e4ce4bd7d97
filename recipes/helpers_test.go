package recipes

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture reads testdata/name, replacing each old with new in turn (pairs),
// so one recorded shape serves every status value.
func fixture(t testing.TB, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("fixture %s has no %q", name, replace[i])
		}
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	return s
}

// route is one path an API server answers.
type route struct {
	status int    // default 200
	body   string // JSON
	// block makes the handler wait until the request's context ends: a
	// follow-up that never answers.
	block bool
}

// apiServer answers like an API: each path (without query) has its route;
// other paths are 404. It records every request.
type apiServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newAPIServer(t testing.TB, routes map[string]route) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		rt, ok := routes[r.URL.Path]
		if !ok {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		if rt.block {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(max(rt.status, 200))
		io.WriteString(w, rt.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

// probeOpts is how checkURL probes.
type probeOpts struct {
	header  http.Header
	timeout time.Duration // default 5s
	limit   int64         // body limit, default 1 MiB
}

// checkURL does what the checker does, in small: GET url with a deadline,
// read the body up to the limit, ask rec, with a fetch that uses the same
// client, deadline and limit and whose errors never quote the URL.
func checkURL(t testing.TB, rec Recipe, url string, o probeOpts) Verdict {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	if o.limit == 0 {
		o.limit = 1 << 20
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	client := &http.Client{}
	get := func(ctx context.Context, req *http.Request) (*Response, error) {
		start := time.Now()
		resp, err := client.Do(req.WithContext(ctx))
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, errors.New("timeout")
			}
			return nil, errors.New("request failed")
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, o.limit+1))
		if err != nil {
			return nil, errors.New("reading the body failed")
		}
		truncated := int64(len(body)) > o.limit
		if truncated {
			body = body[:o.limit]
		}
		return &Response{
			StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Truncated: truncated,
			Latency: time.Since(start), Request: resp.Request,
		}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range o.header {
		req.Header[k] = vs
	}
	resp, err := get(ctx, req)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	return rec.Check(ctx, resp, get)
}

// build builds a built-in recipe or fails the test.
func build(t testing.TB, name string, opts Options) Recipe {
	t.Helper()
	r, err := Builtin().Build(name, opts)
	if err != nil {
		t.Fatalf("Build(%s, %v): %v", name, opts, err)
	}
	return r
}

// verdictCase is a table row shared by the API recipes' tests.
type verdictCase struct {
	routes map[string]route
	path   string // the site URL's path and query
	opts   Options
	want   State
	reason string // exact; "" means none
}

func runVerdictCases(t *testing.T, recipe string, tests map[string]verdictCase) {
	t.Helper()
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, tt.routes)
			got := checkURL(t, build(t, recipe, tt.opts), srv.URL+tt.path, probeOpts{})
			if got.State != tt.want || got.Reason != tt.reason {
				t.Errorf("Check = {%s %q}, want {%s %q}", got.State, got.Reason, tt.want, tt.reason)
			}
		})
	}
}

// fixtureJSON decodes testdata/name, lets edit change it, and encodes it
// again: one recorded shape, every value.
func fixtureJSON(t testing.TB, name string, edit func(v any)) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(fixture(t, name)), &v); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	if edit != nil {
		edit(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// items is v's "items" list (CircleCI v2 pages).
func items(v any) []any { return v.(map[string]any)["items"].([]any) }
