package mtls

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// A Matcher decides whether a client certificate is admitted. Matchers are
// compiled once, at configuration, by the Match* constructors, which
// validate their input and return errors that name the problem (the
// configuration layer prefixes the JSON path). A Matcher is immutable and
// never allocates or panics when matching.
type Matcher interface {
	// Match reports whether pc is admitted.
	Match(pc *PeerCert) bool
	// String describes the matcher for logs, e.g. `spiffe "spiffe://..."`.
	String() string
}

// MatchURI admits a certificate with a URI SAN equal to uri, byte for byte.
// uri must be an absolute URI (a scheme, then RFC 3986 characters).
func MatchURI(uri string) (Matcher, error) {
	if err := checkURIPattern(uri, false); err != nil {
		return nil, err
	}
	return &uriMatcher{v: uri}, nil
}

// MatchURIPrefix admits a certificate with a URI SAN that starts with
// prefix. The prefix must start with a scheme and ':'. Beware that
// "spiffe://td/ns/a" is also a prefix of "spiffe://td/ns/ab": end a prefix
// with '/' or use MatchSPIFFE.
func MatchURIPrefix(prefix string) (Matcher, error) {
	if err := checkURIPattern(prefix, true); err != nil {
		return nil, err
	}
	return &uriMatcher{v: prefix, prefix: true}, nil
}

type uriMatcher struct {
	v      string
	prefix bool
}

// Match implements Matcher.
func (m *uriMatcher) Match(pc *PeerCert) bool {
	for _, u := range pc.URIs {
		if m.prefix {
			if strings.HasPrefix(u, m.v) && uriChars(u) {
				return true
			}
		} else if u == m.v {
			return true
		}
	}
	return false
}

// String implements Matcher.
func (m *uriMatcher) String() string {
	if m.prefix {
		return "uri_prefix " + strconv.Quote(m.v)
	}
	return "uri " + strconv.Quote(m.v)
}

func checkURIPattern(s string, prefix bool) error {
	if s == "" {
		return errors.New("empty URI")
	}
	if hasControl(s) {
		return errors.New("a control character in the URI")
	}
	if !uriChars(s) {
		return errors.New("a character that RFC 3986 does not allow in a URI")
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 || !isAlpha(s[0]) {
		return errors.New("the URI does not start with a scheme and ':'")
	}
	for j := 1; j < i; j++ {
		if c := s[j]; !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return errors.New("the URI does not start with a scheme and ':'")
		}
	}
	if !prefix && i == len(s)-1 {
		return errors.New("the URI has nothing after the scheme")
	}
	return nil
}

// uriChars reports whether s has only the characters RFC 3986 allows in a
// URI: unreserved, reserved and '%'.
func uriChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// MatchSPIFFE admits a certificate whose SPIFFE ID matches pattern, e.g.
// "spiffe://cluster.local/ns/*/sa/checkout". The trust domain must be equal
// (it is never a wildcard); "*" matches exactly one whole path segment and
// never crosses '/'; "**", if the pattern has one (at most one), matches
// one or more segments; any other segment is literal and case-sensitive.
// "spiffe://td" admits only the ID "spiffe://td" itself; "spiffe://td/**"
// admits every ID with a path in that trust domain.
//
// The certificate's SPIFFE ID is its first URI SAN, parsed strictly
// (ParseSPIFFEID). When all its URI SANs are known (a trusted XFCC), it
// must have exactly one, as the X.509-SVID specification requires (§2); a
// certificate with several is not an SVID and is not admitted.
func MatchSPIFFE(pattern string) (Matcher, error) {
	p, err := compileSPIFFEPattern(pattern)
	if err != nil {
		return nil, err
	}
	return &spiffeMatcher{p: p}, nil
}

type spiffeMatcher struct{ p *spiffePattern }

// Match implements Matcher.
func (m *spiffeMatcher) Match(pc *PeerCert) bool {
	if !pc.HasSPIFFEID || (pc.URIsComplete && len(pc.URIs) != 1) {
		return false
	}
	return m.p.match(pc.SPIFFEID)
}

// String implements Matcher.
func (m *spiffeMatcher) String() string { return "spiffe " + strconv.Quote(m.p.src) }

// MatchDNS admits a certificate with a DNS SAN equal to pattern, compared
// case-insensitively (ASCII), or, for "*.example.com", a DNS SAN of exactly
// one more label: "a.example.com" but neither "example.com" (the apex) nor
// "a.b.example.com". This is RFC 6125 §6.4.3 and what Envoy's own SAN
// matcher (dnsNameMatch) does; list several patterns for several depths. A
// pattern is a DNS name of labels of letters, digits, '-' and '_' (at most
// 63 bytes each, 253 in all, no trailing dot), optionally prefixed by "*.";
// '*' anywhere else is an error. A SAN that is not such a name, or that is
// itself a wildcard, matches nothing.
func MatchDNS(pattern string) (Matcher, error) {
	p := strings.ToLower(pattern)
	if hasControl(p) {
		return nil, errors.New("a control character in the DNS name")
	}
	if rest, ok := strings.CutPrefix(p, "*."); ok {
		if !validDNSName(rest) {
			return nil, errors.New(`"*." must be followed by a valid DNS name`)
		}
		return &dnsMatcher{src: pattern, suffix: p[1:]}, nil
	}
	if strings.Contains(p, "*") {
		return nil, errors.New(`'*' is only allowed as the whole first label ("*.example.com")`)
	}
	if !validDNSName(p) {
		return nil, errors.New("not a valid DNS name")
	}
	return &dnsMatcher{src: pattern, exact: p}, nil
}

type dnsMatcher struct {
	src    string
	exact  string // lower case
	suffix string // ".example.com" for "*.example.com"
}

// Match implements Matcher.
func (m *dnsMatcher) Match(pc *PeerCert) bool {
	for _, d := range pc.DNSNames {
		if !validDNSName(d) {
			continue
		}
		if m.exact != "" {
			if asciiEqualFold(d, m.exact) {
				return true
			}
			continue
		}
		n := len(d) - len(m.suffix)
		if n > 0 && asciiEqualFold(d[n:], m.suffix) && strings.IndexByte(d[:n], '.') < 0 {
			return true
		}
	}
	return false
}

// String implements Matcher.
func (m *dnsMatcher) String() string { return "dns " + strconv.Quote(m.src) }

// validDNSName checks a DNS name of labels [A-Za-z0-9_-], 1 to 63 bytes
// each, at most 253 bytes, no empty label (so no trailing dot) and no '*'.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case isAlpha(c) || isDigit(c) || c == '-' || c == '_':
			label++
			if label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// MatchSubject admits a certificate whose subject equals dn (Name.Equal:
// the same RDNs in order, the AVAs of a multi-valued RDN in any order,
// attribute types by OID, values exactly). dn is an RFC 4514 string
// (ParseDN), e.g. "CN=checkout,O=Example" or Envoy's own form; attribute
// type names must be ones this package knows, or dotted OIDs.
func MatchSubject(dn string) (Matcher, error) {
	n, err := parseDN(dn, true)
	if err != nil {
		return nil, err
	}
	return &nameMatcher{src: dn, exact: n}, nil
}

// MatchSubjectAttributes admits a certificate whose subject has, for every
// entry of attrs, an AVA of that type with exactly that value, in any RDN
// (multi-valued ones included). Keys are attribute type names, matched
// case-insensitively, or dotted OIDs: "CN", "cn", "commonName" and
// "2.5.4.3" are the same key (two keys for one type are an error). Values
// are plain strings, not RFC 4514-escaped. A type that occurs several
// times (two OUs) matches if any occurrence has the value.
func MatchSubjectAttributes(attrs map[string]string) (Matcher, error) {
	avas, err := compileAttributes(attrs)
	if err != nil {
		return nil, err
	}
	return &nameMatcher{attrs: avas}, nil
}

// MatchIssuer and MatchIssuerAttributes are MatchSubject and
// MatchSubjectAttributes for the issuer. Envoy exposes no issuer property:
// they match only a certificate read from a trusted XFCC element with Cert
// (set_current_client_cert_details.cert), and nothing otherwise.
func MatchIssuer(dn string) (Matcher, error) {
	n, err := parseDN(dn, true)
	if err != nil {
		return nil, err
	}
	return &nameMatcher{src: dn, exact: n, issuer: true}, nil
}

// MatchIssuerAttributes: see MatchIssuer.
func MatchIssuerAttributes(attrs map[string]string) (Matcher, error) {
	avas, err := compileAttributes(attrs)
	if err != nil {
		return nil, err
	}
	return &nameMatcher{attrs: avas, issuer: true}, nil
}

func compileAttributes(attrs map[string]string) ([]AVA, error) {
	if len(attrs) == 0 {
		return nil, errors.New("no attributes")
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var avas []AVA
	seen := map[string]string{}
	for _, k := range keys {
		t, err := attributeType(k)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		if prev, dup := seen[t]; dup {
			return nil, fmt.Errorf("attributes %q and %q are the same type", prev, k)
		}
		seen[t] = k
		v := attrs[k]
		switch {
		case v == "":
			return nil, fmt.Errorf("attribute %q: empty value", k)
		case !utf8.ValidString(v):
			return nil, fmt.Errorf("attribute %q: the value is not UTF-8", k)
		case hasControl(v):
			return nil, fmt.Errorf("attribute %q: a control character in the value", k)
		}
		avas = append(avas, AVA{Type: t, Value: v})
	}
	return avas, nil
}

type nameMatcher struct {
	src    string
	exact  Name
	attrs  []AVA
	issuer bool
}

// Match implements Matcher.
func (m *nameMatcher) Match(pc *PeerCert) bool {
	n := pc.Subject
	if m.issuer {
		n = pc.Issuer
	}
	if n == nil {
		return false
	}
	if m.attrs == nil {
		return n.Equal(m.exact)
	}
	for _, a := range m.attrs {
		if !n.Has(a.Type, a.Value) {
			return false
		}
	}
	return true
}

// String implements Matcher.
func (m *nameMatcher) String() string {
	what := "subject"
	if m.issuer {
		what = "issuer"
	}
	if m.attrs == nil {
		return what + " " + strconv.Quote(m.src)
	}
	parts := make([]string, len(m.attrs))
	for i, a := range m.attrs {
		parts[i] = typeName(a.Type) + "=" + strconv.Quote(a.Value)
	}
	return what + " attributes {" + strings.Join(parts, ", ") + "}"
}

// MatchFingerprints admits a certificate whose SHA-256 digest (of the DER
// certificate, Envoy's connection.sha256_peer_certificate_digest) is one of
// pins. A pin is 64 hex digits, or 32 hex pairs joined by ':' (the form of
// `openssl x509 -noout -fingerprint -sha256`), in any case. The digest is
// compared with every pin in constant time.
func MatchFingerprints(pins ...string) (Matcher, error) {
	if len(pins) == 0 {
		return nil, errors.New("no fingerprints")
	}
	m := &pinMatcher{}
	for i, p := range pins {
		d, err := ParseFingerprint(p)
		if err != nil {
			return nil, fmt.Errorf("fingerprint %d: %w", i, err)
		}
		m.pins = append(m.pins, d)
	}
	return m, nil
}

// ParseFingerprint parses a SHA-256 fingerprint: 64 hex digits, or 32 hex
// pairs joined by ':', in any case.
func ParseFingerprint(s string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	h := s
	if strings.Contains(s, ":") {
		if len(s) != 3*sha256.Size-1 {
			return d, errors.New("a SHA-256 fingerprint with ':' is 32 hex pairs joined by ':'")
		}
		var b strings.Builder
		for i := 0; i < len(s); i += 3 {
			if i+2 < len(s) && s[i+2] != ':' {
				return d, errors.New("a SHA-256 fingerprint with ':' is 32 hex pairs joined by ':'")
			}
			b.WriteString(s[i : i+2])
		}
		h = b.String()
	}
	if !decodeHexDigest(h, &d) {
		return d, errors.New("not a SHA-256 fingerprint (64 hex digits)")
	}
	return d, nil
}

// decodeHexDigest decodes exactly 64 hex digits, any case.
func decodeHexDigest(h string, d *[sha256.Size]byte) bool {
	if len(h) != 2*sha256.Size {
		return false
	}
	for i := 0; i < sha256.Size; i++ {
		a, b := h[2*i], h[2*i+1]
		if !isHex(a) || !isHex(b) {
			return false
		}
		d[i] = unhex(a)<<4 | unhex(b)
	}
	return true
}

type pinMatcher struct{ pins [][sha256.Size]byte }

// Match implements Matcher.
func (m *pinMatcher) Match(pc *PeerCert) bool {
	ok := 0
	for i := range m.pins {
		ok |= subtle.ConstantTimeCompare(pc.SHA256[:], m.pins[i][:])
	}
	return ok == 1
}

// String implements Matcher.
func (m *pinMatcher) String() string { return fmt.Sprintf("sha256 pins (%d)", len(m.pins)) }

// AnyOf admits a certificate that some matcher admits.
func AnyOf(ms ...Matcher) (Matcher, error) {
	if err := checkMatchers(ms); err != nil {
		return nil, err
	}
	return &listMatcher{ms: slices.Clone(ms)}, nil
}

// AllOf admits a certificate that every matcher admits.
func AllOf(ms ...Matcher) (Matcher, error) {
	if err := checkMatchers(ms); err != nil {
		return nil, err
	}
	return &listMatcher{ms: slices.Clone(ms), all: true}, nil
}

func checkMatchers(ms []Matcher) error {
	if len(ms) == 0 {
		return errors.New("no matchers")
	}
	if slices.Contains(ms, nil) {
		return errors.New("a nil matcher")
	}
	return nil
}

type listMatcher struct {
	ms  []Matcher
	all bool
}

// Match implements Matcher.
func (m *listMatcher) Match(pc *PeerCert) bool {
	for _, x := range m.ms {
		if x.Match(pc) != m.all {
			return !m.all
		}
	}
	return m.all
}

// String implements Matcher.
func (m *listMatcher) String() string {
	parts := make([]string, len(m.ms))
	for i, x := range m.ms {
		parts[i] = x.String()
	}
	op := "any"
	if m.all {
		op = "all"
	}
	return op + "(" + strings.Join(parts, ", ") + ")"
}

// Require returns a per-rule constraint: the identity must come from the
// mtls provider and its certificate must be admitted by one of ms (use
// AllOf for a conjunction). Different routes can so admit different peers
// through one provider. A failed check is 403 forbidden: TLS authenticated
// the client, the route does not admit it.
func Require(ms ...Matcher) (authn.Constraint, error) {
	if err := checkMatchers(ms); err != nil {
		return nil, err
	}
	return &constraint{ms: slices.Clone(ms)}, nil
}

type constraint struct{ ms []Matcher }

// Descriptions of Require's denials.
const (
	DescNotMTLSIdentity = "the request was not authenticated by a client certificate"
	DescPeerNotAllowed  = "the client certificate is not allowed here"
)

// Check implements authn.Constraint.
func (c *constraint) Check(id *authn.Identity, _ *authn.Request) *authn.Error {
	pc := PeerCertOf(id)
	if pc == nil {
		return authn.Deny(authn.ReasonForbidden, DescNotMTLSIdentity)
	}
	for _, m := range c.ms {
		if m.Match(pc) {
			return nil
		}
	}
	return authn.Deny(authn.ReasonForbidden, DescPeerNotAllowed)
}
