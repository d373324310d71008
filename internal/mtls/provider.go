package mtls

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// XFCCMode says whether, and how far, the provider trusts the
// x-forwarded-client-cert header. Only the operator knows how the HTTP
// connection manager in front of the plugin is configured; the default
// trusts nothing.
type XFCCMode int

const (
	// XFCCIgnore: the header is not read. Use it unless the HCM is set as
	// below: with FORWARD_ONLY or ALWAYS_FORWARD_ONLY the header is the
	// client's own, and believing it lets the client choose its SANs.
	XFCCIgnore XFCCMode = iota
	// XFCCSanitizeSet: the HCM has forward_client_cert_details
	// SANITIZE_SET, so on an mTLS connection Envoy replaces the header with
	// exactly one element it built from the verified certificate. A header
	// with more than one element is refused.
	XFCCSanitizeSet
	// XFCCAppendForward: the HCM has APPEND_FORWARD, so Envoy appends its
	// element to whatever the client sent. Only the LAST element is
	// Envoy's; earlier ones are claims of earlier hops (or of the client)
	// and are never used.
	XFCCAppendForward
)

// String names the mode as the configuration does.
func (m XFCCMode) String() string {
	switch m {
	case XFCCIgnore:
		return "ignore"
	case XFCCSanitizeSet:
		return "sanitize_set"
	case XFCCAppendForward:
		return "append_forward"
	}
	return "unknown"
}

// ParseXFCCMode parses the configuration's name of a mode (see
// XFCCMode.String): "ignore", "sanitize_set" or "append_forward".
func ParseXFCCMode(s string) (XFCCMode, error) {
	for _, m := range []XFCCMode{XFCCIgnore, XFCCSanitizeSet, XFCCAppendForward} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf(`unknown XFCC mode %q (want "ignore", "sanitize_set" or "append_forward")`, s)
}

// PeerSource returns the Peer of the connection req arrived on. The filter
// supplies it: it reads the connection properties of the stream being
// called back (proxy-wasm property calls apply to the current context, so
// req itself need not carry them). An error is a host failure; the
// provider then denies with ReasonInternal (503), failing closed. It is
// called once per Authenticate, only for rules that use this provider.
type PeerSource func(req *authn.Request) (*Peer, error)

// Options configure a Provider.
type Options struct {
	// Allow admits a certificate that any of these matchers admits; empty
	// admits every certificate the listener's TLS context accepted. Rules
	// narrow it further with Require.
	Allow []Matcher
	// XFCC says whether to read the x-forwarded-client-cert header.
	XFCC XFCCMode
	// XFCCLimits bound the header; zero fields take the defaults.
	XFCCLimits XFCCLimits
}

// Provider is a compiled mtls provider. Like a tls.Config in use, it is
// immutable and safe for concurrent use.
type Provider struct {
	name   string
	source PeerSource
	allow  []Matcher
	xfcc   XFCCMode
	limits XFCCLimits
}

// New returns a provider named name. source is required unless every call
// goes through AuthenticatePeer.
func New(name string, source PeerSource, opts Options) (*Provider, error) {
	if slices.Contains(opts.Allow, nil) {
		return nil, errors.New("a nil matcher in allow")
	}
	switch opts.XFCC {
	case XFCCIgnore, XFCCSanitizeSet, XFCCAppendForward:
	default:
		return nil, fmt.Errorf("unknown XFCC mode %d", int(opts.XFCC))
	}
	return &Provider{
		name:   name,
		source: source,
		allow:  slices.Clone(opts.Allow),
		xfcc:   opts.XFCC,
		limits: opts.XFCCLimits.withDefaults(),
	}, nil
}

// Name is the configured provider name.
func (p *Provider) Name() string { return p.name }

// Method is "mtls".
func (p *Provider) Method() string { return "mtls" }

// Challenge is "": TLS client authentication has no HTTP challenge (RFC
// 9110 §11.6.1 defines none), so an mtls provider adds no WWW-Authenticate.
func (p *Provider) Challenge() string { return "" }

// Descriptions of the provider's verdicts. The two Absent ones are set on
// Verdict.Err (with ReasonMissingCredential) so that a deny can say which
// it was; the policy only reads Err of Invalid verdicts today.
const (
	DescNotTLS          = "the connection is not TLS"
	DescNoCertificate   = "no client certificate"
	DescNotAllowed      = "the client certificate is not allowed"
	DescControlChar     = "the client certificate has a control character in a name"
	DescXFCCMismatch    = "the forwarded client certificate details do not match the connection"
	DescXFCCBadCert     = "the forwarded client certificate cannot be parsed"
	DescExpired         = "the client certificate is expired or not yet valid"
	DescXFCCRepeated    = "more than one x-forwarded-client-cert header"
	DescXFCCMalformed   = "the x-forwarded-client-cert header is malformed"
	DescXFCCTooLarge    = "the x-forwarded-client-cert header is too large"
	DescXFCCNotSingle   = "the x-forwarded-client-cert header has more than one element, but Envoy is set to replace it (SANITIZE_SET)"
	DescNoPeerSource    = "the connection's TLS details are not available"
	DescBadDigest       = "the host reported no valid certificate digest"
	descHostPrefix      = "cannot read the connection's TLS details: "
	principalHashPrefix = "sha256:"
)

// Authenticate reads the connection's Peer from the PeerSource and judges
// it with AuthenticatePeer. It runs in on_request_headers.
func (p *Provider) Authenticate(req *authn.Request) authn.Verdict {
	if p.source == nil {
		return invalid(authn.Deny(authn.ReasonInternal, DescNoPeerSource))
	}
	peer, err := p.source(req)
	if err != nil {
		return invalid(authn.Deny(authn.ReasonInternal, descHostPrefix+err.Error()))
	}
	return p.AuthenticatePeer(req, peer)
}

// AuthenticatePeer judges the client certificate of peer for req:
//
//   - Absent, Err "the connection is not TLS" (DescNotTLS): plaintext;
//   - Absent, Err "no client certificate" (DescNoCertificate): TLS, but
//     the client presented no certificate (the listener does not require
//     one). Both Errs have ReasonMissingCredential; another provider of the
//     rule may still authenticate the request;
//   - Invalid 403 invalid_credential: a SAN or the subject has a control
//     character; the trusted XFCC element contradicts the connection
//     (Hash, Subject or first SANs differ, or its Cert has another digest)
//     or its Cert cannot be parsed; the Cert is outside its validity at
//     req.Now (a connection can outlive its certificate);
//   - Invalid 400 malformed_credential / credential_too_large: an XFCC
//     header the mode should trust is repeated, malformed, or over the
//     limits;
//   - Invalid 403 forbidden: the certificate matches no Allow matcher;
//   - Invalid 503 internal_error: the host reported a certificate but no
//     valid digest;
//   - Valid otherwise, with Identity.Principal the SPIFFE ID (the first URI
//     SAN, when it is one), else the first DNS SAN, else the subject, else
//     "sha256:" and the digest; Identity.Claims is the *PeerCert.
//
// Why 403 and not 401 for a certificate that is rejected: the client has
// authenticated (TLS proved it holds the key) but is not allowed, which is
// 403 (RFC 9110 §15.5.4), the status Envoy's RBAC filter and Istio's
// AuthorizationPolicy return for the same decision. A 401 must carry a
// WWW-Authenticate challenge (RFC 9110 §15.5.2) and TLS has none; nor can
// the client retry with another certificate on the same connection.
func (p *Provider) AuthenticatePeer(req *authn.Request, peer *Peer) authn.Verdict {
	if peer == nil {
		return invalid(authn.Deny(authn.ReasonInternal, DescNoPeerSource))
	}
	if !peer.TLS {
		return absent(DescNotTLS)
	}
	if !peer.Presented {
		return absent(DescNoCertificate)
	}
	pc := &PeerCert{Peer: *peer}
	if !decodeHexDigest(peer.SHA256Hex, &pc.SHA256) {
		return invalid(authn.Deny(authn.ReasonInternal, DescBadDigest))
	}
	if hasControl(peer.URISAN) || hasControl(peer.DNSSAN) || hasControl(peer.Subject) {
		return rejected(DescControlChar)
	}
	if peer.HasURISAN {
		pc.URIs = []string{peer.URISAN}
	} else {
		pc.URIsComplete = true // no URI SAN at all
	}
	if peer.HasDNSSAN {
		pc.DNSNames = []string{peer.DNSSAN}
	} else {
		pc.DNSComplete = true
	}
	if n, err := ParseDN(peer.Subject); err == nil {
		pc.Subject = n
	} else if errors.Is(err, ErrDNControl) {
		return rejected(DescControlChar)
	}
	// Otherwise a subject this package cannot parse: subject matchers fail
	// closed, and the principal falls back to the raw string.

	e := peer.XFCC
	if e == nil && p.xfcc != XFCCIgnore {
		var v *authn.Verdict
		if e, v = p.trustedXFCC(req); v != nil {
			return *v
		}
	}
	if e != nil {
		if err := applyXFCC(pc, e, req.Now); err != nil {
			return invalid(err)
		}
	}
	if len(pc.URIs) > 0 {
		if id, err := ParseSPIFFEID(pc.URIs[0]); err == nil {
			pc.SPIFFEID, pc.HasSPIFFEID = id, true
		}
	}
	if len(p.allow) > 0 && !slices.ContainsFunc(p.allow, func(m Matcher) bool { return m.Match(pc) }) {
		return invalid(authn.Deny(authn.ReasonForbidden, DescNotAllowed))
	}
	return authn.Verdict{Outcome: authn.Valid, Identity: authn.Identity{Principal: principal(pc), Claims: pc}}
}

func principal(pc *PeerCert) string {
	switch {
	case pc.HasSPIFFEID:
		return pc.SPIFFEID.String()
	case len(pc.DNSNames) > 0:
		return pc.DNSNames[0]
	case pc.Peer.Subject != "":
		return pc.Peer.Subject
	}
	return principalHashPrefix + hex.EncodeToString(pc.SHA256[:])
}

// trustedXFCC returns the element the mode trusts, nil if the request has
// no XFCC header, or a verdict refusing the header.
func (p *Provider) trustedXFCC(req *authn.Request) (*XFCCElement, *authn.Verdict) {
	var value string
	n := 0
	for _, h := range req.Headers {
		if h.Key == XFCCHeader {
			value = h.Value
			n++
		}
	}
	switch {
	case n == 0:
		// Envoy sets the header on every mTLS connection in both modes; its
		// absence means the HCM is not set as configured. Nothing more is
		// known than the connection properties say.
		return nil, nil
	case n > 1:
		// Envoy merges repeated XFCC lines into one (an inline header).
		v := invalid(authn.Deny(authn.ReasonMalformedCredential, DescXFCCRepeated))
		return nil, &v
	}
	elems, err := ParseXFCC(value, p.limits)
	if err != nil {
		r, desc := authn.ReasonMalformedCredential, DescXFCCMalformed
		if errors.Is(err, ErrXFCCTooLarge) {
			r, desc = authn.ReasonCredentialTooLarge, DescXFCCTooLarge
		}
		v := invalid(authn.Deny(r, desc))
		return nil, &v
	}
	if p.xfcc == XFCCSanitizeSet && len(elems) != 1 {
		v := invalid(authn.Deny(authn.ReasonMalformedCredential, DescXFCCNotSingle))
		return nil, &v
	}
	return &elems[len(elems)-1], nil
}

// applyXFCC checks the trusted element e against the connection and, when
// it agrees, widens pc with the full SAN lists and the certificate.
func applyXFCC(pc *PeerCert, e *XFCCElement, now time.Time) *authn.Error {
	peer := &pc.Peer
	if anyControl(e.URI) || anyControl(e.DNS) || hasControl(e.Subject) {
		return rejectedErr(DescControlChar)
	}
	if e.Hash != "" {
		var h [sha256.Size]byte
		if !decodeHexDigest(e.Hash, &h) || subtle.ConstantTimeCompare(h[:], pc.SHA256[:]) != 1 {
			return rejectedErr(DescXFCCMismatch)
		}
	}
	if e.HasSubject && e.Subject != peer.Subject {
		return rejectedErr(DescXFCCMismatch)
	}
	if e.HasURI {
		if !firstAgrees(e.URI, peer.URISAN, peer.HasURISAN) {
			return rejectedErr(DescXFCCMismatch)
		}
		pc.URIs, pc.URIsComplete = slices.Clone(e.URI), true
	}
	if len(e.DNS) > 0 {
		if !firstAgrees(e.DNS, peer.DNSSAN, peer.HasDNSSAN) {
			return rejectedErr(DescXFCCMismatch)
		}
		pc.DNSNames, pc.DNSComplete = slices.Clone(e.DNS), true
	}
	if e.Cert != "" {
		// Compare the digest first: only the connection's own certificate
		// is ever parsed.
		der, err := e.certificateDER()
		if err != nil {
			return rejectedErr(DescXFCCBadCert)
		}
		if sha256.Sum256(der) != pc.SHA256 {
			return rejectedErr(DescXFCCMismatch)
		}
		cert, err := ParseCertificate(der)
		if err != nil {
			return rejectedErr(DescXFCCBadCert)
		}
		// The certificate is the connection's: its SANs are authoritative,
		// and the XFCC lists (which Envoy writes unescaped) must agree.
		uris, dns := cert.URIs, cert.DNSNames
		if anyControl(uris) || anyControl(dns) {
			return rejectedErr(DescControlChar)
		}
		if !firstAgrees(uris, peer.URISAN, peer.HasURISAN) || !firstAgrees(dns, peer.DNSSAN, peer.HasDNSSAN) ||
			(e.HasURI && !slices.Equal(uris, e.URI)) || (len(e.DNS) > 0 && !slices.Equal(dns, e.DNS)) {
			return rejectedErr(DescXFCCMismatch)
		}
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return rejectedErr(DescExpired)
		}
		issuer, err := NameFromDER(cert.RawIssuer)
		switch {
		case errors.Is(err, ErrDNControl):
			return rejectedErr(DescControlChar)
		case err == nil:
			pc.Issuer = issuer
		}
		pc.URIs, pc.URIsComplete = uris, true
		pc.DNSNames, pc.DNSComplete = dns, true
		pc.Certificate = cert
	}
	peer.XFCC = e
	return nil
}

// firstAgrees reports whether list starts with the connection's first SAN,
// or is empty when the connection has none.
func firstAgrees(list []string, first string, has bool) bool {
	if !has {
		return len(list) == 0
	}
	return len(list) > 0 && list[0] == first
}

func anyControl(ss []string) bool { return slices.ContainsFunc(ss, hasControl) }

func absent(desc string) authn.Verdict {
	return authn.Verdict{Outcome: authn.Absent, Err: authn.Deny(authn.ReasonMissingCredential, desc)}
}

func invalid(err *authn.Error) authn.Verdict {
	return authn.Verdict{Outcome: authn.Invalid, Err: err}
}

// rejectedErr is a certificate the provider refuses as evidence: 403 (see
// AuthenticatePeer), counted as invalid_credential.
func rejectedErr(desc string) *authn.Error {
	return &authn.Error{Reason: authn.ReasonInvalidCredential, Description: desc, Status: 403}
}

func rejected(desc string) authn.Verdict { return invalid(rejectedErr(desc)) }
