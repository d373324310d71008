package mtls

import (
	"strings"
	"testing"
)

// TestCertThumbprintMatches checks every fixture's x5t#S256, computed by
// openssl (`openssl x509 -outform DER | openssl dgst -sha256 -binary |
// base64url`), against its hex digest, also openssl's.
func TestCertThumbprintMatches(t *testing.T) {
	fs, err := loadFixtures()
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range fs {
		if !CertThumbprintMatches(f.x5t, f.sha256Hex) {
			t.Errorf("%s: CertThumbprintMatches(%q, %q) = false", name, f.x5t, f.sha256Hex)
		}
		if !CertThumbprintMatches(f.x5t, strings.ToUpper(f.sha256Hex)) {
			t.Errorf("%s: upper-case hex digest does not match", name)
		}
		for other, g := range fs {
			if other != name && CertThumbprintMatches(f.x5t, g.sha256Hex) {
				t.Errorf("CertThumbprintMatches(%s's x5t, %s's digest) = true", name, other)
			}
		}
	}

	f := fx(t, "spiffe-checkout")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, f.x5t[42])
	nonCanonical := f.x5t[:42] + string(alphabet[last|1]) // a trailing bit set
	std := strings.NewReplacer("-", "+", "_", "/").Replace(f.x5t)
	var colons []string
	for i := 0; i < 64; i += 2 {
		colons = append(colons, f.sha256Hex[i:i+2])
	}
	tests := []struct {
		name, x5t, digest string
	}{
		{"padded", f.x5t + "=", f.sha256Hex},
		{"short", f.x5t[:42], f.sha256Hex},
		{"long", f.x5t + "A", f.sha256Hex},
		{"non-canonical trailing bits", nonCanonical, f.sha256Hex},
		{"newline inside", f.x5t[:20] + "\n" + f.x5t[21:], f.sha256Hex},
		{"space", f.x5t[:42] + " ", f.sha256Hex},
		{"empty", "", f.sha256Hex},
		{"hex instead of base64url", f.sha256Hex, f.sha256Hex},
		{"empty digest (no certificate)", f.x5t, ""},
		{"short digest", f.x5t, f.sha256Hex[:62]},
		{"digest with colons", f.x5t, strings.Join(colons, ":")},
		{"digest not hex", f.x5t, strings.Repeat("z", 64)},
		{"digest in base64url", f.x5t, f.x5t},
	}
	if std != f.x5t {
		tests = append(tests, struct{ name, x5t, digest string }{"standard alphabet", std, f.sha256Hex})
	}
	for _, tt := range tests {
		if CertThumbprintMatches(tt.x5t, tt.digest) {
			t.Errorf("%s: CertThumbprintMatches(%q, %q) = true", tt.name, tt.x5t, tt.digest)
		}
	}
}

// TestPeerFromCertificate checks that the Peer built from a certificate is
// the one Envoy presents (openssl's subject and digest, first SANs).
func TestPeerFromCertificate(t *testing.T) {
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
		got, err := PeerFromCertificate(c)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want := envoyPeer(t, name); got != *want {
			t.Errorf("%s: PeerFromCertificate =\n  %+v\nwant\n  %+v", name, got, *want)
		}
	}
}
