package mtls

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Peer is what Envoy tells a plugin about the TLS of the downstream
// connection. The filter fills it from host properties (proxy_get_property
// in on_request_headers; proxy-wasm properties are those of the stream
// being called back); this package never calls the host. The property
// rules are Envoy's (source/extensions/filters/common/expr/context.cc):
//
//   - plaintext: connection.tls_version and every *_peer_certificate
//     property are NotFound; connection.mtls is false;
//   - TLS without a client certificate: connection.mtls is false, the SAN
//     and digest properties are CEL null, which the host returns as
//     SerializationFailure;
//   - TLS with a client certificate: connection.mtls is true, the subject
//     and digest are set, and each SAN property is the FIRST SAN of its
//     type or SerializationFailure when the certificate has none.
//
// Envoy exposes no issuer, validity, full SAN list or PEM; those come only
// from a trusted x-forwarded-client-cert element (XFCC).
//
// A host status other than OK, NotFound or SerializationFailure is a host
// failure: the filter must fail closed instead of filling a Peer.
type Peer struct {
	// TLS reports that the connection is TLS: connection.tls_version is OK
	// (any value) rather than NotFound. connection.mtls alone cannot tell
	// plaintext from TLS without a client certificate.
	TLS bool
	// Presented is connection.mtls (a 1-byte bool): TLS and the client
	// presented a certificate. Whether that certificate was verified, and
	// against which CA, is the listener's TLS context's business (see the
	// package documentation).
	Presented bool
	// URISAN is connection.uri_san_peer_certificate, the first URI SAN;
	// HasURISAN is false when the property is SerializationFailure (no URI
	// SAN) or NotFound (plaintext).
	URISAN    string
	HasURISAN bool
	// DNSSAN is connection.dns_san_peer_certificate, the first DNS SAN,
	// with the same rules in HasDNSSAN.
	DNSSAN    string
	HasDNSSAN bool
	// Subject is connection.subject_peer_certificate: the subject in
	// BoringSSL's RFC 2253 form (see FormatName); "" when NotFound.
	Subject string
	// SHA256Hex is connection.sha256_peer_certificate_digest: the lower-case
	// hex SHA-256 of the DER certificate; "" when SerializationFailure (no
	// certificate) or NotFound (plaintext).
	SHA256Hex string
	// XFCC is the trusted x-forwarded-client-cert element, if any. The
	// filter leaves it nil: the provider reads the header itself when its
	// Options.XFCC says the header can be trusted. A caller that builds a
	// Peer by other means may set it; the provider then trusts it as given.
	XFCC *XFCCElement
}

// PeerFromCertificate returns the Peer Envoy would present for a TLS
// connection on which the client presented cert: the first URI and DNS SAN
// as raw strings, the subject formatted by FormatName, the hex digest. It
// is for tests and emulators that present a certificate as Envoy would; it
// is not on the request path.
func PeerFromCertificate(cert *Certificate) (Peer, error) {
	subject, err := FormatName(cert.RawSubject)
	if err != nil {
		return Peer{}, err
	}
	sum := sha256.Sum256(cert.Raw)
	p := Peer{TLS: true, Presented: true, Subject: subject, SHA256Hex: hex.EncodeToString(sum[:])}
	if len(cert.URIs) > 0 {
		p.URISAN, p.HasURISAN = cert.URIs[0], true
	}
	if len(cert.DNSNames) > 0 {
		p.DNSSAN, p.HasDNSSAN = cert.DNSNames[0], true
	}
	return p, nil
}

// PeerCert is what the provider established about the client certificate
// of one request. It is the Identity.Claims of a Valid verdict (see
// PeerCertOf), and what a Matcher judges. It is built once per request and
// not modified afterwards.
type PeerCert struct {
	// Peer is the host's view, with Peer.XFCC the trusted element used.
	Peer Peer
	// URIs are the URI SANs: all of them when URIsComplete, otherwise the
	// first one (what the connection property shows). URIsComplete is true
	// when a trusted XFCC element listed them (URI key or Cert) or the
	// certificate has none.
	URIs         []string
	URIsComplete bool
	// DNSNames are the DNS SANs, with the same rule in DNSComplete.
	DNSNames    []string
	DNSComplete bool
	// Subject is the parsed Peer.Subject; nil when it does not parse as
	// RFC 4514 (subject matchers then never match).
	Subject Name
	// SPIFFEID is the first URI SAN when it is a valid SPIFFE ID
	// (HasSPIFFEID).
	SPIFFEID    SPIFFEID
	HasSPIFFEID bool
	// SHA256 is the certificate digest from the connection.
	SHA256 [sha256.Size]byte
	// Certificate is read from a trusted XFCC Cert whose digest matched
	// the connection's; nil otherwise. Issuer is its issuer.
	Certificate *Certificate
	Issuer      Name
}

// PeerCertOf returns the PeerCert of an identity the mtls provider
// authenticated, or nil for any other identity.
func PeerCertOf(id *authn.Identity) *PeerCert {
	if id == nil {
		return nil
	}
	pc, _ := id.Claims.(*PeerCert)
	return pc
}
