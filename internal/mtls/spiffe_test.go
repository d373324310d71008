package mtls

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSPIFFEID(t *testing.T) {
	valid := []struct {
		in         string
		td, path   string
		roundTrips bool
	}{
		{"spiffe://cluster.local/ns/shop/sa/checkout", "cluster.local", "/ns/shop/sa/checkout", true},
		{"spiffe://example.org", "example.org", "", true},
		{"spiffe://a/b", "a", "/b", true},
		{"spiffe://trust_domain-1.example/Path.With-Mixed_Case/9", "trust_domain-1.example", "/Path.With-Mixed_Case/9", true},
		{"spiffe://10.0.0.1/ip-like-trust-domain", "10.0.0.1", "/ip-like-trust-domain", true},
		{"spiffe://td/...", "td", "/...", true}, // "..." is not a relative segment
		{"spiffe://td/" + strings.Repeat("a", MaxSPIFFEIDLength-len("spiffe://td/")), "td", "/" + strings.Repeat("a", MaxSPIFFEIDLength-len("spiffe://td/")), true},
	}
	for _, tt := range valid {
		id, err := ParseSPIFFEID(tt.in)
		if err != nil {
			t.Errorf("ParseSPIFFEID(%q) = %v; want ok", tt.in, err)
			continue
		}
		if id.TrustDomain != tt.td || id.Path != tt.path || id.String() != tt.in {
			t.Errorf("ParseSPIFFEID(%q) = %+v (%q)", tt.in, id, id.String())
		}
	}

	invalid := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrSPIFFEScheme},
		{"other scheme", "https://example.org/a", ErrSPIFFEScheme},
		{"upper-case scheme", "SPIFFE://example.org/a", ErrSPIFFEScheme},
		{"single slash", "spiffe:/example.org/a", ErrSPIFFEScheme},
		{"no authority", "spiffe:example.org", ErrSPIFFEScheme},
		{"empty trust domain", "spiffe:///a", ErrSPIFFETrustDomain},
		{"upper-case trust domain", "spiffe://Example.org/a", ErrSPIFFETrustDomain},
		{"port", "spiffe://example.org:8443/a", ErrSPIFFETrustDomain},
		{"userinfo", "spiffe://user@example.org/a", ErrSPIFFETrustDomain},
		{"percent in trust domain", "spiffe://ex%61mple.org/a", ErrSPIFFETrustDomain},
		{"ipv6", "spiffe://[::1]/a", ErrSPIFFETrustDomain},
		{"query without path", "spiffe://example.org?x=1", ErrSPIFFETrustDomain},
		{"fragment without path", "spiffe://example.org#f", ErrSPIFFETrustDomain},
		{"trust domain too long", "spiffe://" + strings.Repeat("a", 256), ErrSPIFFETrustDomain},
		{"trailing slash", "spiffe://example.org/", ErrSPIFFEPath},
		{"trailing slash after path", "spiffe://example.org/a/", ErrSPIFFEPath},
		{"empty segment", "spiffe://example.org/a//b", ErrSPIFFEPath},
		{"dot segment", "spiffe://example.org/a/./b", ErrSPIFFEPath},
		{"dot-dot segment", "spiffe://example.org/a/../b", ErrSPIFFEPath},
		{"query", "spiffe://example.org/a?x=1", ErrSPIFFEPath},
		{"fragment", "spiffe://example.org/a#f", ErrSPIFFEPath},
		{"percent-encoding", "spiffe://example.org/a%2Fb", ErrSPIFFEPath},
		{"space", "spiffe://example.org/a b", ErrSPIFFEPath},
		{"NUL", "spiffe://example.org/a\x00b", ErrSPIFFEPath},
		{"newline", "spiffe://example.org/a\n", ErrSPIFFEPath},
		{"non-ASCII", "spiffe://example.org/caf\u00e9", ErrSPIFFEPath},
		{"wildcard", "spiffe://example.org/ns/*", ErrSPIFFEPath},
		{"too long", "spiffe://td/" + strings.Repeat("a", MaxSPIFFEIDLength-len("spiffe://td/")+1), ErrSPIFFETooLong},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			if id, err := ParseSPIFFEID(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("ParseSPIFFEID(%q) = %+v, %v; want %v", tt.in, id, err, tt.want)
			}
		})
	}
}

func TestMatchSPIFFE(t *testing.T) {
	tests := []struct {
		pattern, id string
		want        bool
	}{
		{"spiffe://cluster.local/ns/shop/sa/checkout", "spiffe://cluster.local/ns/shop/sa/checkout", true},
		{"spiffe://cluster.local/ns/shop/sa/checkout", "spiffe://cluster.local/ns/shop/sa/Checkout", false},
		{"spiffe://cluster.local/ns/*/sa/checkout", "spiffe://cluster.local/ns/shop/sa/checkout", true},
		{"spiffe://cluster.local/ns/*/sa/checkout", "spiffe://cluster.local/ns/other/sa/checkout", true},
		// '*' is one whole segment: it never crosses '/' and is never empty.
		{"spiffe://cluster.local/ns/*/sa/checkout", "spiffe://cluster.local/ns/a/b/sa/checkout", false},
		{"spiffe://cluster.local/ns/*/sa/checkout", "spiffe://cluster.local/ns/sa/checkout", false},
		{"spiffe://cluster.local/ns/*", "spiffe://cluster.local/ns/shop/sa/checkout", false},
		{"spiffe://cluster.local/ns/*", "spiffe://cluster.local/ns", false},
		{"spiffe://cluster.local/*/*/*/*", "spiffe://cluster.local/ns/shop/sa/checkout", true},
		// Trust domains are compared exactly.
		{"spiffe://cluster.local/ns/*/sa/checkout", "spiffe://evil.local/ns/shop/sa/checkout", false},
		{"spiffe://cluster.local/ns/*/sa/checkout", "spiffe://cluster.local.evil/ns/shop/sa/checkout", false},
		{"spiffe://local/ns/*/sa/checkout", "spiffe://cluster.local/ns/shop/sa/checkout", false},
		// "**" is one or more segments.
		{"spiffe://cluster.local/**", "spiffe://cluster.local/ns/shop/sa/checkout", true},
		{"spiffe://cluster.local/**", "spiffe://cluster.local/a", true},
		{"spiffe://cluster.local/**", "spiffe://cluster.local", false},
		{"spiffe://cluster.local/ns/**/checkout", "spiffe://cluster.local/ns/shop/sa/checkout", true},
		{"spiffe://cluster.local/ns/**/checkout", "spiffe://cluster.local/ns/x/checkout", true},
		{"spiffe://cluster.local/ns/**/checkout", "spiffe://cluster.local/ns/checkout", false},
		{"spiffe://cluster.local/ns/**/sa/*", "spiffe://cluster.local/ns/shop/sa/checkout", true},
		{"spiffe://cluster.local/ns/**/sa/*", "spiffe://cluster.local/ns/shop/sa", false},
		{"spiffe://cluster.local/**/sa/checkout", "spiffe://cluster.local/sa/checkout", false},
		// No path matches only the trust domain's own ID.
		{"spiffe://cluster.local", "spiffe://cluster.local", true},
		{"spiffe://cluster.local", "spiffe://cluster.local/a", false},
	}
	for _, tt := range tests {
		m, err := MatchSPIFFE(tt.pattern)
		if err != nil {
			t.Fatalf("MatchSPIFFE(%q): %v", tt.pattern, err)
		}
		pc := &PeerCert{URIs: []string{tt.id}}
		pc.SPIFFEID, err = ParseSPIFFEID(tt.id)
		pc.HasSPIFFEID = err == nil
		if got := m.Match(pc); got != tt.want {
			t.Errorf("%s.Match(%q) = %v; want %v", m, tt.id, got, tt.want)
		}
	}
}

func TestMatchSPIFFESVIDRules(t *testing.T) {
	m, err := MatchSPIFFE("spiffe://cluster.local/ns/shop/sa/*")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := ParseSPIFFEID("spiffe://cluster.local/ns/shop/sa/cart")
	tests := []struct {
		name string
		pc   PeerCert
		want bool
	}{
		{"first URI SAN only", PeerCert{URIs: []string{id.String()}, SPIFFEID: id, HasSPIFFEID: true}, true},
		{"complete, exactly one", PeerCert{URIs: []string{id.String()}, URIsComplete: true, SPIFFEID: id, HasSPIFFEID: true}, true},
		// X.509-SVID §2: exactly one URI SAN; several means not an SVID.
		{"complete, two URI SANs", PeerCert{URIs: []string{id.String(), "https://cart.example.com/id"}, URIsComplete: true, SPIFFEID: id, HasSPIFFEID: true}, false},
		{"not a SPIFFE ID", PeerCert{URIs: []string{"https://cart.example.com/id"}}, false},
		{"no URI SAN", PeerCert{URIsComplete: true}, false},
	}
	for _, tt := range tests {
		if got := m.Match(&tt.pc); got != tt.want {
			t.Errorf("%s: Match = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestMatchSPIFFEInvalidPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // substring of the error
	}{
		{"", "scheme"},
		{"https://cluster.local/ns/*", "scheme"},
		{"spiffe://*.local/ns/x", "wildcard in the trust domain"},
		{"spiffe://*/ns/x", "wildcard in the trust domain"},
		{"spiffe://Cluster.local/ns/x", "trust domain"},
		{"spiffe://cluster.local/", "path"},
		{"spiffe://cluster.local/ns//x", "path"},
		{"spiffe://cluster.local/ns/../x", "path"},
		{"spiffe://cluster.local/ns/sa-*", "whole path segment"},
		{"spiffe://cluster.local/ns/*x*", "whole path segment"},
		{"spiffe://cluster.local/***", "whole path segment"},
		{"spiffe://cluster.local/**/x/**", `more than one "**"`},
		{"spiffe://cluster.local/ns/x?y", "path"},
		{"spiffe://cluster.local/ns/x\x00", "path"},
	}
	for _, tt := range tests {
		_, err := MatchSPIFFE(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MatchSPIFFE(%q) = %v; want an error about %q", tt.pattern, err, tt.want)
		}
	}
}
