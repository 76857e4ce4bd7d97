package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/walnut-board/walnut/store/storetest"
)

// TestServeWithoutConfig starts serve the way a fresh Heroku app does, with
// only DATABASE_URL and PORT: no walnut.yaml (the package directory has
// none) and no WALNUT_CONFIG_YAML. It serves an empty board that says so.
func TestServeWithoutConfig(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(defaultConfigPath); err == nil {
		t.Skip("a walnut.yaml sits in the test's directory")
	}
	s := serveOn(t, freePort(t), map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}, "serve")

	var page string
	s.waitFor(t, "the empty board", func() bool {
		resp, err := http.Get(s.base + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		page = string(body)
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(page, "No sites yet") {
		t.Errorf("the board does not say it has no sites:\n%s", page)
	}
	if !strings.Contains(s.log.String(), "no config") {
		t.Errorf("the log does not say there is no config:\n%s", s.log.String())
	}
}
