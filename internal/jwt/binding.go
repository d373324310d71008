package jwt

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// CertBinding says whether tokens must be bound to the client certificate
// (RFC 8705 §3, "cnf": {"x5t#S256": ...}).
type CertBinding int

const (
	// CertBindingNone ignores "cnf".
	CertBindingNone CertBinding = iota
	// CertBindingRequired rejects tokens without "x5t#S256" and tokens
	// whose thumbprint is not the connection's client certificate.
	CertBindingRequired
	// CertBindingIfPresent checks "x5t#S256" only when the token has one.
	CertBindingIfPresent
)

// PeerDigest returns the hex SHA-256 of the client certificate of the
// connection req arrived on (Envoy's connection.sha256_peer_certificate_digest),
// ok=false when there is none (plaintext, or no certificate presented). An
// error is a host failure.
type PeerDigest func(req *authn.Request) (hexDigest string, ok bool, err error)

// x5tPath is the gjson path of cnf["x5t#S256"] ('#' escaped).
var x5tPath = ClaimPath{gjson: `cnf.x5t\#S256`, text: "cnf.x5t#S256"}

// checkBinding applies RFC 8705 §3 to verified claims.
func (p *Provider) checkBinding(c *Claims, req *authn.Request) Failure {
	if p.binding == CertBindingNone {
		return FailNone
	}
	v := c.Lookup(x5tPath)
	if !v.Exists() {
		if p.binding == CertBindingRequired {
			return FailNotCertBound
		}
		return FailNone
	}
	want, err := base64.RawURLEncoding.Strict().DecodeString(v.String())
	if err != nil || len(want) != sha256.Size {
		return FailCertMismatch
	}
	if p.peer == nil {
		return FailNoClientCert
	}
	digest, ok, herr := p.peer(req)
	switch {
	case herr != nil:
		return FailPeerUnreadable
	case !ok:
		return FailNoClientCert
	}
	got, err := hex.DecodeString(digest)
	if err != nil || len(got) != sha256.Size || subtle.ConstantTimeCompare(got, want) != 1 {
		return FailCertMismatch
	}
	return FailNone
}
