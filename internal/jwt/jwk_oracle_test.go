package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestParseJWKSAgreesWithGoJose parses single public JWKs with ParseJWKS
// and with go-jose v4 (an independent JWK implementation): every key both
// accept must be the same key, and ParseJWKS must refuse every key go-jose
// finds invalid. ParseJWKS is stricter by policy (RSA size, "use",
// private members), so keys only go-jose accepts are allowed when they are
// outside that policy, and named in want. ParseJWKS is more lenient in one
// way: an EC coordinate shorter than the curve's size, or longer by
// leading zero bytes, which go-jose refuses, is read as the number it
// encodes; the key must then be the one with the exact encoding.
func TestParseJWKSAgreesWithGoJose(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	pub := func(name string) crypto.PublicKey { return privateKey(t, name).Public() }
	render := func(p crypto.PublicKey) map[string]any {
		switch k := p.(type) {
		case *rsa.PublicKey:
			e := []byte{byte(k.E >> 16), byte(k.E >> 8), byte(k.E)}
			for len(e) > 1 && e[0] == 0 {
				e = e[1:]
			}
			return map[string]any{"kty": "RSA", "n": enc(k.N.Bytes()), "e": enc(e)}
		case *ecdsa.PublicKey:
			raw, _ := k.Bytes()
			size := (len(raw) - 1) / 2
			return map[string]any{"kty": "EC", "crv": k.Curve.Params().Name, "x": enc(raw[1 : 1+size]), "y": enc(raw[1+size:])}
		case ed25519.PublicKey:
			return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc(k)}
		}
		t.Fatalf("no JWK for %T", p)
		return nil
	}
	with := func(m map[string]any, kv ...any) string {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return mustJSON(t, c)
	}
	flip := func(s string) string { // change one byte of a base64url value
		b, _ := base64.RawURLEncoding.DecodeString(s)
		b[len(b)/2] ^= 0x01
		return enc(b)
	}
	rsaJWK, ecJWK, ec384, ec521, edJWK := render(pub("rsa2048")), render(pub("ec256")), render(pub("ec384")), render(pub("ec521")), render(pub("ed25519"))
	var lead *ecdsa.PrivateKey // a P-256 key whose x starts with a zero byte
	for lead == nil || lead.X.BitLen() > 248 {
		lead, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	leadJWK := render(lead.Public())
	cases := []struct {
		name, jwk string
		// onlyGoJose: go-jose accepts it, ParseJWKS refuses it by policy.
		onlyGoJose bool
	}{
		{"RSA 2048", with(rsaJWK), false},
		{"RSA 2048 with kid, alg and use", with(rsaJWK, "kid", "a", "alg", "RS256", "use", "sig"), false},
		{"RSA 1024", with(render(pub("rsa1024"))), true},
		{"RSA use enc", with(rsaJWK, "use", "enc"), true},
		{"RFC 7515 A.2", rfcJWKA2, false},
		{"EC P-256", with(ecJWK), false},
		{"EC P-384", with(ec384), false},
		{"EC P-521", with(ec521), false},
		{"RFC 7515 A.3", rfcJWKA3, false},
		{"RFC 7515 A.4", rfcJWKA4, false},
		{"EC point off the curve", with(ecJWK, "y", flip(ecJWK["y"].(string))), false},
		{"EC x one byte short", with(ecJWK, "x", enc(mustB64(t, ecJWK["x"].(string))[1:])), false},
		{"EC x with a leading zero byte", with(leadJWK), false},
		{"EC curve mismatch", with(ec384, "crv", "P-256"), false},
		{"EC unknown curve", with(ecJWK, "crv", "secp256k1"), false},
		{"EC without y", with(ecJWK, "y", nil), false},
		{"OKP Ed25519", with(edJWK), false},
		{"RFC 8037 A.2", rfcJWK8037, false},
		{"OKP x short", with(edJWK, "x", enc(make([]byte, 31))), false},
		{"OKP X25519", with(edJWK, "crv", "X25519"), false},
		{"RSA without e", with(rsaJWK, "e", nil), false},
		{"RSA empty n", with(rsaJWK, "n", ""), true}, // go-jose takes n = 0
		{"unknown kty", with(rsaJWK, "kty", "RSA2"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ref jose.JSONWebKey
			refErr := json.Unmarshal([]byte(c.jwk), &ref)
			if refErr == nil && !ref.Valid() {
				refErr = errInvalidRef
			}
			set, skipped, err := ParseJWKS(jwks(c.jwk), DefaultMinRSABits)
			if err != nil {
				t.Fatalf("ParseJWKS: %v", err)
			}
			ours := set.Keys()
			switch {
			case refErr != nil && len(ours) > 0:
				t.Fatalf("go-jose refuses the key (%v), ParseJWKS accepts it", refErr)
			case refErr != nil:
				return // both refuse
			case c.onlyGoJose:
				if len(ours) != 0 {
					t.Fatal("ParseJWKS accepted a key its policy refuses")
				}
				return
			case len(ours) != 1:
				t.Fatalf("go-jose accepts the key, ParseJWKS skipped it: %v", skipped)
			}
			eq, ok := ours[0].Public.(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !eq.Equal(ref.Key) {
				t.Fatalf("keys differ: ours %T, go-jose %T", ours[0].Public, ref.Key)
			}
		})
	}
	// Refused by go-jose for their length, read by ParseJWKS as the key of
	// the exact encoding.
	for name, jwk := range map[string]string{
		"EC x without its leading zero byte": with(leadJWK, "x", enc(mustB64(t, leadJWK["x"].(string))[1:])),
		"EC y with a leading zero byte more": with(leadJWK, "y", enc(append([]byte{0}, mustB64(t, leadJWK["y"].(string))...))),
	} {
		var ref jose.JSONWebKey
		if err := json.Unmarshal([]byte(jwk), &ref); err == nil && ref.Valid() {
			t.Errorf("%s: go-jose accepts it", name)
		}
		set, skipped, err := ParseJWKS(jwks(jwk), DefaultMinRSABits)
		if err != nil || set.Len() != 1 || !set.Keys()[0].Public.(*ecdsa.PublicKey).Equal(lead.Public()) {
			t.Errorf("%s: %v %v; want the key", name, err, skipped)
		}
	}
}

var errInvalidRef = jsonError("go-jose: key not valid")

type jsonError string

func (e jsonError) Error() string { return string(e) }

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
