package host

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/url"
)

// Connection describes the downstream connection a stream arrived on: what Envoy exposes through
// the source.*, destination.*, connection.* and connection_id properties.
type Connection struct {
	// ID is connection.id / connection_id; 0 lets the host assign one.
	ID uint64
	// SourceAddress and DestinationAddress are "ip:port" (source.address, destination.address);
	// empty defaults to 127.0.0.1:40000 and 127.0.0.1:10000.
	SourceAddress, DestinationAddress string
	// Protocol is request.protocol: "HTTP/1.0", "HTTP/1.1" (default), "HTTP/2" or "HTTP/3".
	Protocol string
	// TLS is nil for a plaintext connection.
	TLS *TLSInfo
}

// TLSInfo is the downstream TLS session as Envoy's Ssl::ConnectionInfo presents it to the
// connection.* properties. Envoy exposes only the FIRST URI SAN and the FIRST DNS SAN.
type TLSInfo struct {
	Version    string // connection.tls_version, e.g. "TLSv1.3"
	ServerName string // connection.requested_server_name (SNI)

	// PeerCertificatePresented makes connection.mtls true. It means a client certificate was
	// presented; whether it was validated depends on the TLS context.
	PeerCertificatePresented bool
	PeerSubject              string   // connection.subject_peer_certificate (RFC 2253)
	PeerURISANs              []string // connection.uri_san_peer_certificate is PeerURISANs[0]
	PeerDNSSANs              []string // connection.dns_san_peer_certificate is PeerDNSSANs[0]
	PeerCertificateSHA256    string   // connection.sha256_peer_certificate_digest, lower-case hex
	PeerCertificatePEM       string   // connection.peer_certificate (NewerSSLProperties only), URL-encoded by the host

	LocalSubject string   // connection.subject_local_certificate
	LocalURISANs []string // connection.uri_san_local_certificate is LocalURISANs[0]
	LocalDNSSANs []string // connection.dns_san_local_certificate is LocalDNSSANs[0]
}

// TLSInfoFromState builds a TLSInfo from a Go TLS connection state; local is the server's own
// certificate (may be nil).
func TLSInfoFromState(cs *tls.ConnectionState, local *x509.Certificate) *TLSInfo {
	if cs == nil {
		return nil
	}
	ti := &TLSInfo{ServerName: cs.ServerName}
	switch cs.Version {
	case tls.VersionTLS10:
		ti.Version = "TLSv1"
	case tls.VersionTLS11:
		ti.Version = "TLSv1.1"
	case tls.VersionTLS12:
		ti.Version = "TLSv1.2"
	case tls.VersionTLS13:
		ti.Version = "TLSv1.3"
	}
	if len(cs.PeerCertificates) > 0 {
		c := cs.PeerCertificates[0]
		ti.PeerCertificatePresented = true
		ti.PeerSubject = c.Subject.String()
		for _, u := range c.URIs {
			ti.PeerURISANs = append(ti.PeerURISANs, u.String())
		}
		ti.PeerDNSSANs = append(ti.PeerDNSSANs, c.DNSNames...)
		sum := sha256.Sum256(c.Raw)
		ti.PeerCertificateSHA256 = hex.EncodeToString(sum[:])
		ti.PeerCertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	if local != nil {
		ti.LocalSubject = local.Subject.String()
		for _, u := range local.URIs {
			ti.LocalURISANs = append(ti.LocalURISANs, u.String())
		}
		ti.LocalDNSSANs = append(ti.LocalDNSSANs, local.DNSNames...)
	}
	return ti
}

// urlEncodedPEM is Envoy's urlEncodedPemEncodedPeerCertificate (UNCONFIRMED: Envoy's exact
// escaping set; this uses Go's query escaping).
func urlEncodedPEM(p string) string { return url.QueryEscape(p) }
