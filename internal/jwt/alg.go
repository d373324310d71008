package jwt

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-256 for RS256, PS256, ES256, HS256
	_ "crypto/sha512" // SHA-384 and SHA-512
	"slices"

	gjwt "github.com/golang-jwt/jwt/v5"
)

// KeyType is the kind of key an algorithm needs (RFC 7517 §4.1 "kty").
type KeyType int

// The key types. An algorithm accepts exactly one.
const (
	KeyRSA KeyType = iota + 1 // "RSA": RS*, PS*
	KeyEC                     // "EC": ES*, curve fixed by the algorithm
	KeyOKP                    // "OKP" with crv Ed25519: EdDSA (RFC 8037)
	KeyOct                    // a shared secret: HS*, configured explicitly
)

var keyTypeNames = [...]string{KeyRSA: "RSA", KeyEC: "EC", KeyOKP: "OKP", KeyOct: "oct"}

// String is the JWK "kty" value.
func (t KeyType) String() string {
	if t > 0 && int(t) < len(keyTypeNames) {
		return keyTypeNames[t]
	}
	return "unknown"
}

// algorithm describes one JWS "alg" (RFC 7518 §3.1, RFC 8037 §3.1).
type algorithm struct {
	name  string
	key   KeyType
	hash  crypto.Hash // zero for EdDSA
	curve elliptic.Curve
	// sigLen is the exact signature length, or 0 when it depends on the
	// key (RSA: the modulus size).
	sigLen int
	// minSecret is the minimum HMAC key length (RFC 7518 §3.2).
	minSecret int
	// method is golang-jwt's implementation of an asymmetric algorithm,
	// which checks signatures in Wasm; HS* use verifyMAC.
	method gjwt.SigningMethod
	// macSlot is an HS* algorithm's index in a key's macs.
	macSlot int
	// sameAs names the other "alg" of the same operation, if any: a key
	// whose JWK "alg" is either one fits both.
	sameAs string
}

// strictPSS is golang-jwt's RSASSA-PSS method m, but with the salt as
// long as the hash output when verifying, as RFC 7518 §3.5 requires
// (golang-jwt's own PS* methods accept any salt length).
func strictPSS(m *gjwt.SigningMethodRSAPSS) *gjwt.SigningMethodRSAPSS {
	return &gjwt.SigningMethodRSAPSS{
		SigningMethodRSA: m.SigningMethodRSA,
		Options:          &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash},
	}
}

var algorithms = map[string]*algorithm{
	"RS256": {name: "RS256", key: KeyRSA, hash: crypto.SHA256, method: gjwt.SigningMethodRS256},
	"RS384": {name: "RS384", key: KeyRSA, hash: crypto.SHA384, method: gjwt.SigningMethodRS384},
	"RS512": {name: "RS512", key: KeyRSA, hash: crypto.SHA512, method: gjwt.SigningMethodRS512},
	"PS256": {name: "PS256", key: KeyRSA, hash: crypto.SHA256, method: strictPSS(gjwt.SigningMethodPS256)},
	"PS384": {name: "PS384", key: KeyRSA, hash: crypto.SHA384, method: strictPSS(gjwt.SigningMethodPS384)},
	"PS512": {name: "PS512", key: KeyRSA, hash: crypto.SHA512, method: strictPSS(gjwt.SigningMethodPS512)},
	"ES256": {name: "ES256", key: KeyEC, hash: crypto.SHA256, curve: elliptic.P256(), sigLen: 64, method: gjwt.SigningMethodES256},
	"ES384": {name: "ES384", key: KeyEC, hash: crypto.SHA384, curve: elliptic.P384(), sigLen: 96, method: gjwt.SigningMethodES384},
	"ES512": {name: "ES512", key: KeyEC, hash: crypto.SHA512, curve: elliptic.P521(), sigLen: 132, method: gjwt.SigningMethodES512},
	// RFC 9864 §2.2 names EdDSA with Ed25519 "Ed25519" and deprecates the
	// polymorphic "EdDSA" (RFC 8037 §3.1), which most issuers still send.
	// Ed25519 is the only EdDSA curve here, so both are the same operation.
	"EdDSA":   {name: "EdDSA", key: KeyOKP, sigLen: 64, method: gjwt.SigningMethodEdDSA, sameAs: "Ed25519"},
	"Ed25519": {name: "Ed25519", key: KeyOKP, sigLen: 64, method: gjwt.SigningMethodEdDSA, sameAs: "EdDSA"},
	"HS256":   {name: "HS256", key: KeyOct, hash: crypto.SHA256, sigLen: 32, minSecret: 32, macSlot: 0},
	"HS384":   {name: "HS384", key: KeyOct, hash: crypto.SHA384, sigLen: 48, minSecret: 48, macSlot: 1},
	"HS512":   {name: "HS512", key: KeyOct, hash: crypto.SHA512, sigLen: 64, minSecret: 64, macSlot: 2},
}

// DefaultAlgorithms is the allow-list of a provider that configures none:
// every asymmetric algorithm this package implements. HS256/384/512 are
// never allowed by default; they need an explicitly configured secret.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// SupportedAlgorithms lists every "alg" value this package can verify, in a
// stable order. "none" is never among them.
func SupportedAlgorithms() []string {
	return append(slices.Clone(DefaultAlgorithms), "HS256", "HS384", "HS512")
}

// AlgorithmKeyType returns the key type alg needs, or 0 if alg is not
// supported.
func AlgorithmKeyType(alg string) KeyType {
	if a := algorithms[alg]; a != nil {
		return a.key
	}
	return 0
}

// MinSecretLength is the minimum HMAC secret length for an HS* algorithm
// (the hash size, RFC 7518 §3.2), or 0 for other algorithms.
func MinSecretLength(alg string) int {
	if a := algorithms[alg]; a != nil {
		return a.minSecret
	}
	return 0
}
