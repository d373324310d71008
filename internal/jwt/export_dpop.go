package jwt

import (
	"time"

	"github.com/tidwall/gjson"
)

// This file exports, for DPoP proofs (RFC 9449, package dpop), the parts of
// this package's JWS machinery that a proof verifier needs. A DPoP proof
// differs from an access token in one way that matters here: its key is
// the "jwk" in its own header, chosen by the client, instead of a
// configured key. Everything else (the strict compact-JWS parse, strict
// JSON, JWK parsing, signature checks and the host verifier) is the same
// code the bearer provider runs.

// UnsafeJWS is a compact JWS split and decoded by ParseJWSUnsafe. Nothing
// in it is trustworthy until VerifyJWS has checked Signature.
type UnsafeJWS struct {
	// Alg is the header's "alg": one of SupportedAlgorithms, never "none".
	Alg string
	// Header is the protected header: a strict JSON object (no member name
	// repeated at any depth, nesting bounded), the one parse later steps
	// read.
	Header gjson.Result
	// Typ is the header's "typ" as received, when HasTyp.
	Typ    string
	HasTyp bool
	// Payload is the decoded payload, not parsed.
	Payload []byte
	// SigningInput is ASCII(header '.' payload), RFC 7515 §5.2.
	SigningInput []byte
	// Signature is the decoded signature, not empty.
	Signature []byte
}

// ParseJWSUnsafe splits and decodes a compact JWS (RFC 7515 §7.1) with the
// same checks the bearer provider applies to a token (see parseUnsafe),
// over every algorithm in SupportedAlgorithms: it fails with
// FailMalformed, FailJWE, FailDuplicateKey, FailAlgNone,
// FailAlgNotAllowed (an "alg" this package does not implement), FailCrit,
// FailB64 or FailNestedJWT. The caller applies its own allow-list to Alg;
// unlike the bearer provider, it may take the key from Header (DPoP's
// "jwk").
func ParseJWSUnsafe(token string) (*UnsafeJWS, Failure) {
	u, f := parseUnsafe(token, algorithms, nil)
	if f != FailNone {
		return nil, f
	}
	// parseUnsafe decoded the header and validated it as a strict JSON
	// object: gjson reads those bytes as it did.
	h := gjson.ParseBytes(u.rawHeader)
	return &UnsafeJWS{
		Alg: u.alg.name, Header: h, Typ: u.typ, HasTyp: u.hasTyp,
		Payload: u.payload, SigningInput: []byte(u.input), Signature: u.sig,
	}, FailNone
}

// StrictJSONObject parses data under the rules every token and key set
// meets (valid UTF-8 JSON, an object at the top, bounded nesting, no
// member name repeated at any depth once escapes are decoded). It fails
// with FailDuplicateKey for a repeated name and FailMalformed otherwise.
func StrictJSONObject(data []byte) (gjson.Result, Failure) {
	r, st := strictObject(data)
	switch st {
	case jsonDuplicate:
		return gjson.Result{}, FailDuplicateKey
	case jsonInvalid:
		return gjson.Result{}, FailMalformed
	}
	return r, FailNone
}

// ParseJWK parses one public JSON Web Key (RFC 7517 §4) from v, a member
// of a strict JSON object, by the rules ParseJWKS applies to each key of a
// set: RSA, EC (P-256, P-384, P-521) and OKP (Ed25519) only, private
// members and "oct" refused, "use" if present "sig", "key_ops" if present
// including "verify", "alg" if present supported and fitting the key, RSA
// moduli between minRSABits and MaxRSABits, EC points on their curve. The
// error says why the key is refused; it never holds key material.
func ParseJWK(v gjson.Result, minRSABits int) (*Key, error) {
	k, why, _ := parseJWK(v, minRSABits, false)
	if why != "" {
		return nil, jwkError(why)
	}
	return k, nil
}

type jwkError string

func (e jwkError) Error() string { return string(e) }

// Fits reports whether k may verify a JWS signed with alg: the key type the
// algorithm needs, the curve it names (ES256: P-256, ...) and, when the key
// has its own "alg", that one. It is false for an unsupported alg.
func (k *Key) Fits(alg string) bool {
	a := algorithms[alg]
	return a != nil && k.fits(a)
}

// VerifyJWS checks sig over signingInput with k for alg, by the host first
// when host is not nil and handles it (see SignatureVerifier), else with
// Go's crypto. It fails with FailAlgNotAllowed for an unsupported alg,
// FailNoKey when k does not fit alg, FailSignatureFormat for a signature
// of the wrong size (or ECDSA r, s out of range) and FailSignature for one
// that does not verify.
func VerifyJWS(alg string, k *Key, signingInput, sig []byte, host SignatureVerifier) Failure {
	a := algorithms[alg]
	switch {
	case a == nil:
		return FailAlgNotAllowed
	case k == nil || !k.fits(a):
		return FailNoKey
	}
	return verifySignature(a, k, string(signingInput), sig, host)
}

// NumericDate reads an RFC 7519 §2 NumericDate (a JSON number of seconds,
// possibly fractional; clamped to 1970..9999), as the claim parser does.
// ok is false for any other JSON type.
func NumericDate(v gjson.Result) (t time.Time, ok bool) { return numericDate(v) }
