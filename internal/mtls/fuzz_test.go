package mtls

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// FuzzParseXFCC: ParseXFCC never panics; an error is an *XFCCError at an
// offset inside the input; what it accepts has the documented shape and
// survives writing and parsing again; and the provider, trusting the last
// element, either allows or denies with a known reason.
func FuzzParseXFCC(f *testing.F) {
	seeds := []string{
		"By=http://frontend.lyft.com;Hash=" + hashA + `;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com`,
		"By=http://frontend.lyft.com;Hash=" + hashA + ";URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=" + hashB + ";URI=http://frontend.lyft.com",
		`Subject="CN=James \"Jim\" Smith\, III";URI=;DNS=a.example`,
		`URI="x,By=a;Hash=` + hashA, "By=a:b , By=c:d", `Cert="%zz"`, "", ",", ";", `"`, `Subject="\`,
	}
	if _, err := loadFixtures(); err == nil {
		seeds = append(seeds, envoyXFCC(f, "multi-san", "subject", "uri", "dns", "cert"), envoyXFCC(f, "escaped-subject", "subject", "uri", "chain"))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	peer := &Peer{TLS: true, Presented: true, URISAN: "spiffe://cluster.local/ns/shop/sa/cart", HasURISAN: true, SHA256Hex: hashA}
	prov, err := New("fuzz", nil, Options{XFCC: XFCCAppendForward})
	if err != nil {
		f.Fatal(err)
	}
	known := map[authn.Reason]bool{authn.ReasonMalformedCredential: true, authn.ReasonCredentialTooLarge: true, authn.ReasonInvalidCredential: true}
	f.Fuzz(func(t *testing.T, header string) {
		elems, err := ParseXFCC(header, XFCCLimits{})
		if err != nil {
			var xe *XFCCError
			if !errors.As(err, &xe) || xe.Offset < 0 || (xe.Offset > len(header) && !errors.Is(err, ErrXFCCTooLarge)) {
				t.Fatalf("ParseXFCC(%q) = %v", header, err)
			}
		} else {
			if len(elems) == 0 || len(elems) > DefaultXFCCMaxElements {
				t.Fatalf("ParseXFCC(%q) = %d elements", header, len(elems))
			}
			parts := make([]string, len(elems))
			for i, e := range elems {
				if e.Hash != "" && (len(e.Hash) != 64 || strings.ToLower(e.Hash) != e.Hash) {
					t.Fatalf("Hash %q", e.Hash)
				}
				for _, v := range append(append(append([]string{e.Subject}, e.By...), e.URI...), e.DNS...) {
					if hasControl(v) {
						t.Fatalf("value %q has a control character", v)
					}
				}
				parts[i] = e.String()
			}
			again, err := ParseXFCC(strings.Join(parts, ","), XFCCLimits{MaxBytes: 1 << 20})
			if err != nil || !reflect.DeepEqual(again, elems) {
				t.Fatalf("ParseXFCC(%q) = %#v\nwritten back %q\nparses to %#v, %v", header, elems, strings.Join(parts, ","), again, err)
			}
		}
		v := prov.AuthenticatePeer(&authn.Request{Headers: []authn.Header{{Key: XFCCHeader, Value: header}}, Now: now}, peer)
		switch v.Outcome {
		case authn.Valid:
			if err != nil || PeerCertOf(&v.Identity) == nil {
				t.Fatalf("valid verdict for %q (parse error %v)", header, err)
			}
		case authn.Invalid:
			if v.Err == nil || !known[v.Err.Reason] {
				t.Fatalf("verdict for %q: %v", header, v.Err)
			}
		default:
			t.Fatalf("verdict for %q: %v", header, v.Outcome)
		}
	})
}

// FuzzParseSPIFFE: ParseSPIFFEID never panics; what it accepts is written
// back unchanged, obeys the spec's rules, and is matched by itself as a
// pattern; a pattern compiled from any input matches nothing outside its
// trust domain.
func FuzzParseSPIFFE(f *testing.F) {
	for _, s := range []string{
		"spiffe://cluster.local/ns/shop/sa/checkout", "spiffe://example.org", "spiffe://a/b/../c", "spiffe://a//b",
		"spiffe://A/b", "spiffe://a:1/b", "spiffe://a/b?c", "spiffe://a/%41", "spiffe://a/*/b", "spiffe://a/**", "spiffe://a/**/x/**",
		"spiffe://", "spiffe:///", "",
	} {
		f.Add(s, "spiffe://cluster.local/ns/shop/sa/checkout")
	}
	f.Fuzz(func(t *testing.T, s, other string) {
		id, err := ParseSPIFFEID(s)
		if err == nil {
			if id.String() != s || len(s) > MaxSPIFFEIDLength || id.TrustDomain == "" ||
				strings.Contains(id.Path, "//") || strings.Contains(id.Path+"/", "/./") || strings.Contains(id.Path+"/", "/../") ||
				strings.HasSuffix(s, "/") || strings.ContainsAny(s, "?#%@: \x00*") && !strings.HasPrefix(s, "spiffe:") {
				t.Fatalf("ParseSPIFFEID(%q) = %+v", s, id)
			}
			if strings.ContainsAny(s[len("spiffe:"):], "?#%@: \x00*") {
				t.Fatalf("ParseSPIFFEID(%q) accepted a forbidden character", s)
			}
			m, err := MatchSPIFFE(s)
			if err != nil {
				t.Fatalf("MatchSPIFFE(%q) = %v for a valid ID", s, err)
			}
			if !m.Match(&PeerCert{URIs: []string{s}, SPIFFEID: id, HasSPIFFEID: true}) {
				t.Fatalf("%q does not match itself", s)
			}
		}
		p, perr := compileSPIFFEPattern(s)
		oid, oerr := ParseSPIFFEID(other)
		if perr == nil && oerr == nil {
			if p.match(oid) && oid.TrustDomain != p.trustDomain {
				t.Fatalf("pattern %q matched %q in another trust domain", s, other)
			}
			if !strings.Contains(s, "*") && p.match(oid) != (s == other) {
				t.Fatalf("literal pattern %q vs %q: match %v", s, other, p.match(oid))
			}
		}
	})
}

// FuzzParseSubject: ParseDN never panics; an error is a *DNError inside
// the input; what it accepts has no control character, equals itself, and
// parses back from its String() to an equal name.
func FuzzParseSubject(f *testing.F) {
	seeds := []string{
		"UID=jsmith,DC=example,DC=net", "OU=Sales+CN=J.  Smith,DC=example,DC=net",
		`CN=James \"Jim\" Smith\, III,DC=example,DC=net`, `CN=Before\0dAfter,DC=example,DC=net`,
		"1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com", `CN=Lu\C4\8Di\C4\87`, "CN=#1e0400e90041", "CN= a", `CN=a\`,
	}
	if fs, err := loadFixtures(); err == nil {
		for _, fx := range fs {
			seeds = append(seeds, fx.subject)
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseDN(s)
		if err != nil {
			var de *DNError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > max(len(s), MaxDNLength) {
				t.Fatalf("ParseDN(%q) = %v", s, err)
			}
			return
		}
		count := 0
		for _, rdn := range n {
			if len(rdn) == 0 {
				t.Fatalf("ParseDN(%q) has an empty RDN", s)
			}
			for _, a := range rdn {
				count++
				if !a.Binary && hasControl(a.Value) {
					t.Fatalf("ParseDN(%q): value %q has a control character", s, a.Value)
				}
			}
		}
		if count > MaxDNAttributes || !n.Equal(n) {
			t.Fatalf("ParseDN(%q) = %v", s, n)
		}
		back, err := ParseDN(n.String())
		if err != nil || !back.Equal(n) {
			t.Fatalf("ParseDN(%q).String() = %q parses to %v, %v", s, n.String(), back, err)
		}
	})
}

// FuzzParseCertificate: ParseCertificate never panics on any DER, and what
// it accepts can be presented as Envoy would.
func FuzzParseCertificate(f *testing.F) {
	if fs, err := loadFixtures(); err == nil {
		for _, fx := range fs {
			f.Add(fx.cert.Raw)
		}
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := ParseCertificate(der)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Raw, der) || !bytes.Contains(der, c.RawSubject) || !bytes.Contains(der, c.RawIssuer) {
			t.Fatalf("ParseCertificate = %+v", c)
		}
		_, _ = PeerFromCertificate(c)
		_, _ = NameFromDER(c.RawIssuer)
	})
}
