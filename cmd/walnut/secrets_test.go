package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

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
