// Command gen writes the static identity provider of envoy/docker-compose.yaml:
// a discovery document, a JWKS with one RSA and one P-256 signing key, and
// the matching private keys for signing demo tokens.
//
//	go run ./envoy/idp/gen -dir envoy/idp
//
// The keys are for the local stack only. Key ids are RFC 7638 thumbprints.
package main

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
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
)

// Issuer is the issuer the demo provider announces: its address inside the
// Compose network, where the idp cluster of envoy/envoy.yaml points.
const Issuer = "http://idp:8080"

func main() {
	dir := flag.String("dir", "envoy/idp", "directory to write html/ and demo-keys/ into")
	issuer := flag.String("issuer", Issuer, "issuer URL")
	flag.Parse()
	if err := run(*dir, *issuer); err != nil {
		log.Fatal(err)
	}
}

func run(dir, issuer string) error {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	rsaJWK := JWK(&rsaKey.PublicKey, "RS256")
	ecJWK := JWK(&ecKey.PublicKey, "ES256")
	keys := map[string]crypto.Signer{"rs256.pem": rsaKey, "es256.pem": ecKey}

	discovery := map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              issuer + "/.well-known/jwks.json",
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
	}
	files := map[string]any{
		filepath.Join("html", ".well-known", "openid-configuration"): discovery,
		filepath.Join("html", ".well-known", "jwks.json"):            map[string]any{"keys": []map[string]string{rsaJWK, ecJWK}},
	}
	for name, v := range files {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := write(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	for name, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := write(filepath.Join(dir, "demo-keys", name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s/html and %s/demo-keys (kids %s, %s)\n", dir, dir, rsaJWK["kid"], ecJWK["kid"])
	return nil
}

func write(name string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, b, mode)
}

// JWK returns the public JWK of an RSA or P-256 key with use "sig", the
// given alg, and the RFC 7638 thumbprint as kid.
func JWK(pub crypto.PublicKey, alg string) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	var members map[string]string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		members = map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, err := k.Bytes() // 0x04 || X || Y, fixed width
		if err != nil {
			panic(err)
		}
		n := (len(raw) - 1) / 2
		members = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1 : 1+n]), "y": b64(raw[1+n:])}
	default:
		panic(fmt.Sprintf("unsupported key %T", pub))
	}
	// RFC 7638 §3.2: the required members only, in lexicographic order,
	// no whitespace. json.Marshal sorts map keys.
	canon, _ := json.Marshal(members)
	sum := sha256.Sum256(canon)
	members["kid"] = b64(sum[:])
	members["use"] = "sig"
	members["alg"] = alg
	return members
}
