//go:build wasip1

package filter

import (
	"github.com/wasm-authn/wasm-authn/internal/abi"
	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/mtls"
)

// hostPeer reads the downstream peer certificate from Envoy's connection
// properties (property calls apply to the stream being called back). Envoy
// exposes only the first URI and DNS SAN; NotFound means plaintext,
// SerializationFailure a missing value; any other status is a host failure
// and fails the request closed.
func hostPeer(*authn.Request) (*mtls.Peer, error) {
	var p mtls.Peer
	absent := func(err error) bool {
		return abi.IsStatus(err, abi.StatusNotFound) || abi.IsStatus(err, abi.StatusSerializationFailure)
	}
	if _, err := abi.GetProperty("connection", "tls_version"); err == nil {
		p.TLS = true
	} else if !absent(err) {
		return nil, err
	}
	if !p.TLS {
		return &p, nil
	}
	b, err := abi.GetProperty("connection", "mtls")
	if err != nil && !absent(err) {
		return nil, err
	}
	p.Presented = len(b) == 1 && b[0] == 1
	for _, f := range []struct {
		name string
		dst  *string
		has  *bool
	}{
		{"uri_san_peer_certificate", &p.URISAN, &p.HasURISAN},
		{"dns_san_peer_certificate", &p.DNSSAN, &p.HasDNSSAN},
		{"subject_peer_certificate", &p.Subject, nil},
		{"sha256_peer_certificate_digest", &p.SHA256Hex, nil},
	} {
		v, err := abi.GetProperty("connection", f.name)
		switch {
		case err == nil:
			*f.dst = string(v)
			if f.has != nil {
				*f.has = true
			}
		case !absent(err):
			return nil, err
		}
	}
	return &p, nil
}
