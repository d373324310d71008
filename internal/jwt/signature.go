package jwt

import (
	"crypto/ecdsa"
	"encoding/asn1"
	"errors"
	"math/big"

	"github.com/wasm-authn/wasm-authn/internal/keyedmac"
)

// SignatureVerifier verifies signatures with the host's native crypto. The
// filter implements it with Envoy's verify_signature foreign function
// (BoringSSL), which is much faster than Go's crypto compiled to Wasm.
//
// Verify is called only after the token's header, algorithm, key choice
// and signature format have been checked in Wasm, never for HS* (the
// secret never leaves the VM), and with alg one of RS*, PS*, ES* or EdDSA.
// sig is the JWS signature as received: for ES* the raw R||S of RFC 7518
// §3.4, whose r and s have already been checked to lie in [1, n-1]; an
// implementation that needs DER converts it with ECDSASignatureToDER.
//
// handled=false means the host cannot check this algorithm or key (an
// unsupported algorithm, the foreign function missing, a host error): the
// signature is then verified in Wasm. handled=true means ok is final: a
// signature the host found invalid is never retried in Wasm.
//
// It runs on the request path, inside proxy_on_request_headers.
type SignatureVerifier interface {
	Verify(alg string, key *Key, signingInput, sig []byte) (handled, ok bool)
}

// checkSignatureFormat checks the signature's size for a and k and, for
// ECDSA, that r and s lie in [1, n-1].
func checkSignatureFormat(a *algorithm, k *Key, sig []byte) bool {
	switch a.key {
	case KeyRSA:
		return len(sig) == (k.bits+7)/8
	case KeyEC:
		_, _, ok := ecdsaRS(k.Public.(*ecdsa.PublicKey), sig)
		return ok
	}
	return len(sig) == a.sigLen
}

// ecdsaRS splits a raw R||S signature (RFC 7518 §3.4) for pub and checks
// its size and that 0 < r, s < n.
func ecdsaRS(pub *ecdsa.PublicKey, sig []byte) (r, s *big.Int, ok bool) {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return nil, nil, false
	}
	n := pub.Curve.Params().N
	r = new(big.Int).SetBytes(sig[:size])
	s = new(big.Int).SetBytes(sig[size:])
	if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return nil, nil, false
	}
	return r, s, true
}

// ECDSASignatureToDER converts a JWS ECDSA signature (raw R||S, RFC 7518
// §3.4) into the ASN.1 DER Ecdsa-Sig-Value (RFC 3279 §2.2.3) that
// BoringSSL, and so Envoy's verify_signature, expects. It first checks the
// signature's size for pub's curve and that r and s lie in [1, n-1].
func ECDSASignatureToDER(pub *ecdsa.PublicKey, raw []byte) ([]byte, error) {
	r, s, ok := ecdsaRS(pub, raw)
	if !ok {
		return nil, errors.New("jwt: ECDSA signature of the wrong size, or r or s out of range")
	}
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}

// verifySignature checks sig over input with k for algorithm a, with the
// host first when it can (see SignatureVerifier).
func verifySignature(a *algorithm, k *Key, input string, sig []byte, host SignatureVerifier) Failure {
	if !checkSignatureFormat(a, k, sig) {
		return FailSignatureFormat
	}
	if a.key == KeyOct {
		if !k.verifyMAC(a, input, sig) {
			return FailSignature
		}
		return FailNone
	}
	if host != nil {
		if handled, ok := host.Verify(a.name, k, []byte(input), sig); handled {
			if ok {
				return FailNone
			}
			return FailSignature
		}
	}
	if verifyInWasm(a, k, input, sig) {
		return FailNone
	}
	return FailSignature
}

// verifyInWasm checks an asymmetric signature with golang-jwt's
// implementation of the algorithm (Go's crypto, compiled to Wasm). The
// key's type was matched to the algorithm when it was chosen, and the
// signature's format checked.
func verifyInWasm(a *algorithm, k *Key, input string, sig []byte) bool {
	return a.method.Verify(input, sig, k.Public) == nil
}

// verifyMAC checks an HS* signature (RFC 7518 §3.2) in constant time.
//
// It does not go through golang-jwt, whose HMAC method (like go-jose's and
// jwx's) keys a new HMAC for every token: the key's keyedmac.MAC keeps the
// keyed state, which in Wasm halves HS256's cost, from about 10.4 to
// 5.6 µs for a 150-byte signing input.
func (k *Key) verifyMAC(a *algorithm, input string, sig []byte) bool {
	m := k.macs[a.macSlot]
	if m == nil {
		m = keyedmac.New(a.hash.New, k.secret)
	}
	return m.Equal(sig, input)
}
