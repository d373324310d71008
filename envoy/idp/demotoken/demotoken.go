// Package demotoken mints access tokens with the private keys of the demo
// identity provider in envoy/idp (envoy/idp/demo-keys), for the local
// stack and its tests. The keys are public on purpose: tokens minted with
// them prove nothing outside the local stack.
package demotoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// Issuer is the issuer the demo provider announces (envoy/idp/gen).
const Issuer = "http://idp:8080"

// Audience is the audience the demo configurations accept.
const Audience = "https://api.example.com"

// Key is a signing key with the kid and alg its JWK has in the demo JWKS.
type Key struct {
	Signer crypto.Signer
	KID    string // the RFC 7638 thumbprint of the public key
	Alg    string // RS256 or ES256
}

// LoadKey reads a PKCS #8 PEM private key (RSA or P-256), such as
// envoy/idp/demo-keys/rs256.pem.
func LoadKey(file string) (*Key, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", file)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not a signing key", file, k)
	}
	return NewKey(s)
}

// NewKey wraps an RSA or P-256 private key.
func NewKey(s crypto.Signer) (*Key, error) {
	kid, alg, err := thumbprint(s.Public())
	if err != nil {
		return nil, err
	}
	return &Key{Signer: s, KID: kid, Alg: alg}, nil
}

// Impostor returns a fresh key of the same type that claims k's kid: its
// tokens name a key of the JWKS but do not verify with it.
func (k *Key) Impostor() (*Key, error) {
	var s crypto.Signer
	var err error
	switch k.Alg {
	case "RS256":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		err = fmt.Errorf("algorithm %s", k.Alg)
	}
	if err != nil {
		return nil, err
	}
	return &Key{Signer: s, KID: k.KID, Alg: k.Alg}, nil
}

// Claims returns the claims of a demo access token for subject sub with
// the given space-separated scopes, valid for ttl from now.
func Claims(sub, scope string, ttl time.Duration) map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss":   Issuer,
		"aud":   Audience,
		"sub":   sub,
		"scope": scope,
		"iat":   now,
		"exp":   now + int64(ttl/time.Second),
		"jti":   fmt.Sprintf("demo-%d", time.Now().UnixNano()),
	}
}

// Sign returns the compact JWS of claims, with header {"alg", "typ": "JWT", "kid"}.
func (k *Key) Sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": k.Alg, "typ": "JWT", "kid": k.KID})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(header) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch s := k.Signer.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, s, crypto.SHA256, digest[:])
	case *ecdsa.PrivateKey:
		var r, ss *big.Int
		r, ss, err = ecdsa.Sign(rand.Reader, s, digest[:])
		if err == nil {
			// JWS ES256: R || S, each 32 bytes big-endian (RFC 7518 §3.4).
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			ss.FillBytes(sig[32:])
		}
	default:
		err = fmt.Errorf("unsupported key %T", k.Signer)
	}
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// CertThumbprint is the RFC 8705 "x5t#S256" of a certificate: the
// base64url SHA-256 of its DER. Use it as the token's cnf to bind the
// token to a client certificate.
func CertThumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return b64(sum[:])
}

// CertFileThumbprint is CertThumbprint of the first certificate of a PEM
// file, such as envoy/certs/client-alice.crt.
func CertFileThumbprint(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return "", fmt.Errorf("%s: no certificate", file)
	}
	return CertThumbprint(blk.Bytes), nil
}

// thumbprint is the RFC 7638 thumbprint of a public key, the kid
// envoy/idp/gen gives its JWK, and the JWS algorithm for the key.
func thumbprint(pub crypto.PublicKey) (kid, alg string, err error) {
	var members map[string]string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		members = map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
		alg = "RS256"
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", "", errors.New("only P-256 EC keys are supported")
		}
		raw, err := k.Bytes()
		if err != nil {
			return "", "", err
		}
		members = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
		alg = "ES256"
	default:
		return "", "", fmt.Errorf("unsupported key %T", pub)
	}
	canon, err := json.Marshal(members) // sorted keys, no whitespace: RFC 7638 §3.2
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(canon)
	return b64(sum[:]), alg, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
