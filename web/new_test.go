package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/web"
)

// brokenStore fails the one read the test makes; any other would panic.
type brokenStore struct{ web.Store }

func (brokenStore) SiteListActive(context.Context) ([]store.Site, error) {
	return nil, errors.New("disk on fire")
}

// TestNewWithoutLogger: a handler built without a logger logs nothing,
// rather than panicking at its first error.
func TestNewWithoutLogger(t *testing.T) {
	t.Parallel()
	h := web.New(web.Options{Store: brokenStore{}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/sites", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("GET /api/v1/sites = %d %s, want 500 with a JSON error", rec.Code, rec.Body)
	}
}
