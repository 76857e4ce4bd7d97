package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

// TestSlugThatCannotBeStored asks every route that takes a slug for slugs
// PostgreSQL cannot hold as text (a NUL, bytes that are not UTF-8). No
// site has one, so each is a 404 like any unknown slug, not a 500 with an
// ERROR in the log.
func TestSlugThatCannotBeStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	if _, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "api", Name: "API", URL: "https://api.example.com/health", Interval: time.Minute},
	}); err != nil {
		t.Fatal(err)
	}
	var logs storetest.Buffer
	h := web.New(web.Options{
		Store:  st,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	routes := []string{
		"/sites/%s",
		"/api/v1/sites/%s",
		"/api/v1/sites/%s/probes",
		"/api/v1/sites/%s/transitions",
		"/api/v1/sites/%s/series",
		"/badge/%s.svg",
	}
	for _, route := range routes {
		// The site that exists answers, so a 404 below is the slug's doing.
		if resp, body := get(t, srv.URL+strings.Replace(route, "%s", "api", 1)); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s for api: status %d: %s", route, resp.StatusCode, body)
		}
		for _, slug := range []string{"%00", "%ff", "a%00b", "%c3%28", "api%00", "%e2%82"} {
			path := strings.Replace(route, "%s", slug, 1)
			resp, body := get(t, srv.URL+path)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404: %s", path, resp.StatusCode, body)
			}
			if strings.HasPrefix(route, "/api/") && !strings.Contains(body, `"error":"no such site"`) {
				t.Errorf("GET %s: body %q, want the API's JSON 404", path, body)
			}
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a slug that cannot be stored was logged as an error:\n%s", logs.String())
	}
}
