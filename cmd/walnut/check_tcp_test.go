package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store/storetest"
)

func TestCheckTCP(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - {name: DB, url: "tcp://%s"}
  - {name: Gone, url: "tcp://%s"}
`, ln.Addr(), deadAddr))

	for _, tc := range []struct {
		slug string
		code int
		want []string
		not  []string
	}{
		{"db", 0, []string{"state ok", "connect ", "latency "}, []string{"ttfb", "tls", "http status"}},
		{"gone", 1, []string{"state notok", "reason connection refused"}, nil},
	} {
		t.Run(tc.slug, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"check", "--config", cfg, tc.slug}, &stdout, &stderr, fakeEnv(nil))
			// Columns are aligned with spaces: compare words.
			out := strings.Join(strings.Fields(stdout.String()+stderr.String()), " ")
			if code != tc.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestCheckTLSCertificate(t *testing.T) {
	t.Parallel()
	serve := func(notAfter time.Time) (addr, caFile string) {
		caPEM, leaf := privateCA(t, notAfter)
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					c.(*tls.Conn).Handshake() //nolint:errcheck // the client judges
					io.Copy(io.Discard, c)    //nolint:errcheck // until the client hangs up
				}()
			}
		}()
		caFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		return ln.Addr().String(), caFile
	}
	fine, fineCA := serve(time.Now().Add(5*24*time.Hour + time.Hour))
	soon, soonCA := serve(time.Now().Add(24*time.Hour + time.Hour))
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - {name: Fine, url: "tls://%s", tls: {ca: %q}}
  - {name: Soon, url: "tls://%s", tls: {ca: %q}}
`, fine, fineCA, soon, soonCA))
	for _, tc := range []struct {
		slug string
		code int
		want []string
	}{
		{"fine", 0, []string{"state ok", "tls ", "certificate certificate expires in 5 days", "issued by Walnut Test CA"}},
		{"soon", 1, []string{"state notok", "reason certificate expires in 1 day"}},
	} {
		t.Run(tc.slug, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"check", "--config", cfg, tc.slug}, &stdout, &stderr, fakeEnv(nil))
			out := strings.Join(strings.Fields(stdout.String()+stderr.String()), " ")
			if code != tc.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// The example config's "Orders database" is a tcp:// site that serve --demo
// points at its own upstream: green without the network.
func TestDemoTCPSite(t *testing.T) {
	t.Parallel()
	s := serveOn(t, freePort(t), map[string]string{"DATABASE_URL": storetest.NewDatabase(t)},
		"serve", "--demo", "--config", "../../walnut.example.yaml")
	s.waitFor(t, "the orders database to be ok", func() bool {
		st, _ := siteAPI(s.base, "orders-database", "")
		return st == "ok"
	})
}
