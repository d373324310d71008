package jwt

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// joseVerifies reports whether go-jose parses tok as a compact JWS and
// verifies its signature with one of p's keys (an oracle may try them all)
// to the payload tok carries.
func joseVerifies(p *Provider, tok string) bool {
	var algs []jose.SignatureAlgorithm
	for _, a := range SupportedAlgorithms() {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	set, _ := p.store.Keys()
	if edOnly := ed25519Input(tok); edOnly != nil {
		// go-jose v4 does not know RFC 9864's "Ed25519" (EdDSA with
		// Ed25519 under its fully specified name): check the signature
		// with crypto/ed25519 itself.
		for _, k := range set.Keys() {
			if pub, ok := k.Public.(ed25519.PublicKey); ok && ed25519.Verify(pub, edOnly.input, edOnly.sig) {
				return true
			}
		}
		return false
	}
	jws, err := jose.ParseSignedCompact(tok, algs)
	if err != nil {
		return false
	}
	for _, k := range set.Keys() {
		var key any = k.Public
		if k.Type == KeyOct {
			key = k.secret
		}
		if _, err := jws.Verify(key); err == nil {
			return true
		}
	}
	return false
}

// ed25519Input returns the signing input and signature of tok if its JOSE
// header's alg is "Ed25519", or nil.
func ed25519Input(tok string) *struct{ input, sig []byte } {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	hdr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	var h map[string]any // not a struct: encoding/json matches its field names in any case
	if err1 != nil || err2 != nil || json.Unmarshal(hdr, &h) != nil || h["alg"] != "Ed25519" {
		return nil
	}
	return &struct{ input, sig []byte }{[]byte(parts[0] + "." + parts[1]), sig}
}

// FuzzVerify drives token parsing and validation through Authenticate, with
// asymmetric keys and with an HMAC secret. Property: no panic, exactly one
// of Absent, Valid (with claims) or Invalid with a known Failure, and a
// token accepted here is one whose signature go-jose (an independent JOSE
// implementation) also verifies with one of the provider's keys.
func FuzzVerify(f *testing.F) {
	for _, alg := range SupportedAlgorithms() {
		f.Add(token(f, alg, claims()))
	}
	for _, s := range []string{
		rfcTokenA1, rfcTokenA2, rfcTokenA3, rfcTokenA4, rfcToken8037,
		seg(`{"alg":"none"}`) + "." + seg(`{"iss":"x"}`) + ".",
		seg(`{"alg":"ES256","crit":["b64"],"b64":false}`) + ".e30.AAAA",
		seg(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d",
		seg(`{"alg":"ES256","alg":"RS256"}`) + ".e30.AAAA",
		strings.Repeat(".", 1000),
		"",
	} {
		f.Add(s)
	}
	asym := newProvider(f, func(o *Options) { o.Type = "" })
	k, _ := NewSecretKey(testSecret)
	sym := newProvider(f, func(o *Options) { o.Keys, o.Algorithms = NewKeySet(k), []string{"HS256", "HS384", "HS512"} })
	memo := &headerMemo{} // shared by every input, as a provider's is
	f.Fuzz(func(t *testing.T, tok string) {
		a, fa := parseUnsafe(tok, asym.v.algs, memo)
		b, fb := parseUnsafe(tok, asym.v.algs, nil)
		sameParse(t, tok, a, fa, b, fb)
		for _, p := range []*Provider{asym, sym} {
			v := p.Authenticate(bearer(tok))
			switch v.Outcome {
			case authn.Absent:
				t.Fatalf("Absent for \"Bearer %q\": a Bearer header is always ours", tok)
			case authn.Valid:
				if c, ok := v.Identity.Claims.(*Claims); !ok || c.Issuer != testIssuer {
					t.Fatalf("Valid without claims: %+v", v.Identity)
				}
				if !joseVerifies(p, tok) {
					t.Fatalf("accepted, but go-jose verifies it with none of the keys: %q", tok)
				}
			case authn.Invalid:
				if f := FailureOf(v.Err); f == FailNone || f.Status() >= 500 {
					t.Fatalf("Invalid with an unknown or server failure: %+v", v.Err)
				}
				if len(tok) >= 16 && strings.Contains(v.Err.Challenge, tok) {
					t.Fatal("the challenge echoes the token")
				}
			default:
				t.Fatalf("outcome %v for static keys", v.Outcome)
			}
		}
	})
}

// FuzzParseJWKS: a fetched key set is attacker-influenced input.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[` + rfcJWKA2 + `,` + rfcJWKA3 + `,` + rfcJWKA4 + `,` + rfcJWK8037 + `]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256","use":"sig","key_ops":["verify"]}]}`))
	f.Add([]byte(`{"issuer":"https://i","jwks_uri":"https://i/k"}`))
	certMap, _ := json.Marshal(map[string]string{"a": certificatePEM(f, "ec256"), "b": certificatePEM(f, "rsa2048")})
	f.Add(certMap)
	f.Fuzz(func(t *testing.T, data []byte) {
		set, skipped, err := ParseJWKS(data, DefaultMinRSABits)
		if err != nil && (set != nil || skipped != nil) {
			t.Fatal("an error with a key set")
		}
		for _, k := range set.Keys() {
			if k.Public == nil || len(k.SPKI()) == 0 || k.Type == KeyOct {
				t.Fatalf("unusable key %+v", k)
			}
		}
		if uri, err := ParseDiscovery(data, "https://i"); err == nil {
			if _, _, err := SplitURI(uri); err != nil {
				t.Fatalf("discovery returned a bad jwks_uri %q", uri)
			}
		}
	})
}
