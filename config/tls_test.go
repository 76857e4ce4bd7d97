package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testCAPEM makes a self-signed CA certificate, PEM-encoded.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestParseTCP(t *testing.T) {
	t.Parallel()

	t.Run("TCPSiteHasNoRecipeAndNoCertLimits", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
defaults:
  recipe: {name: statuspage}
  headers: {User-Agent: walnut}
  cert_warning: 30d
sites:
  - name: Database
    url: tcp://db.internal:5432
`, nil)
		s := cfg.Sites[0]
		if s.Kind != KindTCP || s.RedactedURL != "tcp://db.internal:5432" {
			t.Errorf("kind %q, url %q", s.Kind, s.RedactedURL)
		}
		if s.RecipeName != "" || s.RecipeLine != 0 || s.Headers != nil || s.Method != "" {
			t.Errorf("a tcp site took request settings from defaults: recipe %q at line %d, headers %v, method %q", s.RecipeName, s.RecipeLine, s.Headers, s.Method)
		}
		if s.CertWarning != 0 || s.CertCritical != 0 {
			t.Errorf("a tcp:// site has certificate limits %s, %s", s.CertWarning, s.CertCritical)
		}
	})

	t.Run("TLSSiteGetsCertLimits", func(t *testing.T) {
		t.Parallel()
		cfg := mustParse(t, `
defaults:
  cert_warning: 30d
sites:
  - name: SMTP
    url: tls://mail.example.com:465
    cert_critical: 36h
  - name: Web
    url: https://example.com
    cert_warning: off
    cert_critical: "off"
`, nil)
		smtp, web := cfg.Sites[0], cfg.Sites[1]
		if smtp.Kind != KindTCP || smtp.CertWarning != 30*24*time.Hour || smtp.CertCritical != 36*time.Hour {
			t.Errorf("smtp: kind %q, warning %s, critical %s", smtp.Kind, smtp.CertWarning, smtp.CertCritical)
		}
		if web.Kind != KindHTTP || web.CertWarning != 0 || web.CertCritical != 0 {
			t.Errorf("web: kind %q, warning %s, critical %s; want both off", web.Kind, web.CertWarning, web.CertCritical)
		}
	})
}

func TestParseTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caPEM := testCAPEM(t)
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("RelativeCAIsReadBesideTheConfig", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(dir, "walnut.yaml")
		yaml := "defaults:\n  tls: {insecure: true}\nsites:\n  - name: Internal\n    url: https://intranet.local\n    tls: {ca: ca.pem, insecure: false}\n  - name: Lab\n    url: tls://lab.local:8443\n"
		cfg, err := Parse(path, []byte(yaml), nil, fakeCheck)
		if err != nil {
			t.Fatal(err)
		}
		in, lab := cfg.Sites[0].TLS, cfg.Sites[1].TLS
		if !reflect.DeepEqual(in, TLS{CAFile: "ca.pem", CA: caPEM}) {
			t.Errorf("internal's tls = %+v", in)
		}
		if !lab.Insecure || lab.CA != nil {
			t.Errorf("lab's tls = %+v, want insecure from defaults", lab)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		yaml := strings.Join([]string{
			"sites:",
			"  - name: A",
			"    url: tcp://db.internal:5432",
			"    recipe: status",
			"  - name: B",
			"    url: tcp://db.internal",
			"  - name: C",
			"    url: tls://db.internal:5432/path",
			"  - name: D",
			"    url: https://d.example.com",
			"    cert_warning: soon",
			"    cert_critical: 0d",
			"  - name: E",
			"    url: http://e.example.com",
			"    tls: {insecure: true}",
			"    cert_warning: 7d",
			"  - name: F",
			"    url: https://f.example.com",
			"    tls: {ca: missing.pem, insecure: yes please, cafile: x}",
			"  - name: G",
			"    url: https://g.example.com",
			"    tls:",
			"      ca: junk.pem",
			"  - name: H",
			"    url: tcp://h.example.com:6379",
			"    headers: {X-A: b}",
			"  - name: I",
			"    url: tcp://i.example.com:99999",
			"",
		}, "\n")
		path := filepath.Join(dir, "walnut.yaml")
		_, err := Parse(path, []byte(yaml), nil, fakeCheck)
		want := []string{
			`:4:5: sites[0].recipe: recipe does not apply to a tcp:// site: it connects and sends no request`,
			`:6:10: sites[1].url: "tcp://db.internal" needs a port: tcp://host:port`,
			`:8:10: sites[2].url: "tls://db.internal:5432/path" must be tls://host:port, with no path, query or user`,
			`:11:19: sites[3].cert_warning: "soon" is not a duration (e.g. "14d" or "36h", or off)`,
			`:12:20: sites[3].cert_critical: "0d" must be more than zero (or off)`,
			`:15:5: sites[4].tls: tls applies to https:// and tls:// sites only, not http://`,
			`:16:5: sites[4].cert_warning: cert_warning applies to https:// and tls:// sites only, not http://`,
			`:19:15: sites[5].tls.ca: cannot read "missing.pem": no such file`,
			`:19:38: sites[5].tls.insecure: expected true or false, got "yes please"`,
			`:19:50: unknown key "cafile" in tls of site "F" (expected ca, insecure)`,
			`:23:11: sites[6].tls.ca: "junk.pem" holds no PEM certificate`,
			`:26:5: sites[7].headers: headers does not apply to a tcp:// site: it connects and sends no request`,
			`:28:10: sites[8].url: "tcp://i.example.com:99999" has a bad port`,
		}
		got := errLines(err)
		for i := range got {
			got[i] = strings.TrimPrefix(got[i], path)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
		}
	})
}
