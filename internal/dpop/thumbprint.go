package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"

	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// ThumbprintLen is the length of a SHA-256 JWK thumbprint in base64url
// without padding.
const ThumbprintLen = 43

var b64 = base64.RawURLEncoding

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public JWK
// (JSON): base64url(SHA-256(the required members in lexicographic order,
// no whitespace)), that is
//
//	EC:  {"crv":"…","kty":"EC","x":"…","y":"…"}
//	RSA: {"e":"…","kty":"RSA","n":"…"}
//	OKP: {"crv":"Ed25519","kty":"OKP","x":"…"}
//
// The JSON must be a strict object (no repeated member names) holding a
// key jwt.ParseJWK accepts (no private members). The members are
// re-encoded from the parsed key, so every encoding of one key has one
// thumbprint (RFC 7638 §3.3: integers without leading zero octets).
func Thumbprint(jwk []byte) (string, error) {
	v, f := jwt.StrictJSONObject(jwk)
	if f != jwt.FailNone {
		return "", errors.New("dpop: the JWK is not a strict JSON object")
	}
	k, err := jwt.ParseJWK(v, 0)
	if err != nil {
		return "", errors.New("dpop: " + err.Error())
	}
	return KeyThumbprint(k)
}

// KeyThumbprint returns the RFC 7638 SHA-256 thumbprint of k's public key
// (see Thumbprint); it fails for a shared secret.
func KeyThumbprint(k *jwt.Key) (string, error) {
	var d [sha256.Size]byte
	if !thumbprintDigest(k, &d) {
		return "", errors.New("dpop: a thumbprint needs an RSA, EC or Ed25519 public key")
	}
	return b64.EncodeToString(d[:]), nil
}

// thumbprintDigest writes the SHA-256 of k's RFC 7638 canonical JSON.
func thumbprintDigest(k *jwt.Key, out *[sha256.Size]byte) bool {
	buf := make([]byte, 0, 512)
	member := func(name string, raw []byte, last bool) {
		buf = append(buf, '"')
		buf = append(buf, name...)
		buf = append(buf, `":"`...)
		buf = b64.AppendEncode(buf, raw)
		buf = append(buf, '"')
		if !last {
			buf = append(buf, ',')
		}
	}
	literal := func(name, value string) {
		buf = append(buf, '"')
		buf = append(buf, name...)
		buf = append(buf, `":"`...)
		buf = append(buf, value...)
		buf = append(buf, `",`...)
	}
	buf = append(buf, '{')
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		member("e", big.NewInt(int64(pub.E)).Bytes(), false)
		literal("kty", "RSA")
		member("n", pub.N.Bytes(), true)
	case *ecdsa.PublicKey:
		var crv string
		switch pub.Curve {
		case elliptic.P256():
			crv = "P-256"
		case elliptic.P384():
			crv = "P-384"
		case elliptic.P521():
			crv = "P-521"
		default:
			return false
		}
		pt, err := pub.Bytes() // 0x04 || X || Y, each of the curve's size
		if err != nil {
			return false
		}
		size := (len(pt) - 1) / 2
		literal("crv", crv)
		literal("kty", "EC")
		member("x", pt[1:1+size], false)
		member("y", pt[1+size:], true)
	case ed25519.PublicKey:
		literal("crv", "Ed25519")
		literal("kty", "OKP")
		member("x", pub, true)
	default:
		return false
	}
	buf = append(buf, '}')
	*out = sha256.Sum256(buf)
	return true
}
