package mtls

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
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

// envoyPeer is the Peer Envoy presents for an mTLS connection with the
// fixture's certificate, built without this package's formatting: the
// subject and digest are openssl's, the SANs the first raw ones.
func envoyPeer(t testing.TB, name string) *Peer {
	t.Helper()
	f := fx(t, name)
	uris, dns, err := rawSANs(f.cert)
	if err != nil {
		t.Fatal(err)
	}
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
	uris, dns, err := rawSANs(f.cert)
	if err != nil {
		t.Fatal(err)
	}
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
