package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRun writes the certificates to a temporary directory and checks their
// shapes; the committed ones are described by openssl in
// testdata/certs/expected.tsv and tested in internal/mtls.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	load := func(name string) *x509.Certificate {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name+".pem"))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil || block.Type != "CERTIFICATE" {
			t.Fatalf("%s: no certificate", name)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, name+"-key.pem")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return c
	}
	ca, other := load("ca"), load("other-ca")
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	verify := func(c *x509.Certificate) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		return err
	}
	for _, name := range []string{"spiffe-checkout", "multi-san", "dns-only", "subject-only", "escaped-subject"} {
		if err := verify(load(name)); err != nil {
			t.Errorf("%s does not verify against ca: %v", name, err)
		}
	}
	if err := verify(load("expired")); err == nil {
		t.Error("expired verifies")
	}
	if c := load("other-ca-client"); verify(c) == nil || c.CheckSignatureFrom(other) != nil {
		t.Error("other-ca-client is not signed by other-ca only")
	}
	if c := load("multi-san"); len(c.URIs) != 2 || len(c.DNSNames) != 2 {
		t.Errorf("multi-san has %d URI and %d DNS SANs", len(c.URIs), len(c.DNSNames))
	}
	if c := load("escaped-subject"); len(c.RawSubject) == 0 || c.Subject.CommonName == "" {
		t.Error("escaped-subject has no subject")
	}
}
