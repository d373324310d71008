package mtls

import (
	"errors"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/policy"
)

func newProvider(t testing.TB, mode XFCCMode, allow ...Matcher) *Provider {
	t.Helper()
	p, err := New("peers", nil, Options{Allow: allow, XFCC: mode})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func request(headers ...string) *authn.Request {
	r := &authn.Request{Method: "GET", Path: "/", Now: now}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, authn.Header{Key: headers[i], Value: headers[i+1]})
	}
	return r
}

type verdictWant struct {
	outcome   authn.Outcome
	reason    authn.Reason
	status    int
	desc      string
	principal string
}

func checkVerdict(t *testing.T, v authn.Verdict, w verdictWant) {
	t.Helper()
	if v.Outcome != w.outcome {
		t.Fatalf("outcome = %v (%v); want %v", v.Outcome, v.Err, w.outcome)
	}
	switch w.outcome {
	case authn.Valid:
		if v.Err != nil {
			t.Errorf("Err = %v on a valid verdict", v.Err)
		}
		if v.Identity.Principal != w.principal {
			t.Errorf("principal = %q; want %q", v.Identity.Principal, w.principal)
		}
		if PeerCertOf(&v.Identity) == nil {
			t.Error("Identity.Claims is not a *PeerCert")
		}
	default:
		if v.Err == nil {
			t.Fatalf("no Err on a %v verdict", v.Outcome)
		}
		if v.Err.Reason != w.reason || v.Err.HTTPStatus() != w.status || v.Err.Description != w.desc {
			t.Errorf("Err = %v (status %d); want %v %d %q", v.Err, v.Err.HTTPStatus(), w.reason, w.status, w.desc)
		}
	}
}

var (
	valid = func(principal string) verdictWant { return verdictWant{outcome: authn.Valid, principal: principal} }
	forb  = verdictWant{outcome: authn.Invalid, reason: authn.ReasonForbidden, status: 403, desc: DescNotAllowed}
	rej   = func(desc string) verdictWant {
		return verdictWant{outcome: authn.Invalid, reason: authn.ReasonInvalidCredential, status: 403, desc: desc}
	}
)

func TestProviderBasics(t *testing.T) {
	p := newProvider(t, XFCCIgnore)
	if p.Name() != "peers" || p.Method() != "mtls" || p.Challenge() != "" {
		t.Errorf("Name, Method, Challenge = %q, %q, %q", p.Name(), p.Method(), p.Challenge())
	}
	var _ authn.Provider = p
	if _, err := New("x", nil, Options{Allow: []Matcher{nil}}); err == nil {
		t.Error("New with a nil matcher succeeded")
	}
	if _, err := New("x", nil, Options{XFCC: XFCCMode(9)}); err == nil {
		t.Error("New with an unknown XFCC mode succeeded")
	}
	for m, s := range map[XFCCMode]string{XFCCIgnore: "ignore", XFCCSanitizeSet: "sanitize_set", XFCCAppendForward: "append_forward", 9: "unknown"} {
		if m.String() != s {
			t.Errorf("XFCCMode(%d).String() = %q; want %q", int(m), m.String(), s)
		}
		if got, err := ParseXFCCMode(s); (err == nil) != (s != "unknown") || (err == nil && got != m) {
			t.Errorf("ParseXFCCMode(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseXFCCMode("SANITIZE_SET"); err == nil {
		t.Error(`ParseXFCCMode("SANITIZE_SET") succeeded`)
	}
}

// TestAuthenticatePeer judges each fixture as Envoy's properties present it
// (first SANs only), without XFCC.
func TestAuthenticatePeer(t *testing.T) {
	m := mustMatcherFn(t)
	checkout := m(MatchSPIFFE("spiffe://cluster.local/ns/*/sa/checkout"))
	shop := m(MatchSPIFFE("spiffe://cluster.local/ns/shop/sa/*"))
	cartURL := m(MatchURI("https://cart.example.com/id"))
	wwwAPI := m(MatchDNS("*.api.example.com"))
	legacy := m(MatchSubjectAttributes(map[string]string{"CN": "legacy-client", "O": "Example"}))
	sue := m(MatchSubjectAttributes(map[string]string{"O": "Sue, Grabbit and Runn", "OU": "Sales"}))
	pin := m(MatchFingerprints(fx(t, "spiffe-checkout").sha256Hex))
	issuer := m(MatchIssuerAttributes(map[string]string{"O": "wasm-authn"}))

	tests := []struct {
		name  string
		peer  *Peer
		allow []Matcher
		want  verdictWant
	}{
		{"plaintext", &Peer{}, nil, verdictWant{outcome: authn.Absent, reason: authn.ReasonMissingCredential, status: 401, desc: DescNotTLS}},
		{"TLS without a certificate", &Peer{TLS: true}, nil, verdictWant{outcome: authn.Absent, reason: authn.ReasonMissingCredential, status: 401, desc: DescNoCertificate}},
		{"any certificate", envoyPeer(t, "spiffe-checkout"), nil, valid("spiffe://cluster.local/ns/shop/sa/checkout")},
		{"spiffe pattern", envoyPeer(t, "spiffe-checkout"), []Matcher{checkout}, valid("spiffe://cluster.local/ns/shop/sa/checkout")},
		{"spiffe pattern, other service", envoyPeer(t, "multi-san"), []Matcher{checkout}, forb},
		// Only the first URI SAN is known: a certificate with two passes
		// as an SVID, and its second SAN is invisible.
		{"first URI SAN of two", envoyPeer(t, "multi-san"), []Matcher{shop}, valid("spiffe://cluster.local/ns/shop/sa/cart")},
		{"second URI SAN is not visible", envoyPeer(t, "multi-san"), []Matcher{cartURL}, forb},
		{"second DNS SAN is not visible", envoyPeer(t, "dns-only"), []Matcher{wwwAPI}, forb},
		{"DNS principal", envoyPeer(t, "dns-only"), nil, valid("api.example.com")},
		{"subject principal and attributes", envoyPeer(t, "subject-only"), []Matcher{legacy}, valid("CN=legacy-client,O=Example,C=US")},
		{"escaped subject attributes", envoyPeer(t, "escaped-subject"), []Matcher{sue}, valid("spiffe://example.org/team/sales/jsmith")},
		{"any of several", envoyPeer(t, "dns-only"), []Matcher{checkout, legacy, m(MatchDNS("api.example.com"))}, valid("api.example.com")},
		// The CA is the TLS context's business: a certificate of another CA
		// with the same SPIFFE ID passes a SPIFFE matcher...
		{"other CA, same SPIFFE ID", envoyPeer(t, "other-ca-client"), []Matcher{checkout}, valid("spiffe://cluster.local/ns/shop/sa/checkout")},
		// ...but not a pin, nor an issuer match (which needs XFCC Cert).
		{"other CA, pinned", envoyPeer(t, "other-ca-client"), []Matcher{pin}, forb},
		{"pinned", envoyPeer(t, "spiffe-checkout"), []Matcher{pin}, valid("spiffe://cluster.local/ns/shop/sa/checkout")},
		{"issuer needs XFCC Cert", envoyPeer(t, "spiffe-checkout"), []Matcher{issuer}, forb},
		// Envoy rejects an expired certificate during the handshake; were
		// one to reach the plugin, the properties could not tell.
		{"expired, properties only", envoyPeer(t, "expired"), nil, valid("spiffe://cluster.local/ns/shop/sa/old")},
		{"control characters in the subject", envoyPeer(t, "control-subject"), nil, rej(DescControlChar)},
		{"NUL in the DNS SAN", envoyPeer(t, "nul-san"), nil, rej(DescControlChar)},
		{"NUL in the URI SAN", &Peer{TLS: true, Presented: true, URISAN: "spiffe://cluster.local/ns/shop/sa/checkout\x00x", HasURISAN: true, SHA256Hex: hashA}, nil, rej(DescControlChar)},
		{"no digest", &Peer{TLS: true, Presented: true}, nil, verdictWant{outcome: authn.Invalid, reason: authn.ReasonInternal, status: 503, desc: DescBadDigest}},
		{"short digest", &Peer{TLS: true, Presented: true, SHA256Hex: "abcd"}, nil, verdictWant{outcome: authn.Invalid, reason: authn.ReasonInternal, status: 503, desc: DescBadDigest}},
		{"no name at all", &Peer{TLS: true, Presented: true, SHA256Hex: hashA}, nil, valid("sha256:" + hashA)},
		{"unparsable subject falls back", &Peer{TLS: true, Presented: true, Subject: "CN=a;O=b", SHA256Hex: hashA}, nil, valid("CN=a;O=b")},
		{"unparsable subject never matches", &Peer{TLS: true, Presented: true, Subject: "CN=legacy-client;O=Example", SHA256Hex: hashA}, []Matcher{legacy}, forb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, XFCCIgnore, tt.allow...)
			checkVerdict(t, p.AuthenticatePeer(request(), tt.peer), tt.want)
		})
	}
}

func TestAuthenticateSource(t *testing.T) {
	peer := envoyPeer(t, "spiffe-checkout")
	p, err := New("peers", func(*authn.Request) (*Peer, error) { return peer, nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkVerdict(t, p.Authenticate(request()), valid("spiffe://cluster.local/ns/shop/sa/checkout"))

	failing, _ := New("peers", func(*authn.Request) (*Peer, error) { return nil, errors.New("status 10") }, Options{})
	v := failing.Authenticate(request())
	if v.Outcome != authn.Invalid || v.Err.Reason != authn.ReasonInternal || v.Err.HTTPStatus() != 503 || !strings.Contains(v.Err.Description, "status 10") {
		t.Errorf("host failure: %v %v; want 503 internal_error", v.Outcome, v.Err)
	}
	for _, p := range []*Provider{newProvider(t, XFCCIgnore)} {
		if v := p.Authenticate(request()); v.Outcome != authn.Invalid || v.Err.Reason != authn.ReasonInternal {
			t.Errorf("no source: %v %v; want 503", v.Outcome, v.Err)
		}
	}
	nilPeer, _ := New("peers", func(*authn.Request) (*Peer, error) { return nil, nil }, Options{})
	if v := nilPeer.Authenticate(request()); v.Outcome != authn.Invalid || v.Err.Reason != authn.ReasonInternal {
		t.Errorf("nil peer: %v %v; want 503", v.Outcome, v.Err)
	}
}

func TestAuthenticateXFCC(t *testing.T) {
	m := mustMatcherFn(t)
	shop := m(MatchSPIFFE("spiffe://cluster.local/ns/shop/sa/*"))
	cartURL := m(MatchURI("https://cart.example.com/id"))
	wwwAPI := m(MatchDNS("*.api.example.com"))
	issuer := m(MatchIssuerAttributes(map[string]string{"O": "wasm-authn"}))
	otherIssuer := m(MatchIssuer("CN=other test CA,O=Elsewhere"))
	xfcc := func(name string, details ...string) string { return envoyXFCC(t, name, details...) }
	all := []string{"subject", "uri", "dns"}
	withCert := []string{"subject", "uri", "dns", "cert"}

	tests := []struct {
		name    string
		mode    XFCCMode
		peer    string
		headers []string
		allow   []Matcher
		want    verdictWant
		check   func(t *testing.T, pc *PeerCert)
	}{
		{name: "full SAN lists", mode: XFCCSanitizeSet, peer: "multi-san", headers: []string{XFCCHeader, xfcc("multi-san", all...)},
			allow: []Matcher{cartURL}, want: valid("spiffe://cluster.local/ns/shop/sa/cart"),
			check: func(t *testing.T, pc *PeerCert) {
				if len(pc.URIs) != 2 || !pc.URIsComplete || len(pc.DNSNames) != 2 || !pc.DNSComplete || pc.Peer.XFCC == nil {
					t.Errorf("PeerCert = %+v", pc)
				}
			}},
		// With every URI SAN known, two of them make it no SVID.
		{name: "two URI SANs are no SVID", mode: XFCCSanitizeSet, peer: "multi-san", headers: []string{XFCCHeader, xfcc("multi-san", all...)},
			allow: []Matcher{shop}, want: forb},
		{name: "second DNS SAN", mode: XFCCSanitizeSet, peer: "dns-only", headers: []string{XFCCHeader, xfcc("dns-only", all...)},
			allow: []Matcher{wwwAPI}, want: valid("api.example.com")},
		{name: "URI= when there is none", mode: XFCCSanitizeSet, peer: "dns-only", headers: []string{XFCCHeader, xfcc("dns-only", "uri")},
			want: valid("api.example.com"),
			check: func(t *testing.T, pc *PeerCert) {
				if len(pc.URIs) != 0 || !pc.URIsComplete {
					t.Errorf("URIs = %q, complete %v", pc.URIs, pc.URIsComplete)
				}
			}},
		{name: "Cert gives the issuer", mode: XFCCSanitizeSet, peer: "spiffe-checkout", headers: []string{XFCCHeader, xfcc("spiffe-checkout", withCert...)},
			allow: []Matcher{issuer}, want: valid("spiffe://cluster.local/ns/shop/sa/checkout"),
			check: func(t *testing.T, pc *PeerCert) {
				if pc.Certificate == nil || pc.Issuer == nil {
					t.Errorf("Certificate %v, Issuer %v", pc.Certificate, pc.Issuer)
				}
			}},
		{name: "Cert, other CA's issuer", mode: XFCCSanitizeSet, peer: "other-ca-client", headers: []string{XFCCHeader, xfcc("other-ca-client", withCert...)},
			allow: []Matcher{issuer}, want: forb},
		{name: "Cert, matching other issuer", mode: XFCCSanitizeSet, peer: "other-ca-client", headers: []string{XFCCHeader, xfcc("other-ca-client", "cert")},
			allow: []Matcher{otherIssuer}, want: valid("spiffe://cluster.local/ns/shop/sa/checkout")},
		{name: "Cert gives all SANs without URI and DNS keys", mode: XFCCSanitizeSet, peer: "multi-san", headers: []string{XFCCHeader, xfcc("multi-san", "cert")},
			allow: []Matcher{cartURL}, want: valid("spiffe://cluster.local/ns/shop/sa/cart")},
		{name: "Cert of an expired certificate", mode: XFCCSanitizeSet, peer: "expired", headers: []string{XFCCHeader, xfcc("expired", withCert...)},
			want: rej(DescExpired)},
		{name: "chain is not needed", mode: XFCCSanitizeSet, peer: "spiffe-checkout", headers: []string{XFCCHeader, xfcc("spiffe-checkout", "chain")},
			want: valid("spiffe://cluster.local/ns/shop/sa/checkout")},
		{name: "escaped subject agrees", mode: XFCCSanitizeSet, peer: "escaped-subject", headers: []string{XFCCHeader, xfcc("escaped-subject", withCert...)},
			want: valid("spiffe://example.org/team/sales/jsmith")},

		// Contradictions between the element and the connection.
		{name: "Hash of another certificate", mode: XFCCSanitizeSet, peer: "spiffe-checkout", headers: []string{XFCCHeader, xfcc("other-ca-client")},
			want: rej(DescXFCCMismatch)},
		{name: "Subject differs", mode: XFCCSanitizeSet, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, "Hash=" + fx(t, "spiffe-checkout").sha256Hex + `;Subject="CN=admin"`}, want: rej(DescXFCCMismatch)},
		{name: "first URI differs", mode: XFCCSanitizeSet, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, "Hash=" + fx(t, "spiffe-checkout").sha256Hex + ";URI=spiffe://cluster.local/ns/shop/sa/admin"}, want: rej(DescXFCCMismatch)},
		{name: "URI= but the connection has one", mode: XFCCSanitizeSet, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, "Hash=" + fx(t, "spiffe-checkout").sha256Hex + ";URI="}, want: rej(DescXFCCMismatch)},
		{name: "URI but the connection has none", mode: XFCCSanitizeSet, peer: "dns-only",
			headers: []string{XFCCHeader, "URI=spiffe://cluster.local/ns/shop/sa/admin"}, want: rej(DescXFCCMismatch)},
		{name: "first DNS differs", mode: XFCCSanitizeSet, peer: "dns-only",
			headers: []string{XFCCHeader, "DNS=www.api.example.com;DNS=api.example.com"}, want: rej(DescXFCCMismatch)},
		{name: "Cert of another certificate", mode: XFCCSanitizeSet, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, "Hash=" + fx(t, "spiffe-checkout").sha256Hex + `;Cert="` + envoyEncode(fx(t, "other-ca-client").pem) + `"`}, want: rej(DescXFCCMismatch)},
		{name: "Cert is not a certificate", mode: XFCCSanitizeSet, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, `Cert="hello"`}, want: rej(DescXFCCBadCert)},
		{name: "URI list disagrees with Cert", mode: XFCCSanitizeSet, peer: "multi-san",
			headers: []string{XFCCHeader, strings.Replace(xfcc("multi-san", "uri", "cert"), "URI=https://cart.example.com/id", "URI=spiffe://cluster.local/ns/shop/sa/admin", 1)},
			want:    rej(DescXFCCMismatch)},
		{name: "control character in a forwarded SAN", mode: XFCCSanitizeSet, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, `URI="spiffe://cluster.local/ns/shop/sa/checkout\` + "\t" + `"`}, want: verdictWant{outcome: authn.Invalid, reason: authn.ReasonMalformedCredential, status: 400, desc: DescXFCCMalformed}},

		// A URI SAN with ';' that Envoy writes unquoted: the split list's
		// first URI no longer matches the connection's.
		{name: "';' in a URI SAN", mode: XFCCSanitizeSet, peer: "",
			headers: []string{XFCCHeader, "Hash=" + hashA + ";URI=https://a/x;URI=spiffe://cluster.local/ns/shop/sa/admin"}, want: rej(DescXFCCMismatch)},

		// Which element is trusted.
		{name: "sanitize_set, one element only", mode: XFCCSanitizeSet, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, "By=forged;URI=spiffe://evil," + xfcc("spiffe-checkout", all...)},
			want:    verdictWant{outcome: authn.Invalid, reason: authn.ReasonMalformedCredential, status: 400, desc: DescXFCCNotSingle}},
		{name: "append_forward, last element", mode: XFCCAppendForward, peer: "multi-san",
			headers: []string{XFCCHeader, "URI=https://cart.example.com/id;DNS=x.example," + xfcc("multi-san", all...)},
			allow:   []Matcher{cartURL}, want: valid("spiffe://cluster.local/ns/shop/sa/cart")},
		{name: "append_forward, client element ignored", mode: XFCCAppendForward, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, "URI=https://cart.example.com/id," + xfcc("spiffe-checkout", all...)},
			allow:   []Matcher{cartURL}, want: forb},
		{name: "append_forward, client's malformed prefix", mode: XFCCAppendForward, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, `URI="x,` + xfcc("spiffe-checkout", all...)},
			want:    verdictWant{outcome: authn.Invalid, reason: authn.ReasonMalformedCredential, status: 400, desc: DescXFCCMalformed}},
		{name: "repeated header", mode: XFCCAppendForward, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, xfcc("spiffe-checkout"), XFCCHeader, xfcc("spiffe-checkout")},
			want:    verdictWant{outcome: authn.Invalid, reason: authn.ReasonMalformedCredential, status: 400, desc: DescXFCCRepeated}},
		{name: "oversized header", mode: XFCCAppendForward, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, strings.Repeat("By=a:b,", 40) + xfcc("spiffe-checkout")},
			want:    verdictWant{outcome: authn.Invalid, reason: authn.ReasonCredentialTooLarge, status: 400, desc: DescXFCCTooLarge}},
		{name: "no header", mode: XFCCSanitizeSet, peer: "multi-san", allow: []Matcher{cartURL}, want: forb},
		{name: "ignore mode reads nothing", mode: XFCCIgnore, peer: "multi-san",
			headers: []string{XFCCHeader, "not even parsed"}, allow: []Matcher{shop}, want: valid("spiffe://cluster.local/ns/shop/sa/cart")},
		{name: "ignore mode, forged SANs", mode: XFCCIgnore, peer: "spiffe-checkout",
			headers: []string{XFCCHeader, "URI=spiffe://cluster.local/ns/shop/sa/checkout;URI=https://cart.example.com/id"}, allow: []Matcher{cartURL}, want: forb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, tt.mode, tt.allow...)
			peer := &Peer{TLS: true, Presented: true, URISAN: "https://a/x;URI=spiffe://cluster.local/ns/shop/sa/admin", HasURISAN: true, SHA256Hex: hashA}
			if tt.peer != "" {
				peer = envoyPeer(t, tt.peer)
			}
			v := p.AuthenticatePeer(request(tt.headers...), peer)
			checkVerdict(t, v, tt.want)
			if tt.check != nil && v.Outcome == authn.Valid {
				tt.check(t, PeerCertOf(&v.Identity))
			}
			if peer.XFCC != nil {
				t.Error("AuthenticatePeer modified the caller's Peer")
			}
		})
	}
}

func TestAuthenticateCallerXFCC(t *testing.T) {
	elems, err := ParseXFCC(envoyXFCC(t, "multi-san", "uri", "dns"), XFCCLimits{})
	if err != nil {
		t.Fatal(err)
	}
	elems[0].Hash = strings.ToUpper(elems[0].Hash) // a caller's element, any case
	peer := envoyPeer(t, "multi-san")
	peer.XFCC = &elems[0]
	p := newProvider(t, XFCCIgnore, mustMatcherFn(t)(MatchURI("https://cart.example.com/id")))
	checkVerdict(t, p.AuthenticatePeer(request(), peer), valid("spiffe://cluster.local/ns/shop/sa/cart"))
}

// TestRulesAdmitDifferentPeers runs the provider through the policy: one
// provider, per-rule constraints.
func TestRulesAdmitDifferentPeers(t *testing.T) {
	var current *Peer
	prov, err := New("mesh", func(*authn.Request) (*Peer, error) { return current, nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := mustMatcherFn(t)
	checkoutOnly, err := Require(m(MatchSPIFFE("spiffe://cluster.local/ns/shop/sa/checkout")))
	if err != nil {
		t.Fatal(err)
	}
	shopOrAPI, err := Require(m(MatchSPIFFE("spiffe://cluster.local/ns/shop/sa/*")), m(MatchDNS("api.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	pol := &policy.Policy{Providers: []authn.Provider{prov}}
	rule := func(cs ...authn.Constraint) *policy.Rule {
		return &policy.Rule{Name: "r", Require: &policy.Expr{Provider: 0, Constraints: cs}, Uses: []int{0}}
	}
	payments, orders := rule(checkoutOnly), rule(shopOrAPI)
	tests := []struct {
		peer   *Peer
		rule   *policy.Rule
		status int // 0: allowed
	}{
		{envoyPeer(t, "spiffe-checkout"), payments, 0},
		{envoyPeer(t, "multi-san"), payments, 403},
		{envoyPeer(t, "multi-san"), orders, 0},
		{envoyPeer(t, "dns-only"), orders, 0},
		{envoyPeer(t, "subject-only"), orders, 403},
		// No certificate: TLS has no HTTP challenge, so the policy answers 403.
		{&Peer{TLS: true}, payments, 403},
		{&Peer{}, payments, 403},
	}
	for i, tt := range tests {
		current = tt.peer
		d := pol.Decide(request(), tt.rule, nil)
		status := 0
		if !d.Allow {
			status = d.Err.HTTPStatus()
		}
		if status != tt.status {
			t.Errorf("%d: %q: status %d (%v); want %d", i, tt.peer.URISAN+tt.peer.DNSSAN, status, d.Err, tt.status)
		}
		if d.Allow && d.Identity.Principal == "" {
			t.Errorf("%d: allowed without a principal", i)
		}
	}
}
