//go:build wasip1

// Command primitive is a benchmark module: it runs the signature
// primitives the JWT provider uses, compiled to the same Wasm target and run
// in the same runtime as the plugin, so that a request's cost can be
// compared with the bare cryptography.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"hash"
)

func main() {}

var (
	input    = []byte("eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYSJ9.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoiaHR0cHM6Ly9hcGkudGVzdCIsInN1YiI6InVzZXItMSIsImV4cCI6MTk5OTk5OTk5OX0")
	rsaKey   *rsa.PrivateKey
	rsaSig   []byte
	ecKey    *ecdsa.PrivateKey
	ecSig    []byte
	edPub    ed25519.PublicKey
	edSig    []byte
	secret   = []byte("0123456789abcdef0123456789abcdef")
	hmacSig  []byte
	keyedMAC hash.Hash
	sinkBool bool
)

//go:wasmexport bench_setup
func setup() {
	var err error
	if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	d := sha256.Sum256(input)
	rsaSig, _ = rsa.SignPKCS1v15(nil, rsaKey, crypto.SHA256, d[:])
	ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecSig, _ = ecdsa.SignASN1(rand.Reader, ecKey, d[:])
	var edPriv ed25519.PrivateKey
	edPub, edPriv, _ = ed25519.GenerateKey(rand.Reader)
	edSig = ed25519.Sign(edPriv, input)
	m := hmac.New(sha256.New, secret)
	m.Write(input)
	hmacSig = m.Sum(nil)
	keyedMAC = hmac.New(sha256.New, secret)
}

// bench_verify runs one verification of the signing input with algorithm
// alg: 0 RS256, 1 ES256, 2 EdDSA, 3 HS256 (keying a new HMAC, as JOSE
// libraries do), 4 HS256 with an HMAC state keyed once and Reset. It
// returns 1 if it verified.
//
//go:wasmexport bench_verify
func verify(alg uint32) uint32 {
	ok := false
	switch alg {
	case 0:
		d := sha256.Sum256(input)
		ok = rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, d[:], rsaSig) == nil
	case 1:
		d := sha256.Sum256(input)
		ok = ecdsa.VerifyASN1(&ecKey.PublicKey, d[:], ecSig)
	case 2:
		ok = ed25519.Verify(edPub, input, edSig)
	case 3:
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		ok = hmac.Equal(m.Sum(nil), hmacSig)
	case 4:
		keyedMAC.Reset()
		keyedMAC.Write(input)
		ok = hmac.Equal(keyedMAC.Sum(nil), hmacSig)
	}
	if ok {
		return 1
	}
	return 0
}
