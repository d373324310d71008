package mtls

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The certificates of testdata/certs, written by scripts/gen-certs.sh:
// internal/certgen made them, openssl described them in expected.tsv.
const certsDir = "../../testdata/certs"

// now is inside every fixture's validity but the expired one's.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	name string
	pem  string
	cert *x509.Certificate
	// From openssl, independently of this package.
	sha256Hex, x5t, subject, issuer string
}

var (
	fixturesOnce sync.Once
	fixtures     map[string]*fixture
	fixturesErr  error
)

func loadFixtures() (map[string]*fixture, error) {
	fixturesOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(certsDir, "expected.tsv"))
		if err != nil {
			fixturesErr = err
			return
		}
		fixtures = map[string]*fixture{}
		for line := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 5 {
				fixturesErr = &os.PathError{Op: "parse", Path: "expected.tsv", Err: os.ErrInvalid}
				return
			}
			text, err := os.ReadFile(filepath.Join(certsDir, f[0]+".pem"))
			if err != nil {
				fixturesErr = err
				return
			}
			block, _ := pem.Decode(text)
			if block == nil {
				fixturesErr = &os.PathError{Op: "pem", Path: f[0], Err: os.ErrInvalid}
				return
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				fixturesErr = err
				return
			}
			fixtures[f[0]] = &fixture{name: f[0], pem: string(text), cert: cert, sha256Hex: f[1], x5t: f[2], subject: f[3], issuer: f[4]}
		}
	})
	return fixtures, fixturesErr
}

func fx(t testing.TB, name string) *fixture {
	t.Helper()
	fs, err := loadFixtures()
	if err != nil {
		t.Fatalf("load %s: %v (run scripts/gen-certs.sh)", certsDir, err)
	}
	f, ok := fs[name]
	if !ok {
		t.Fatalf("no fixture %q", name)
	}
	return f
}

// goSANs returns the fixture's SANs as crypto/x509 reads them.
func goSANs(f *fixture) (uris, dns []string) {
	for _, u := range f.cert.URIs {
		uris = append(uris, u.String())
	}
	return uris, f.cert.DNSNames
}

// envoyPeer is the Peer Envoy presents for an mTLS connection with the
// fixture's certificate, built without this package's parsing and
// formatting: the subject and digest are openssl's, the first SANs
// crypto/x509's.
func envoyPeer(t testing.TB, name string) *Peer {
	t.Helper()
	f := fx(t, name)
	uris, dns := goSANs(f)
	p := &Peer{TLS: true, Presented: true, Subject: f.subject, SHA256Hex: f.sha256Hex}
	if len(uris) > 0 {
		p.URISAN, p.HasURISAN = uris[0], true
	}
	if len(dns) > 0 {
		p.DNSSAN, p.HasDNSSAN = dns[0], true
	}
	return p
}

// envoyEncode is the URL encoding older Envoys apply to Cert and Chain
// (absl::StrReplaceAll of "\n", " ", "+", "/", "="); newer ones use
// PercentEncoding::urlEncode, which percentEncode models.
func envoyEncode(pemText string) string {
	return strings.NewReplacer("\n", "%0A", " ", "%20", "+", "%2B", "/", "%2F", "=", "%3D").Replace(pemText)
}

// envoyXFCC builds the element Envoy's SANITIZE_SET or APPEND_FORWARD adds
// for the fixture, with By, Hash and the details asked for ("subject",
// "uri", "dns", "cert", "chain"), following mutateXfccRequestHeader.
func envoyXFCC(t testing.TB, name string, details ...string) string {
	t.Helper()
	f := fx(t, name)
	uris, dns := goSANs(f)
	parts := []string{"By=spiffe://cluster.local/ns/istio-system/sa/gateway", "Hash=" + f.sha256Hex}
	for _, d := range details {
		switch d {
		case "subject":
			parts = append(parts, `Subject="`+f.subject+`"`)
		case "uri":
			if len(uris) == 0 {
				parts = append(parts, "URI=")
			}
			for _, u := range uris {
				parts = append(parts, "URI="+u)
			}
		case "dns":
			for _, d := range dns {
				parts = append(parts, "DNS="+d)
			}
		case "cert":
			parts = append(parts, `Cert="`+envoyEncode(f.pem)+`"`)
		case "chain":
			parts = append(parts, `Chain="`+percentEncode(f.pem+fx(t, "ca").pem)+`"`)
		default:
			t.Fatalf("unknown detail %q", d)
		}
	}
	return strings.Join(parts, ";")
}

// TestParseCertificate reads every fixture and compares with crypto/x509.
func TestParseCertificate(t *testing.T) {
	fs, err := loadFixtures()
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range fs {
		c, err := ParseCertificate(f.cert.Raw)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		uris, dns := goSANs(f)
		if !bytes.Equal(c.Raw, f.cert.Raw) || !bytes.Equal(c.RawSubject, f.cert.RawSubject) || !bytes.Equal(c.RawIssuer, f.cert.RawIssuer) ||
			!c.NotBefore.Equal(f.cert.NotBefore) || !c.NotAfter.Equal(f.cert.NotAfter) ||
			!slices.Equal(c.URIs, uris) || !slices.Equal(c.DNSNames, dns) {
			t.Errorf("%s: ParseCertificate = %+v", name, c)
		}
	}
	good := fx(t, "multi-san").cert.Raw
	for _, tt := range []struct {
		name string
		der  []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(slices.Clone(good), 0)},
		{"not a sequence", append([]byte{0x31}, good[1:]...)},
		{"two SAN extensions", twoSANs(t, good)},
	} {
		if c, err := ParseCertificate(tt.der); err == nil {
			t.Errorf("%s: ParseCertificate = %+v; want an error", tt.name, c)
		}
	}
}

// twoSANs returns der with its subjectAltName extension repeated; the
// signature no longer verifies, which ParseCertificate does not check.
func twoSANs(t *testing.T, der []byte) []byte {
	t.Helper()
	tmpl := fx(t, "multi-san").cert
	var san pkix.Extension
	for _, e := range tmpl.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			san = e
		}
	}
	var exts []pkix.Extension
	exts = append(exts, tmpl.Extensions...)
	exts = append(exts, san)
	tbs := struct {
		Version    int `asn1:"optional,explicit,default:0,tag:0"`
		Serial     *big.Int
		SigAlg     pkix.AlgorithmIdentifier
		Issuer     asn1.RawValue
		Validity   struct{ NotBefore, NotAfter time.Time }
		Subject    asn1.RawValue
		PublicKey  asn1.RawValue
		Extensions []pkix.Extension `asn1:"optional,explicit,tag:3"`
	}{2, tmpl.SerialNumber, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}},
		asn1.RawValue{FullBytes: tmpl.RawIssuer}, struct{ NotBefore, NotAfter time.Time }{tmpl.NotBefore, tmpl.NotAfter},
		asn1.RawValue{FullBytes: tmpl.RawSubject}, asn1.RawValue{FullBytes: tmpl.RawSubjectPublicKeyInfo}, exts}
	out, err := asn1.Marshal(struct {
		TBS    any
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}{tbs, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, asn1.BitString{Bytes: []byte{0}, BitLength: 8}})
	if err != nil {
		t.Fatal(err)
	}
	// The same without the duplicate parses.
	tbs.Extensions = tmpl.Extensions
	one, err := asn1.Marshal(struct {
		TBS    any
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}{tbs, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, asn1.BitString{Bytes: []byte{0}, BitLength: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := ParseCertificate(one); err != nil || len(c.URIs) != 2 {
		t.Fatalf("rebuilt certificate: %+v, %v", c, err)
	}
	return out
}

func TestFixtures(t *testing.T) {
	fs, err := loadFixtures()
	if err != nil {
		t.Fatalf("load %s: %v (run scripts/gen-certs.sh)", certsDir, err)
	}
	for _, name := range []string{"ca", "other-ca", "spiffe-checkout", "multi-san", "dns-only", "subject-only",
		"escaped-subject", "control-subject", "nul-san", "expired", "other-ca-client"} {
		if fs[name] == nil {
			t.Errorf("fixture %q missing", name)
		}
	}
	if c := fx(t, "expired").cert; !now.After(c.NotAfter) {
		t.Errorf("expired fixture valid until %v", c.NotAfter)
	}
	if err := fx(t, "other-ca-client").cert.CheckSignatureFrom(fx(t, "ca").cert); err == nil {
		t.Error("other-ca-client verifies against ca")
	}
	if err := fx(t, "spiffe-checkout").cert.CheckSignatureFrom(fx(t, "ca").cert); err != nil {
		t.Errorf("spiffe-checkout does not verify against ca: %v", err)
	}
}
