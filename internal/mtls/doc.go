// Package mtls authenticates a request by the TLS client certificate of its
// downstream connection (mutual TLS), as Envoy reports it to a proxy-wasm
// plugin. It is pure logic: the filter reads the host properties into a
// Peer (see Peer for which property fills which field and what plaintext
// and "no certificate" look like), and this package never calls the host.
//
// # Who verifies the certificate
//
// The listener's TLS context does, during the handshake, before any HTTP
// filter runs: require_client_certificate, trusted_ca, CRLs,
// match_typed_subject_alt_names. An expired certificate or one from an
// untrusted CA ends the handshake there, and the plugin never sees a
// request over it. connection.mtls only says that a certificate was
// presented: with a TLS context that requests but does not validate client
// certificates, it can be any self-signed certificate, and this provider
// must not be the only check. The plugin's part is to decide which of the
// accepted certificates may reach which route.
//
// # What the plugin can see
//
// Envoy's properties give the first URI SAN, the first DNS SAN, the subject
// (RFC 2253, see FormatName) and the SHA-256 digest: no issuer, validity,
// further SANs or PEM. Those come only from the x-forwarded-client-cert
// header (XFCC), which Envoy's HTTP connection manager writes before the
// filter chain runs when forward_client_cert_details is SANITIZE_SET or
// APPEND_FORWARD (set_current_client_cert_details chooses the keys; cert:
// true adds the PEM). The header is trusted only as the operator declares
// (XFCCMode): with SANITIZE_SET it holds one element, Envoy's; with
// APPEND_FORWARD the LAST element is Envoy's and the earlier ones are the
// client's claims. The provider cross-checks the trusted element against
// the connection (Hash against the digest, Subject, first URI and DNS
// SANs) and, if it carries Cert, parses the certificate, requires its
// digest to be the connection's, and takes the SANs, issuer and validity
// from it.
//
// # Matching
//
// Matchers (MatchURI, MatchURIPrefix, MatchSPIFFE, MatchDNS, MatchSubject,
// MatchSubjectAttributes, MatchIssuer, MatchIssuerAttributes,
// MatchFingerprints, AnyOf, AllOf) are compiled once when the plugin is
// configured (proxy_on_configure) and are immutable; they admit a
// certificate at the provider level (Options.Allow) and per rule (Require,
// an authn.Constraint). A URI or DNS matcher admits a certificate if any
// known SAN matches: the first one from the properties, all of them from a
// trusted XFCC.
//
// # Verdicts
//
// Plaintext and "TLS without a client certificate" are both Absent, with
// distinct descriptions in Verdict.Err (DescNotTLS, DescNoCertificate). A
// certificate that is presented but not admitted is 403 forbidden: TLS
// authenticated the client and the policy does not allow it, which is what
// Envoy's RBAC filter and Istio's AuthorizationPolicy answer too (a 401
// would need a WWW-Authenticate challenge, and TLS has none). See
// Provider.AuthenticatePeer for every outcome.
//
// # RFC 8705
//
// CertThumbprintMatches checks a certificate-bound access token's
// cnf["x5t#S256"] against the connection's digest, for the JWT provider.
package mtls
