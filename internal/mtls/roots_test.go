package mtls

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"slices"
	"strings"
	"testing"
)

const rootsDir = "../../testdata/mozilla-roots"

// Every root of Mozilla's store (real certificates from CAs around the
// world): ParseCertificate reads what crypto/x509 reads; FormatName prints
// each subject exactly as OpenSSL's RFC 2253 option does; ParseDN reads
// that text back to the same name as the DER; and the peer identity a
// certificate yields names the same subject.
func TestMozillaRoots(t *testing.T) {
	pemData, err := os.ReadFile(rootsDir + "/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(rootsDir + "/subjects-openssl-rfc2253.txt")
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, l := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		if !strings.HasPrefix(l, "#") {
			subjects = append(subjects, l)
		}
	}
	n := 0
	for rest := pemData; ; n++ {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		if n >= len(subjects) {
			t.Fatalf("more certificates than subjects (%d)", len(subjects))
		}
		want, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatalf("#%d: crypto/x509: %v", n+1, err)
		}
		c, err := ParseCertificate(blk.Bytes)
		if err != nil {
			t.Errorf("#%d %s: %v", n+1, subjects[n], err)
			continue
		}
		var uris []string
		for _, u := range want.URIs {
			uris = append(uris, u.String())
		}
		if !bytes.Equal(c.RawSubject, want.RawSubject) || !bytes.Equal(c.RawIssuer, want.RawIssuer) ||
			!c.NotBefore.Equal(want.NotBefore) || !c.NotAfter.Equal(want.NotAfter) ||
			!slices.Equal(c.DNSNames, want.DNSNames) || !slices.Equal(c.URIs, uris) {
			t.Errorf("#%d %s: ParseCertificate differs from crypto/x509", n+1, subjects[n])
		}
		got, err := FormatName(c.RawSubject)
		if err != nil || got != subjects[n] {
			t.Errorf("#%d: FormatName = %q, %v\nOpenSSL prints %q", n+1, got, err, subjects[n])
			continue
		}
		fromDER, err := NameFromDER(c.RawSubject)
		if err != nil {
			t.Errorf("#%d: NameFromDER: %v", n+1, err)
			continue
		}
		fromText, err := ParseDN(subjects[n])
		if err != nil || !fromText.Equal(fromDER) {
			t.Errorf("#%d: ParseDN(%q) = %v, %v; the DER reads %v", n+1, subjects[n], fromText, err, fromDER)
		}
		if _, err := PeerFromCertificate(c); err != nil {
			t.Errorf("#%d: PeerFromCertificate: %v", n+1, err)
		}
	}
	if n != len(subjects) || n < 100 {
		t.Fatalf("%d certificates, %d subjects", n, len(subjects))
	}
}
