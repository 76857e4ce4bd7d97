package checker

import (
	"crypto/x509"
	"net"
	"testing"
	"time"
)

// BenchmarkLeafCert is what reading the certificate adds to each TLS probe:
// its fingerprint and the record the runner compares with the one saved.
func BenchmarkLeafCert(b *testing.B) {
	ca := newTestCA(&testing.T{})
	leaf := ca.leaf(&testing.T{}, time.Now().Add(5*24*time.Hour))
	cert, err := x509.ParseCertificate(leaf.Certificate[0])
	if err != nil {
		b.Fatal(err)
	}
	site := Site{CertWarning: 14 * 24 * time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		if leafCert(cert, site) == nil {
			b.Fatal("no cert")
		}
	}
}

// BenchmarkProbeTCP is one tcp:// and one tls:// probe of a loopback
// listener: what a TCP site costs the checker.
func BenchmarkProbeTCP(b *testing.B) {
	t := &testing.T{}
	ca := newTestCA(t)
	plain := listen(t, func(net.Conn) {})
	secure := tlsListen(t, ca.leaf(t, time.Now().Add(5*24*time.Hour)))
	for name, site := range map[string]Site{
		"tcp": {TCP: true, URL: "tcp://" + plain, Timeout: 10 * time.Second},
		"tls": {TCP: true, URL: "tls://" + secure, Timeout: 10 * time.Second, CA: ca.pem, CertWarning: 14 * 24 * time.Hour},
	} {
		b.Run(name, func(b *testing.B) {
			conf, err := site.tlsConfig()
			if err != nil {
				b.Fatal(err)
			}
			scrub := newScrubber(site, nil)
			b.ReportAllocs()
			for b.Loop() {
				if o := probe(b.Context(), nil, conf, site, time.Now, scrub); o.probe.State != "ok" {
					b.Fatalf("probe = %+v", o.probe)
				}
			}
		})
	}
}
