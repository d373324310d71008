package mtls

import (
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// mustMatcherFn returns a helper that takes a constructor's results and
// fails the test on an error.
func mustMatcherFn(t testing.TB) func(Matcher, error) Matcher {
	return func(m Matcher, err error) Matcher {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

func TestMatchURI(t *testing.T) {
	exact := mustMatcherFn(t)(MatchURI("spiffe://cluster.local/ns/shop/sa/checkout"))
	prefix := mustMatcherFn(t)(MatchURIPrefix("https://cart.example.com/"))
	tests := []struct {
		name string
		m    Matcher
		uris []string
		want bool
	}{
		{"exact", exact, []string{"spiffe://cluster.local/ns/shop/sa/checkout"}, true},
		{"exact is case-sensitive", exact, []string{"spiffe://cluster.local/ns/shop/sa/Checkout"}, false},
		{"exact is not a prefix", exact, []string{"spiffe://cluster.local/ns/shop/sa/checkout/x"}, false},
		{"exact, second SAN", exact, []string{"https://x", "spiffe://cluster.local/ns/shop/sa/checkout"}, true},
		{"exact, embedded NUL", exact, []string{"spiffe://cluster.local/ns/shop/sa/checkout\x00.evil"}, false},
		{"prefix", prefix, []string{"https://cart.example.com/id"}, true},
		{"prefix, equal", prefix, []string{"https://cart.example.com/"}, true},
		{"prefix, other host", prefix, []string{"https://cart.example.com.evil/id"}, false},
		{"prefix, control character after it", prefix, []string{"https://cart.example.com/\x00"}, false},
		{"prefix, space after it", prefix, []string{"https://cart.example.com/a b"}, false},
		{"no SAN", exact, nil, false},
	}
	for _, tt := range tests {
		if got := tt.m.Match(&PeerCert{URIs: tt.uris}); got != tt.want {
			t.Errorf("%s: %s.Match(%q) = %v; want %v", tt.name, tt.m, tt.uris, got, tt.want)
		}
	}
}

func TestMatchDNS(t *testing.T) {
	exact := mustMatcherFn(t)(MatchDNS("API.example.com"))
	wild := mustMatcherFn(t)(MatchDNS("*.example.com"))
	tests := []struct {
		name string
		m    Matcher
		dns  []string
		want bool
	}{
		{"exact", exact, []string{"api.example.com"}, true},
		{"exact, any case", exact, []string{"Api.EXAMPLE.com"}, true},
		{"exact, other name", exact, []string{"api.example.org"}, false},
		{"exact, trailing dot is another name", exact, []string{"api.example.com."}, false},
		{"exact, second SAN", exact, []string{"www.example.com", "api.example.com"}, true},
		{"exact, NUL prefix attack", exact, []string{"api.example.com\x00.evil.com"}, false},
		{"wildcard, one label", wild, []string{"api.example.com"}, true},
		{"wildcard, any case", wild, []string{"API.Example.COM"}, true},
		{"wildcard, not the apex", wild, []string{"example.com"}, false},
		{"wildcard, not two labels", wild, []string{"a.b.example.com"}, false},
		{"wildcard, not a suffix without a dot", wild, []string{"evilexample.com"}, false},
		{"wildcard, not another domain", wild, []string{"api.example.com.evil"}, false},
		{"wildcard SAN is no name", wild, []string{"*.example.com"}, false},
		{"wildcard, empty label", wild, []string{".example.com"}, false},
		{"wildcard, NUL", wild, []string{"a\x00.example.com"}, false},
		{"non-ASCII that folds to ASCII", exact, []string{"api.exampl\u212a.com"}, false},
		{"no SAN", wild, nil, false},
	}
	for _, tt := range tests {
		if got := tt.m.Match(&PeerCert{DNSNames: tt.dns}); got != tt.want {
			t.Errorf("%s: %s.Match(%q) = %v; want %v", tt.name, tt.m, tt.dns, got, tt.want)
		}
	}
}

func TestMatchSubject(t *testing.T) {
	// Envoy's form of the escaped-subject fixture, from openssl.
	envoyForm := fx(t, "escaped-subject").subject
	subject, err := ParseDN(envoyForm)
	if err != nil {
		t.Fatal(err)
	}
	pc := &PeerCert{Subject: subject}
	tests := []struct {
		dn   string
		want bool
	}{
		{envoyForm, true},
		// Written by hand: UTF-8 instead of \XX, the multi-valued RDN in
		// the other order, other type spellings.
		{`1.3.6.1.4.1.32473.1=custom,E=j.smith@example.com,uid=jsmith,CN=\#1 \"quoted\" a\\b \<x\>\;y\=z\+w\ ,OU=Zoë's team,OU=Sales+CN=J. Smith,O=Sue\, Grabbit and Runn,L=Zürich,C=GB,DC=example,DC=com`, true},
		{`CN=J. Smith+OU=Sales,O=Sue\, Grabbit and Runn,L=Zürich,C=GB,DC=example,DC=com`, false}, // a suffix only
		{strings.Replace(envoyForm, "C=GB", "C=gb", 1), false},
		{strings.Replace(envoyForm, "DC=example,DC=com", "DC=com,DC=example", 1), false},
	}
	for _, tt := range tests {
		m := mustMatcherFn(t)(MatchSubject(tt.dn))
		if got := m.Match(pc); got != tt.want {
			t.Errorf("MatchSubject(%q).Match(%q) = %v; want %v", tt.dn, envoyForm, got, tt.want)
		}
	}
	if m := mustMatcherFn(t)(MatchSubject("CN=a")); m.Match(&PeerCert{}) {
		t.Error("a subject matcher matched a certificate whose subject did not parse")
	}
}

func TestMatchSubjectAttributes(t *testing.T) {
	subject, err := ParseDN(fx(t, "escaped-subject").subject)
	if err != nil {
		t.Fatal(err)
	}
	pc := &PeerCert{Subject: subject}
	tests := []struct {
		attrs map[string]string
		want  bool
	}{
		{map[string]string{"O": "Sue, Grabbit and Runn"}, true},
		{map[string]string{"o": "Sue, Grabbit and Runn", "C": "GB"}, true},
		{map[string]string{"2.5.4.10": "Sue, Grabbit and Runn", "countryName": "GB"}, true},
		// Inside a multi-valued RDN.
		{map[string]string{"CN": "J. Smith", "OU": "Sales"}, true},
		// Any of several values of one type.
		{map[string]string{"CN": `#1 "quoted" a\b <x>;y=z+w `}, true},
		{map[string]string{"OU": "Zoë's team"}, true},
		{map[string]string{"L": "Zürich"}, true},
		{map[string]string{"emailAddress": "j.smith@example.com", "UID": "jsmith", "DC": "example"}, true},
		{map[string]string{"1.3.6.1.4.1.32473.1": "custom"}, true},
		// Values are exact and every attribute must be present.
		{map[string]string{"O": "sue, grabbit and runn"}, false},
		{map[string]string{"O": "Sue, Grabbit and Runn", "C": "US"}, false},
		{map[string]string{"CN": "J. Smith", "OU": "Marketing"}, false},
		{map[string]string{"title": "boss"}, false},
		{map[string]string{"L": `Z\C3\BCrich`}, false}, // values are plain, not escaped
	}
	for _, tt := range tests {
		m := mustMatcherFn(t)(MatchSubjectAttributes(tt.attrs))
		if got := m.Match(pc); got != tt.want {
			t.Errorf("%s.Match = %v; want %v", m, got, tt.want)
		}
	}
}

func TestMatchIssuer(t *testing.T) {
	issuer, err := ParseDN(fx(t, "spiffe-checkout").issuer)
	if err != nil {
		t.Fatal(err)
	}
	exact := mustMatcherFn(t)(MatchIssuer("CN=wasm-authn test CA,O=wasm-authn"))
	attrs := mustMatcherFn(t)(MatchIssuerAttributes(map[string]string{"O": "wasm-authn"}))
	for _, m := range []Matcher{exact, attrs} {
		if !m.Match(&PeerCert{Issuer: issuer}) {
			t.Errorf("%s does not match the CA", m)
		}
		if m.Match(&PeerCert{Subject: issuer}) {
			t.Errorf("%s matches a subject without an issuer", m)
		}
	}
	other, _ := ParseDN(fx(t, "other-ca-client").issuer)
	if exact.Match(&PeerCert{Issuer: other}) || attrs.Match(&PeerCert{Issuer: other}) {
		t.Error("issuer matchers match the other CA")
	}
}

func TestMatchFingerprints(t *testing.T) {
	hexDigest := fx(t, "spiffe-checkout").sha256Hex
	var pc PeerCert
	if !decodeHexDigest(hexDigest, &pc.SHA256) {
		t.Fatal("bad fixture digest")
	}
	colons := func(h string) string {
		var parts []string
		for i := 0; i < len(h); i += 2 {
			parts = append(parts, h[i:i+2])
		}
		return strings.Join(parts, ":")
	}
	other := fx(t, "other-ca-client").sha256Hex
	tests := []struct {
		name string
		pins []string
		want bool
	}{
		{"lower-case hex", []string{hexDigest}, true},
		{"upper-case hex", []string{strings.ToUpper(hexDigest)}, true},
		{"openssl -fingerprint form", []string{strings.ToUpper(colons(hexDigest))}, true},
		{"lower-case with colons", []string{colons(hexDigest)}, true},
		{"second pin", []string{other, hexDigest}, true},
		{"another certificate", []string{other}, false},
	}
	for _, tt := range tests {
		m := mustMatcherFn(t)(MatchFingerprints(tt.pins...))
		if got := m.Match(&pc); got != tt.want {
			t.Errorf("%s: Match = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestMatcherConstructorErrors(t *testing.T) {
	h := fx(t, "spiffe-checkout").sha256Hex
	tests := []struct {
		name string
		make func() (Matcher, error)
		want string
	}{
		{"uri empty", func() (Matcher, error) { return MatchURI("") }, "empty URI"},
		{"uri NUL", func() (Matcher, error) { return MatchURI("spiffe://a/b\x00c") }, "control character"},
		{"uri space", func() (Matcher, error) { return MatchURI("https://a/b c") }, "RFC 3986"},
		{"uri no scheme", func() (Matcher, error) { return MatchURI("//a/b") }, "scheme"},
		{"uri bad scheme", func() (Matcher, error) { return MatchURI("1http://a") }, "scheme"},
		{"uri scheme only", func() (Matcher, error) { return MatchURI("spiffe:") }, "nothing after the scheme"},
		{"prefix no scheme", func() (Matcher, error) { return MatchURIPrefix("cluster.local/") }, "scheme"},
		{"dns empty", func() (Matcher, error) { return MatchDNS("") }, "not a valid DNS name"},
		{"dns inner wildcard", func() (Matcher, error) { return MatchDNS("a.*.example.com") }, "whole first label"},
		{"dns partial wildcard", func() (Matcher, error) { return MatchDNS("api*.example.com") }, "whole first label"},
		{"dns bare wildcard", func() (Matcher, error) { return MatchDNS("*") }, "whole first label"},
		{"dns wildcard of nothing", func() (Matcher, error) { return MatchDNS("*.") }, `"*." must be followed`},
		{"dns double wildcard", func() (Matcher, error) { return MatchDNS("*.*.example.com") }, `"*." must be followed`},
		{"dns trailing dot", func() (Matcher, error) { return MatchDNS("example.com.") }, "not a valid DNS name"},
		{"dns NUL", func() (Matcher, error) { return MatchDNS("a\x00.example.com") }, "control character"},
		{"dns long label", func() (Matcher, error) { return MatchDNS(strings.Repeat("a", 64) + ".com") }, "not a valid DNS name"},
		{"subject syntax", func() (Matcher, error) { return MatchSubject("CN=a, O=b") }, "at byte 5"},
		{"subject unknown type", func() (Matcher, error) { return MatchSubject("CM=a") }, `unknown attribute type "CM"`},
		{"subject control", func() (Matcher, error) { return MatchSubject(`CN=a\00`) }, "control character"},
		{"attributes none", func() (Matcher, error) { return MatchSubjectAttributes(nil) }, "no attributes"},
		{"attributes unknown type", func() (Matcher, error) { return MatchSubjectAttributes(map[string]string{"Nme": "x"}) }, `attribute "Nme"`},
		{"attributes same type twice", func() (Matcher, error) { return MatchSubjectAttributes(map[string]string{"CN": "a", "2.5.4.3": "a"}) }, "are the same type"},
		{"attributes empty value", func() (Matcher, error) { return MatchSubjectAttributes(map[string]string{"CN": ""}) }, "empty value"},
		{"attributes control", func() (Matcher, error) { return MatchSubjectAttributes(map[string]string{"CN": "a\nb"}) }, "control character"},
		{"attributes not UTF-8", func() (Matcher, error) { return MatchSubjectAttributes(map[string]string{"CN": "\xff"}) }, "not UTF-8"},
		{"issuer syntax", func() (Matcher, error) { return MatchIssuer("CN") }, "expected '='"},
		{"pins none", func() (Matcher, error) { return MatchFingerprints() }, "no fingerprints"},
		{"pin short", func() (Matcher, error) { return MatchFingerprints(h[:62]) }, "fingerprint 0: not a SHA-256"},
		{"pin not hex", func() (Matcher, error) { return MatchFingerprints(h, strings.Repeat("x", 64)) }, "fingerprint 1: not a SHA-256"},
		{"pin SHA-1", func() (Matcher, error) { return MatchFingerprints(h[:40]) }, "not a SHA-256"},
		{"pin one colon", func() (Matcher, error) { return MatchFingerprints(h[:2] + ":" + h[2:]) }, "joined by ':'"},
		{"pin misplaced colons", func() (Matcher, error) { return MatchFingerprints(h[:1] + ":" + h[1:] + strings.Repeat(":", 30)) }, "joined by ':'"},
		{"anyOf empty", func() (Matcher, error) { return AnyOf() }, "no matchers"},
		{"allOf nil", func() (Matcher, error) { return AllOf(nil) }, "nil matcher"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.make()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("= %v, %v; want an error containing %q", m, err, tt.want)
			}
		})
	}
}

func TestAnyAllOf(t *testing.T) {
	a := mustMatcherFn(t)(MatchDNS("a.example.com"))
	b := mustMatcherFn(t)(MatchDNS("b.example.com"))
	anyOf := mustMatcherFn(t)(AnyOf(a, b))
	allOf := mustMatcherFn(t)(AllOf(a, b))
	for _, tt := range []struct {
		dns        []string
		any, every bool
	}{
		{[]string{"a.example.com"}, true, false},
		{[]string{"b.example.com", "a.example.com"}, true, true},
		{[]string{"c.example.com"}, false, false},
	} {
		pc := &PeerCert{DNSNames: tt.dns}
		if anyOf.Match(pc) != tt.any || allOf.Match(pc) != tt.every {
			t.Errorf("%q: any %v all %v; want %v %v", tt.dns, anyOf.Match(pc), allOf.Match(pc), tt.any, tt.every)
		}
	}
	if got := anyOf.String(); got != `any(dns "a.example.com", dns "b.example.com")` {
		t.Errorf("String() = %s", got)
	}
}

func TestRequire(t *testing.T) {
	checkout := mustMatcherFn(t)(MatchSPIFFE("spiffe://cluster.local/ns/shop/sa/checkout"))
	c, err := Require(checkout)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := ParseSPIFFEID("spiffe://cluster.local/ns/shop/sa/checkout")
	good := &authn.Identity{Claims: &PeerCert{URIs: []string{id.String()}, SPIFFEID: id, HasSPIFFEID: true}}
	if err := c.Check(good, nil); err != nil {
		t.Errorf("Check(checkout) = %v", err)
	}
	other, _ := ParseSPIFFEID("spiffe://cluster.local/ns/shop/sa/cart")
	bad := &authn.Identity{Claims: &PeerCert{URIs: []string{other.String()}, SPIFFEID: other, HasSPIFFEID: true}}
	if err := c.Check(bad, nil); err == nil || err.Reason != authn.ReasonForbidden || err.HTTPStatus() != 403 || err.Description != DescPeerNotAllowed {
		t.Errorf("Check(cart) = %v; want 403 %q", err, DescPeerNotAllowed)
	}
	if err := c.Check(&authn.Identity{Principal: "alice"}, nil); err == nil || err.Reason != authn.ReasonForbidden || err.Description != DescNotMTLSIdentity {
		t.Errorf("Check(not mtls) = %v; want 403 %q", err, DescNotMTLSIdentity)
	}
	if _, err := Require(); err == nil {
		t.Error("Require() with no matcher succeeded")
	}
}

func TestMatcherStrings(t *testing.T) {
	m := mustMatcherFn(t)
	tests := []struct {
		m    Matcher
		want string
	}{
		{m(MatchURI("spiffe://a/b")), `uri "spiffe://a/b"`},
		{m(MatchURIPrefix("https://a/")), `uri_prefix "https://a/"`},
		{m(MatchSPIFFE("spiffe://a/*")), `spiffe "spiffe://a/*"`},
		{m(MatchDNS("*.Example.com")), `dns "*.Example.com"`},
		{m(MatchSubject("CN=a,O=b")), `subject "CN=a,O=b"`},
		{m(MatchSubjectAttributes(map[string]string{"o": "b", "commonName": "a"})), `subject attributes {CN="a", O="b"}`},
		{m(MatchIssuer("CN=ca")), `issuer "CN=ca"`},
		{m(MatchIssuerAttributes(map[string]string{"2.5.4.10": "x"})), `issuer attributes {O="x"}`},
		{m(MatchFingerprints(hashA, hashB)), "sha256 pins (2)"},
		{m(AllOf(m(MatchDNS("a.b")), m(MatchURI("x:y")))), `all(dns "a.b", uri "x:y")`},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %s; want %s", got, tt.want)
		}
	}
}
