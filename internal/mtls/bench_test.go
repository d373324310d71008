package mtls

import (
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// perOp times n calls of fn, in nanoseconds per call, to measure a floor in
// the same run as a benchmark and report the ratio.
func perOp(n int, fn func()) float64 {
	n = max(n, 1)
	start := time.Now()
	for range n {
		fn()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

var sinkBool bool

// BenchmarkMatch measures each matcher on a certificate it admits (the
// slowest path for most), and reports "x-floor": the ratio to comparing the
// SPIFFE ID with one string.
func BenchmarkMatch(b *testing.B) {
	subject, err := ParseDN(fx(b, "escaped-subject").subject)
	if err != nil {
		b.Fatal(err)
	}
	id, _ := ParseSPIFFEID("spiffe://cluster.local/ns/shop/sa/checkout")
	pc := &PeerCert{
		URIs:        []string{id.String(), "https://cart.example.com/id"},
		DNSNames:    []string{"cart.example.com", "api.shop.example.com"},
		Subject:     subject,
		SPIFFEID:    id,
		HasSPIFFEID: true,
	}
	decodeHexDigest(fx(b, "spiffe-checkout").sha256Hex, &pc.SHA256)
	pins := []string{hashA, hashB, hashA, hashB, hashA, hashB, hashA, fx(b, "spiffe-checkout").sha256Hex}
	m := mustMatcherFn(b)
	cases := []struct {
		name string
		m    Matcher
	}{
		{"spiffe", m(MatchSPIFFE("spiffe://cluster.local/ns/*/sa/checkout"))},
		{"spiffe_globstar", m(MatchSPIFFE("spiffe://cluster.local/**/checkout"))},
		{"uri_second", m(MatchURI("https://cart.example.com/id"))},
		{"uri_prefix", m(MatchURIPrefix("https://cart.example.com/"))},
		{"dns_exact_second", m(MatchDNS("API.shop.example.com"))},
		{"dns_wildcard", m(MatchDNS("*.shop.example.com"))},
		{"subject_exact_12_avas", m(MatchSubject(fx(b, "escaped-subject").subject))},
		{"subject_attributes_3", m(MatchSubjectAttributes(map[string]string{"O": "Sue, Grabbit and Runn", "OU": "Sales", "C": "GB"}))},
		{"pins_8", m(MatchFingerprints(pins...))},
	}
	want := id.String()
	floor := func() { sinkBool = pc.URIs[0] == want }
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if !c.m.Match(pc) {
				b.Fatalf("%s does not match", c.m)
			}
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = c.m.Match(pc)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/perOp(b.N, floor), "x-floor")
		})
	}
}

// BenchmarkAuthenticatePeer measures a whole verdict: from the connection
// properties only, with a trusted XFCC element listing the SANs, and with
// its Cert (PEM and X.509 parsing, the dominant cost).
func BenchmarkAuthenticatePeer(b *testing.B) {
	allow := mustMatcherFn(b)(MatchSPIFFE("spiffe://cluster.local/ns/shop/sa/*"))
	cases := []struct {
		name    string
		mode    XFCCMode
		fixture string
		details []string
	}{
		{"properties", XFCCIgnore, "spiffe-checkout", nil},
		{"xfcc_sans", XFCCSanitizeSet, "spiffe-checkout", []string{"subject", "uri", "dns"}},
		{"xfcc_cert", XFCCSanitizeSet, "spiffe-checkout", []string{"subject", "uri", "dns", "cert"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p := newProvider(b, c.mode, allow)
			peer := envoyPeer(b, c.fixture)
			req := &authn.Request{Now: now}
			if c.details != nil {
				req.Headers = []authn.Header{{Key: XFCCHeader, Value: envoyXFCC(b, c.fixture, c.details...)}}
			}
			if v := p.AuthenticatePeer(req, peer); v.Outcome != authn.Valid {
				b.Fatalf("verdict %v %v", v.Outcome, v.Err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = p.AuthenticatePeer(req, peer)
			}
		})
	}
}

// BenchmarkParse measures the parsers on Envoy-shaped input.
func BenchmarkParse(b *testing.B) {
	xfcc := envoyXFCC(b, "multi-san", "subject", "uri", "dns", "cert")
	subject := fx(b, "escaped-subject").subject
	b.Run("xfcc_with_cert", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(xfcc)))
		for b.Loop() {
			if _, err := ParseXFCC(xfcc, XFCCLimits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("subject_12_avas", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(subject)))
		for b.Loop() {
			if _, err := ParseDN(subject); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("spiffe_id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseSPIFFEID("spiffe://cluster.local/ns/shop/sa/checkout"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
