package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/walnut-board/walnut/store"
)

// The certificate of a green site shows on its tile once its cert_warning
// has begun, on its page, and in the API.
func TestSiteCertificate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	expires := b.now.Add(5 * 24 * time.Hour)
	warnFrom := expires.Add(-14 * 24 * time.Hour)
	if err := b.store.SiteCertSave(ctx, b.ids["api"], store.Cert{
		ExpiresAt: expires, Issuer: "Walnut Test CA", Subject: "api.example.com", Fingerprint: "f1", Verified: false, WarnFrom: &warnFrom,
	}, b.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Billing is red: its reason, not a certificate line, is what matters.
	if err := b.store.SiteCertSave(ctx, b.ids["billing"], store.Cert{
		ExpiresAt: expires, Issuer: "Walnut Test CA", Fingerprint: "f2", Verified: true, WarnFrom: &warnFrom,
	}, b.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	t.Run("Tile", func(t *testing.T) {
		_, body := get(t, b.server.URL+"/")
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		line := doc.Find(`[data-slug="api"] [data-testid="tile-cert"]`)
		if got := line.Find(".cert-long").Text(); got != "certificate expires in 5 days" {
			t.Errorf("api's certificate line = %q", got)
		}
		if got := line.Find(".cert-short").Text(); got != "cert: 5 days left" {
			t.Errorf("api's short certificate line = %q", got)
		}
		if n := doc.Find(`[data-testid="tile-cert"]`).Length(); n != 1 {
			t.Errorf("%d certificate lines, want only the green site's", n)
		}
	})

	t.Run("API", func(t *testing.T) {
		for slug, want := range map[string]string{
			"api": `{"expires_at":"2026-11-30T12:00:00Z","issuer":"Walnut Test CA"}`,
			"ci":  `null`,
		} {
			resp, body := get(t, b.server.URL+"/api/v1/sites/"+slug)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", slug, resp.StatusCode)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if string(got["cert"]) != want {
				t.Errorf("%s: cert = %s, want %s", slug, got["cert"], want)
			}
		}
	})

	t.Run("Page", func(t *testing.T) {
		_, body := get(t, b.server.URL+"/sites/api")
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		cert := strings.Join(strings.Fields(doc.Find(`[data-testid="site-cert"]`).Text()), " ")
		for _, want := range []string{"certificate expires in 5 days", "2026-11-30T12:00:00Z", "issued by Walnut Test CA to api.example.com", "first seen 2026-11-25T11:00:00Z"} {
			if !strings.Contains(cert, want) {
				t.Errorf("certificate on the page %q lacks %q", cert, want)
			}
		}
		if doc.Find(`[data-testid="site-insecure"]`).Length() != 1 {
			t.Error("no warning that the certificate is not verified")
		}
		_, body = get(t, b.server.URL+"/sites/billing")
		if strings.Contains(body, `data-testid="site-insecure"`) {
			t.Error("a verified certificate is called unverified")
		}
	})
}
