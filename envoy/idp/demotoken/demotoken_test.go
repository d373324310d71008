package demotoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTokensVerifyWithTheServedJWKS signs a token with each demo key and
// verifies it with the key of the same kid in the JWKS the idp service
// serves (envoy/idp/html); an impostor's token names that kid but does not
// verify.
func TestTokensVerifyWithTheServedJWKS(t *testing.T) {
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	b, err := os.ReadFile(filepath.Join("..", "html", ".well-known", "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &jwks); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rs256", "es256"} {
		t.Run(name, func(t *testing.T) {
			k, err := LoadKey(filepath.Join("..", "demo-keys", name+".pem"))
			if err != nil {
				t.Fatal(err)
			}
			var jwk map[string]string
			for _, j := range jwks.Keys {
				if j["kid"] == k.KID {
					jwk = j
				}
			}
			if jwk == nil || jwk["alg"] != k.Alg {
				t.Fatalf("kid %s alg %s: not in the JWKS", k.KID, k.Alg)
			}
			tok, err := k.Sign(Claims("alice", "orders.read", time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if !verify(t, jwk, tok) {
				t.Errorf("token does not verify with the JWKS key")
			}
			var header map[string]string
			seg, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			if json.Unmarshal(seg, &header) != nil || header["kid"] != k.KID || header["alg"] != k.Alg {
				t.Errorf("header %s", seg)
			}
			imp, err := k.Impostor()
			if err != nil {
				t.Fatal(err)
			}
			forged, err := imp.Sign(Claims("alice", "orders.read", time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if imp.KID != k.KID || verify(t, jwk, forged) {
				t.Errorf("impostor's token: kid %s, verifies %v; want the demo kid, not verifying", imp.KID, verify(t, jwk, forged))
			}
		})
	}
}

func verify(t *testing.T, jwk map[string]string, tok string) bool {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", tok)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	num := func(s string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(b)
	}
	switch jwk["kty"] {
	case "RSA":
		pub := &rsa.PublicKey{N: num(jwk["n"]), E: int(num(jwk["e"]).Int64())}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case "EC":
		raw := append([]byte{4}, append(num(jwk["x"]).FillBytes(make([]byte, 32)), num(jwk["y"]).FillBytes(make([]byte, 32))...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return len(sig) == 64 && ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	}
	t.Fatalf("kty %q", jwk["kty"])
	return false
}
