package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
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
