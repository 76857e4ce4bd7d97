package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"github.com/walnut-board/walnut/web"
)

func TestProtect(t *testing.T) {
	t.Parallel()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	const pw = "correct horse"
	kiosk := web.NewKiosk("tv-token")
	h := web.Protect(pw, kiosk, inner)
	kioskCookie := func() *http.Cookie {
		rec := httptest.NewRecorder()
		kiosk.Remember(rec, httptest.NewRequest("GET", "/?kiosk=tv-token", nil))
		return rec.Result().Cookies()[0]
	}()

	for _, tc := range []struct {
		name   string
		method string
		path   string
		user   *[2]string
		cookie *http.Cookie
		want   int
	}{
		{"BoardNeedsPassword", "GET", "/", nil, nil, 401},
		{"APINeedsPassword", "GET", "/api/v1/sites", nil, nil, 401},
		{"SitePageNeedsPassword", "GET", "/sites/api", nil, nil, 401},
		{"EventsNeedPassword", "GET", "/events", nil, nil, 401},
		{"MetricsNeedPassword", "GET", "/metrics", nil, nil, 401},
		{"WrongPassword", "GET", "/", &[2]string{"x", "wrong"}, nil, 401},
		{"RightPasswordAnyUser", "GET", "/api/v1/sites", &[2]string{"anyone", pw}, nil, 418},
		{"HealthzOpen", "GET", "/healthz", nil, nil, 418},
		{"BadgeOpen", "GET", "/badge/api.svg", nil, nil, 418},
		{"SlackCommandSignedNotPassworded", "POST", "/slack/command", nil, nil, 418},
		{"KioskTokenOpensBoard", "GET", "/?kiosk=tv-token", nil, nil, 418},
		{"KioskWrongToken", "GET", "/?kiosk=nope", nil, nil, 401},
		{"KioskCookieOpensBoard", "GET", "/", nil, kioskCookie, 418},
		{"KioskCookieOpensEvents", "GET", "/events", nil, kioskCookie, 418},
		{"KioskCookieNotAPI", "GET", "/api/v1/sites", nil, kioskCookie, 401},
		{"KioskCookieReadOnly", "POST", "/", nil, kioskCookie, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.user != nil {
				req.SetBasicAuth(tc.user[0], tc.user[1])
			}
			if tc.cookie != nil {
				req.AddCookie(tc.cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.want)
			}
			if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Fatalf("security headers missing: %v", rec.Header())
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate: browsers would not ask for the password")
			}
		})
	}

	t.Run("FreshNoncePerResponse", func(t *testing.T) {
		t.Parallel()
		var seen []string
		for range 2 {
			var inPage string
			h := web.Protect("", web.NewKiosk(""), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inPage = templ.GetNonce(r.Context())
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/sites/x", nil))
			csp := rec.Header().Get("Content-Security-Policy")
			if inPage == "" || !strings.Contains(csp, "'nonce-"+inPage+"'") {
				t.Fatalf("page nonce %q not in the policy %q", inPage, csp)
			}
			seen = append(seen, inPage)
		}
		if seen[0] == seen[1] {
			t.Fatal("two responses share a nonce")
		}
	})

	t.Run("NoPasswordLeavesRoutesOpen", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		web.Protect("", web.NewKiosk(""), inner).ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/sites", nil))
		if rec.Code != 418 {
			t.Fatalf("%d, want the inner handler", rec.Code)
		}
	})
}
