package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/walnut-board/walnut/store/storetest"
)

// privateCA makes a certificate authority and a leaf for 127.0.0.1 signed
// by it that expires at notAfter: the CA's PEM and the leaf.
func privateCA(t *testing.T, notAfter time.Time) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Walnut Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "internal.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestCertificateLineInBrowser runs walnut serve on an internal HTTPS site
// whose certificate, from a private CA (tls: {ca: FILE}), expires in 5
// days: its tile is green and says so in a small line.
func TestCertificateLineInBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium := chromiumPath(t)
	caPEM, leaf := privateCA(t, time.Now().Add(5*24*time.Hour+time.Hour))
	upstream := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	upstream.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	upstream.StartTLS()
	t.Cleanup(upstream.Close)

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`
sites:
  - name: Internal API
    group: Our apps
    url: %q
    interval: 2s
    timeout: 2s
    tls: {ca: %q}
`, upstream.URL+"/health", caFile))
	s := serveOn(t, freePort(t), map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "WALNUT_LOG_LEVEL": "warn"}, "serve", "--config", cfg)
	s.waitHealthy(t)
	base := s.base

	browser := newBrowser(t, chromium)
	ctx, cancel := context.WithTimeout(browser, browserStepGuard)
	defer cancel()
	var line string
	var fits bool
	var png []byte
	// The certificate is saved beside the first probe, so the line may
	// come with the tile's next update: the page shows it live.
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 720),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-slug=internal-api][data-state=ok] [data-testid=tile-cert]`)),
		into(&line, chromedp.Text(chromedp.CSS(`#tile-internal-api [data-testid=tile-cert]`))),
		into(&fits, chromedp.Evaluate[bool](`(() => { const e = document.querySelector('#tile-internal-api .tile-cert'); return e.scrollWidth <= e.clientWidth })()`)),
		into(&png, chromedp.CaptureScreenshot()),
	)
	if err != nil {
		t.Fatalf("board: %v", err)
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), "board-cert.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(line); got != "⚠ certificate expires in 5 days" {
		t.Errorf("certificate line = %q, want \"⚠ certificate expires in 5 days\"", got)
	}
	if !fits {
		t.Error("the certificate line is cut short on the tile")
	}
}
