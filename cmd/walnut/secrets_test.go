package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store/pglocal"
	"github.com/walnut-board/walnut/store/storetest"
)

// TestSecretsStayIn puts tokens in a site's query and headers, checks that
// the upstream receives them, and that they appear nowhere else: not in any
// page or API answer, the metrics, the logs, or a dump of the database.
func TestSecretsStayIn(t *testing.T) {
	t.Parallel()
	const queryToken, headerToken = "q-7c1f2e9a-secret", "h-93bd04aa-secret"
	var gotQuery, gotHeader atomic.Bool
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery.Store(r.URL.Query().Get("token") == queryToken)
		gotHeader.Store(r.Header.Get("Authorization") == "Bearer "+headerToken)
		// A hostile upstream echoes what it was sent.
		http.Error(w, "bad token "+r.URL.RawQuery+" "+r.Header.Get("Authorization"), http.StatusServiceUnavailable)
	}))
	t.Cleanup(up.Close)
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - name: Vault
    url: "%s/health?token=${Q_TOKEN}"
    headers: {Authorization: "Bearer ${H_TOKEN}"}
    interval: 1s
    timeout: 1s
`, up.URL))
	dbURL := storetest.NewDatabase(t)
	s := startServeWith(t, cfg, dbURL, map[string]string{"Q_TOKEN": queryToken, "H_TOKEN": headerToken})
	s.waitState(t, "vault", "notok")
	if !gotQuery.Load() || !gotHeader.Load() {
		t.Fatal("the upstream did not receive the tokens")
	}

	var seen strings.Builder
	for _, path := range []string{
		"/", "/sites/vault", "/api/v1/sites", "/api/v1/sites/vault", "/api/v1/sites/vault/probes",
		"/api/v1/sites/vault/transitions", "/metrics", "/healthz", "/badge/vault.svg",
	} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(path, "vault") && resp.StatusCode == http.StatusNotFound {
			t.Errorf("%s: 404", path)
		}
		fmt.Fprintf(&seen, "== %s\n%s\n", path, body)
	}
	fmt.Fprintf(&seen, "== log\n%s\n", s.log.String())

	bin, err := pglocal.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	dump, err := exec.Command(filepath.Join(bin, "pg_dump"), "--data-only", dbURL).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, dump)
	}
	if !strings.Contains(string(dump), "vault") {
		t.Fatal("the dump has no trace of the site: it dumped the wrong database")
	}
	fmt.Fprintf(&seen, "== database\n%s\n", dump)

	for _, secret := range []string{queryToken, headerToken} {
		if i := strings.Index(seen.String(), secret); i >= 0 {
			from := max(0, i-300)
			t.Fatalf("secret %q leaked:\n%s", secret, seen.String()[from:min(len(seen.String()), i+100)])
		}
	}
}

// TestSecretsStayInWhenEchoed is issue 13's hostile upstream: it echoes the
// literal Authorization header from the config, a short query value and a
// short header value into its answer, where the statuspage recipe quotes
// them in the reason, and a sink's credential for good measure. None of them
// may reach the board, the API, the event stream, the logs (at debug, where
// every probe's reason is logged) or the probes table; the reason says where
// they were.
func TestSecretsStayInWhenEchoed(t *testing.T) {
	t.Parallel()
	const routingKey = "pd-routing-e2e-0001"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // a test fake
			"page": map[string]string{"name": "Vendor (" + auth + ")"},
			"status": map[string]string{"indicator": "major", "description": fmt.Sprintf(
				"token %s refused for q=%s, x-key: %s, routing %s", strings.TrimPrefix(auth, "Bearer "), r.URL.Query().Get("q"), r.Header.Get("X-Key"), routingKey)},
		})
	}))
	t.Cleanup(up.Close)
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - name: Vendor
    url: "%s/api/v2/summary.json?q=7"
    headers: {Authorization: "Bearer abc123", X-Key: "zz"}
    recipe: statuspage
    interval: 1s
    timeout: 1s
`, up.URL))
	dbURL := storetest.NewDatabase(t)
	s := startServeWith(t, cfg, dbURL, map[string]string{
		"WALNUT_LOG_LEVEL": "debug", "PAGERDUTY_ROUTING_KEY": routingKey, "PAGERDUTY_EVENTS_URL": up.URL,
	})
	s.waitState(t, "vendor", "notok")

	var seen strings.Builder
	var api []struct{ Slug, Reason string }
	for _, path := range []string{"/", "/sites/vendor", "/api/v1/sites", "/api/v1/sites/vendor", "/api/v1/sites/vendor/probes", "/api/v1/sites/vendor/transitions"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
		if path == "/api/v1/sites" {
			if err := json.Unmarshal(body, &api); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(&seen, "== %s\n%s\n", path, body)
	}
	// The reason still says what happened, with the secrets marked.
	want := "Vendor (***): token *** refused for q=***, x-key: ***, routing ***"
	if len(api) != 1 || api[0].Reason != want {
		t.Errorf("API reasons %+v, want %q", api, want)
	}

	// The event stream starts with every tile; read until the site's.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	seen.WriteString("== /events\n")
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), `data-slug="vendor"`) && strings.Contains(sc.Text(), "refused for") {
			break
		}
	}
	resp.Body.Close()
	if err := sc.Err(); err != nil {
		t.Fatalf("event stream ended before the site's tile: %v", err)
	}

	bin, err := pglocal.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	dump, err := exec.Command(filepath.Join(bin, "pg_dump"), "--data-only", "--table=probes*", dbURL).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, dump)
	}
	if !strings.Contains(string(dump), "refused for") {
		t.Fatalf("the dump holds no probe of the site: it dumped the wrong thing\n%s", dump)
	}
	fmt.Fprintf(&seen, "== probes\n%s\n", dump)
	if !strings.Contains(s.log.String(), "refused for") {
		t.Fatal("the debug log has no probe reason: nothing was checked there")
	}
	fmt.Fprintf(&seen, "== log\n%s\n", s.log.String())

	for _, leak := range []string{"abc123", "q=7", "x-key: zz", routingKey} {
		if i := strings.Index(seen.String(), leak); i >= 0 {
			from := max(0, i-300)
			t.Errorf("%q leaked:\n%s", leak, seen.String()[from:min(seen.Len(), i+100)])
		}
	}
}
