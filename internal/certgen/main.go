// Command certgen writes the X.509 test certificates of internal/mtls to a
// directory (testdata/certs by default): two CAs and client certificates
// with the shapes the mTLS provider must handle. scripts/gen-certs.sh runs
// it and then has openssl describe every certificate independently; both
// outputs are committed, so tests need neither this command nor openssl.
//
// Keys are fresh ECDSA P-256 keys on every run, so every run writes
// different certificates. Validity is fixed: the CAs and clients from
// 2025-01-01 to 2125-01-01, the expired client from 2020-01-01 to
// 2021-01-01.
//
//	go run ./internal/certgen -out testdata/certs
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

var (
	notBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2125, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Attribute OIDs Go's pkix.Name has no field for.
var (
	oidCN      = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidC       = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidL       = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidO       = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU      = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidEmail   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidDC      = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidUID     = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidPrivate = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1} // documentation PEN (RFC 5612)
)

// Universal tags for values Go would encode otherwise.
const (
	tagT61String = 20
	tagIA5String = 22
	tagBMPString = 30
)

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func main() {
	out := flag.String("out", "testdata/certs", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "certgen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w := writer{dir: dir}

	ca := w.ca("ca", pkix.Name{Organization: []string{"wasm-authn"}, CommonName: "wasm-authn test CA"})
	other := w.ca("other-ca", pkix.Name{Organization: []string{"Elsewhere"}, CommonName: "other test CA"})

	// An Istio-style workload certificate: one SPIFFE URI SAN.
	w.client("spiffe-checkout", ca, &x509.Certificate{
		Subject: pkix.Name{Organization: []string{"Example"}, OrganizationalUnit: []string{"shop"}, CommonName: "checkout"},
		URIs:    uris("spiffe://cluster.local/ns/shop/sa/checkout"),
	})
	// Several URI and DNS SANs: Envoy's properties show only the first of
	// each; the XFCC header (URI=, DNS=, Cert=) shows them all.
	w.client("multi-san", ca, &x509.Certificate{
		Subject:  pkix.Name{Organization: []string{"Example"}, CommonName: "cart"},
		URIs:     uris("spiffe://cluster.local/ns/shop/sa/cart", "https://cart.example.com/id"),
		DNSNames: []string{"cart.example.com", "cart.shop.svc.cluster.local"},
	})
	// DNS SANs only.
	w.client("dns-only", ca, &x509.Certificate{
		Subject:  pkix.Name{Organization: []string{"Example"}, CommonName: "api.example.com"},
		DNSNames: []string{"api.example.com", "www.api.example.com"},
	})
	// No SAN at all: the principal is the subject.
	w.client("subject-only", ca, &x509.Certificate{
		Subject: pkix.Name{Country: []string{"US"}, Organization: []string{"Example"}, CommonName: "legacy-client"},
	})
	// A subject that needs every kind of escaping, a multi-valued RDN,
	// non-ASCII text, types Go prints as OIDs and string types Go never
	// writes itself.
	w.client("escaped-subject", ca, &x509.Certificate{
		RawSubject: rawName(
			[]pkix.AttributeTypeAndValue{{Type: oidDC, Value: raw(tagIA5String, "com")}},
			[]pkix.AttributeTypeAndValue{{Type: oidDC, Value: raw(tagIA5String, "example")}},
			[]pkix.AttributeTypeAndValue{{Type: oidC, Value: "GB"}},
			[]pkix.AttributeTypeAndValue{{Type: oidL, Value: raw(tagT61String, "Z\xfcrich")}},
			[]pkix.AttributeTypeAndValue{{Type: oidO, Value: "Sue, Grabbit and Runn"}},
			[]pkix.AttributeTypeAndValue{{Type: oidOU, Value: "Sales"}, {Type: oidCN, Value: "J. Smith"}},
			[]pkix.AttributeTypeAndValue{{Type: oidOU, Value: bmp("Zoë's team")}},
			[]pkix.AttributeTypeAndValue{{Type: oidCN, Value: `#1 "quoted" a\b <x>;y=z+w `}},
			[]pkix.AttributeTypeAndValue{{Type: oidUID, Value: "jsmith"}},
			[]pkix.AttributeTypeAndValue{{Type: oidEmail, Value: raw(tagIA5String, "j.smith@example.com")}},
			[]pkix.AttributeTypeAndValue{{Type: oidPrivate, Value: "custom"}},
		),
		URIs: uris("spiffe://example.org/team/sales/jsmith"),
	})
	// Control characters in the subject (a newline and DEL): Envoy prints
	// them escaped; the provider refuses such a certificate.
	w.client("control-subject", ca, &x509.Certificate{
		RawSubject: rawName(
			[]pkix.AttributeTypeAndValue{{Type: oidO, Value: "del\x7fete"}},
			[]pkix.AttributeTypeAndValue{{Type: oidCN, Value: "line\nbreak"}},
		),
	})
	// A NUL inside a DNS SAN, the classic prefix attack. A CA should never
	// sign it; if one does, the provider refuses it.
	w.client("nul-san", ca, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "nul"},
		DNSNames: []string{"evil.example.com\x00.good.example.com"},
	})
	// Expired: Envoy's TLS context rejects it during the handshake (when it
	// validates client certificates), so the plugin never sees a request
	// over it; the provider still refuses it when it can read the validity
	// from a trusted XFCC Cert (a connection may outlive a certificate).
	w.client("expired", ca, &x509.Certificate{
		Subject:   pkix.Name{Organization: []string{"Example"}, CommonName: "old"},
		URIs:      uris("spiffe://cluster.local/ns/shop/sa/old"),
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:  time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	// The same SPIFFE ID as spiffe-checkout from a CA the listener does
	// not trust: only the TLS context (or a fingerprint pin, or an issuer
	// match on a trusted XFCC Cert) tells them apart.
	w.client("other-ca-client", other, &x509.Certificate{
		Subject: pkix.Name{Organization: []string{"Example"}, OrganizationalUnit: []string{"shop"}, CommonName: "checkout"},
		URIs:    uris("spiffe://cluster.local/ns/shop/sa/checkout"),
	})
	return w.err
}

type writer struct {
	dir string
	err error
}

func (w *writer) ca(name string, subject pkix.Name) *issuer {
	tmpl := &x509.Certificate{
		Subject:               subject,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert, key := w.issue(name, tmpl, nil)
	return &issuer{cert: cert, key: key}
}

func (w *writer) client(name string, by *issuer, tmpl *x509.Certificate) {
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	w.issue(name, tmpl, by)
}

func (w *writer) issue(name string, tmpl *x509.Certificate, by *issuer) (*x509.Certificate, *ecdsa.PrivateKey) {
	if w.err != nil || (by != nil && by.cert == nil) {
		return nil, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		w.err = err
		return nil, nil
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		w.err = err
		return nil, nil
	}
	tmpl.SerialNumber = serial
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	}
	parent, signer := tmpl, key
	if by != nil {
		parent, signer = by.cert, by.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		w.err = fmt.Errorf("%s: %w", name, err)
		return nil, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		// Go refuses to parse some certificates other stacks accept (a
		// NUL in a SAN is not one of them today); keep the template.
		cert = tmpl
		cert.Raw = der
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		w.err = err
		return nil, nil
	}
	w.write(name+".pem", &pem.Block{Type: "CERTIFICATE", Bytes: der})
	w.write(name+"-key.pem", &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return cert, key
}

func (w *writer) write(file string, b *pem.Block) {
	if w.err != nil {
		return
	}
	w.err = os.WriteFile(filepath.Join(w.dir, file), pem.EncodeToMemory(b), 0o644)
}

func uris(ss ...string) []*url.URL {
	var us []*url.URL
	for _, s := range ss {
		u, err := url.Parse(s)
		if err != nil {
			panic(err)
		}
		us = append(us, u)
	}
	return us
}

// rawName encodes RDNs given in DER order (country first) as a Name.
func rawName(rdns ...[]pkix.AttributeTypeAndValue) []byte {
	var seq pkix.RDNSequence
	for _, rdn := range rdns {
		seq = append(seq, pkix.RelativeDistinguishedNameSET(rdn))
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		panic(err)
	}
	return der
}

func raw(tag int, s string) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(s)}
}

func bmp(s string) asn1.RawValue {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tagBMPString, Bytes: b}
}
