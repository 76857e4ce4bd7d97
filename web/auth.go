package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/a-h/templ"
)

// openPath reports whether path is served to anyone: health checks come from
// load balancers and badges are embedded in READMEs, neither can log in.
// Slack's slash command cannot either; it proves itself with Slack's
// signature instead (slack_command.go). A heartbeat call carries its site's
// token (heartbeat.go): a cron job should not need the board's password.
func openPath(path string) bool {
	return path == "/healthz" || strings.HasPrefix(path, "/badge/") || path == "/slack/command" ||
		strings.HasPrefix(path, "/api/v1/heartbeat/")
}

// Protect puts every route but the open ones behind HTTP Basic with password
// (any user name), lets a kiosk read the board without it, and sets the
// security headers on every response. An empty password leaves the routes
// open, for a board on a laptop or behind a VPN.
func Protect(password string, kiosk Kiosk, next http.Handler) http.Handler {
	// Comparing digests keeps the comparison constant-time whatever the
	// lengths of the two passwords.
	want := sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce := newNonce()
		securityHeaders(w.Header(), nonce)
		// Pages read the nonce to mark the inline scripts they mean to run
		// (the charts' set-up); anything else inline is refused.
		r = r.WithContext(templ.WithNonce(r.Context(), nonce))
		if password == "" || openPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if kiosk.Allowed(r) && KioskPath(r.URL.Path) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		if _, got, ok := r.BasicAuth(); ok {
			sum := sha256.Sum256([]byte(got))
			if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="Walnut", charset="UTF-8"`)
		http.Error(w, "Walnut needs its password (any user name will do).", http.StatusUnauthorized)
	})
}

// securityHeaders allows only Walnut's own scripts (files it serves, and
// inline ones carrying this response's nonce), styles and images, and no
// framing by other sites.
func securityHeaders(h http.Header, nonce string) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// newNonce returns a fresh CSP nonce: 128 random bits, base64.
func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	return base64.StdEncoding.EncodeToString(b)
}
