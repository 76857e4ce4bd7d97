package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// KioskCookie is the cookie that keeps a kiosk (a TV that cannot type a
// password) signed in after it opened /?kiosk=TOKEN once.
const KioskCookie = "walnut_kiosk"

// Kiosk recognises requests from a kiosk: ?kiosk=TOKEN with the
// WALNUT_KIOSK_TOKEN, or the cookie set after it. A kiosk may only read the
// board (see KioskPath); the password check that lets it through lives in
// the authentication middleware, which asks Allowed.
//
// The cookie holds an HMAC of the token rather than the token, so a cookie
// read off a TV does not reveal the URL to type; both are compared in
// constant time. Changing the token signs every kiosk out.
type Kiosk struct {
	token  string
	cookie string // hex HMAC-SHA256 of a fixed label, keyed by the token
}

// NewKiosk returns a Kiosk for token; an empty token disables kiosks.
func NewKiosk(token string) Kiosk {
	if token == "" {
		return Kiosk{}
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("walnut kiosk cookie v1"))
	return Kiosk{token: token, cookie: hex.EncodeToString(m.Sum(nil))}
}

// Enabled reports whether a kiosk token is configured.
func (k Kiosk) Enabled() bool { return k.token != "" }

// TokenInQuery reports whether r carries the right ?kiosk= token.
func (k Kiosk) TokenInQuery(r *http.Request) bool {
	return k.Enabled() && equal(r.URL.Query().Get("kiosk"), k.token)
}

// Allowed reports whether r comes from a kiosk: the right token in the query
// or the kiosk cookie. It says nothing about the path; see KioskPath.
func (k Kiosk) Allowed(r *http.Request) bool {
	if !k.Enabled() {
		return false
	}
	if k.TokenInQuery(r) {
		return true
	}
	c, err := r.Cookie(KioskCookie)
	return err == nil && equal(c.Value, k.cookie)
}

// Remember sets the kiosk cookie on w, for a request that carried the token.
func (k Kiosk) Remember(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     KioskCookie,
		Value:    k.cookie,
		Path:     "/",
		MaxAge:   400 * 24 * 60 * 60, // the longest browsers keep a cookie
		HttpOnly: true,
		Secure:   r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
		SameSite: http.SameSiteLaxMode,
	})
}

// KioskPath reports whether a kiosk may read path: the board, its event
// stream and the assets, and nothing else (no site pages, no API).
func KioskPath(path string) bool {
	return path == "/" || path == "/events" || strings.HasPrefix(path, "/assets/")
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
