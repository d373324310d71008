package plugintest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
)

// Test keys are generated once per test binary; tokens are signed with
// golang-jwt, an implementation independent of the plugin's verifier.
type testKey struct {
	alg    string
	kid    string
	signer crypto.Signer // nil for HMAC
	secret []byte
}

var (
	keysOnce sync.Once
	keysByAl map[string]*testKey
)

const (
	testIssuer   = "https://idp.test"
	testAudience = "https://api.test"
)

func genKeys(t testing.TB) map[string]*testKey {
	keysOnce.Do(func() {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ec := func(c elliptic.Curve) *ecdsa.PrivateKey {
			k, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		secret := make([]byte, 64)
		rand.Read(secret)
		keysByAl = map[string]*testKey{}
		for _, a := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"} {
			keysByAl[a] = &testKey{alg: a, kid: "rsa", signer: rsaKey}
		}
		keysByAl["ES256"] = &testKey{alg: "ES256", kid: "p256", signer: ec(elliptic.P256())}
		keysByAl["ES384"] = &testKey{alg: "ES384", kid: "p384", signer: ec(elliptic.P384())}
		keysByAl["ES512"] = &testKey{alg: "ES512", kid: "p521", signer: ec(elliptic.P521())}
		keysByAl["EdDSA"] = &testKey{alg: "EdDSA", kid: "ed", signer: ed}
		keysByAl["Ed25519"] = &testKey{alg: "Ed25519", kid: "ed", signer: ed}
		for _, a := range []string{"HS256", "HS384", "HS512"} {
			keysByAl[a] = &testKey{alg: a, kid: "hs", secret: secret}
		}
	})
	return keysByAl
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwk renders the public key as a JWK.
func (k *testKey) jwk(kid string) map[string]any {
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "n": b64u(pub.N.Bytes()), "e": b64u(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		pub.X.FillBytes(x)
		pub.Y.FillBytes(y)
		return map[string]any{"kty": "EC", "kid": kid, "crv": pub.Curve.Params().Name, "x": b64u(x), "y": b64u(y)}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64u(pub)}
	}
	panic("unknown key")
}

// jwksOf returns a JWKS of the asymmetric test keys, each once.
func jwksOf(t testing.TB, kidSuffix string) string {
	seen := map[string]bool{}
	var keys []any
	for _, k := range genKeys(t) {
		if k.signer == nil || seen[k.kid] {
			continue
		}
		seen[k.kid] = true
		keys = append(keys, k.jwk(k.kid+kidSuffix))
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return string(b)
}

func signingMethod(alg string) gjwt.SigningMethod {
	if alg == "Ed25519" { // RFC 9864's name of EdDSA with Ed25519; token sets the header
		return gjwt.SigningMethodEdDSA
	}
	m := gjwt.GetSigningMethod(alg)
	if m == nil {
		panic("golang-jwt has no " + alg)
	}
	return m
}

// token signs claims (merged over valid defaults) with alg's test key.
func token(t testing.TB, alg string, claims map[string]any, header map[string]any) string {
	t.Helper()
	k := genKeys(t)[alg]
	now := time.Now()
	c := gjwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "user-1", "exp": now.Add(time.Hour).Unix(),
		"iat": now.Add(-time.Minute).Unix(), "scope": "api.read profile"}
	for key, v := range claims {
		if v == nil {
			delete(c, key)
		} else {
			c[key] = v
		}
	}
	tok := gjwt.NewWithClaims(signingMethod(alg), c)
	tok.Header["alg"] = alg
	tok.Header["kid"] = k.kid
	for key, v := range header {
		if v == nil {
			delete(tok.Header, key)
		} else {
			tok.Header[key] = v
		}
	}
	var key any = k.signer
	if k.signer == nil {
		key = k.secret
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing %s: %v", alg, err)
	}
	return s
}

// rawToken signs arbitrary header and payload JSON texts with alg's key.
func rawToken(t testing.TB, alg, header, payload string) string {
	t.Helper()
	k := genKeys(t)[alg]
	input := b64u([]byte(header)) + "." + b64u([]byte(payload))
	var key any = k.signer
	if k.signer == nil {
		key = k.secret
	}
	sig, err := signingMethod(alg).Sign(input, key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64u(sig)
}

// staticJWTConfig has a jwt provider with inline keys for every
// asymmetric algorithm, one with the HMAC secret, and constraint rules.
func staticJWTConfig(t testing.TB) []byte {
	secret := base64.StdEncoding.EncodeToString(genKeys(t)["HS256"].secret)
	return []byte(fmt.Sprintf(`{"realm":"api","providers":[
	 {"name":"idp","jwt":{"issuers":[%[1]q],"audiences":[%[2]q],
	  "algorithms":["RS256","RS384","RS512","PS256","PS384","PS512","ES256","ES384","ES512","EdDSA","Ed25519"],
	  "jwks":%[3]s,
	  "claim_headers":[{"claim":"sub","header":"x-jwt-sub"},{"claim":"groups","header":"x-jwt-groups"},{"claim":"org.name","header":"x-jwt-org"}],
	  "cache":{"max_entries":0}}},
	 {"name":"idp-cached","jwt":{"issuers":[%[1]q],"audiences":[%[2]q],"jwks":%[3]s,"sources":[{"header":"x-cached-token"}]}},
	 {"name":"hs","jwt":{"issuers":["https://hs.test"],"audiences":[%[2]q],"algorithms":["HS256","HS384","HS512"],"hmac_secret":%[4]q,
	  "sources":[{"header":"x-hs-token"}]}}],
	"rules":[
	 {"name":"hs","match":{"path":{"prefix":"/hs/"}},"require":{"provider":"hs"}},
	 {"name":"cached","match":{"path":{"prefix":"/cached/"}},"require":{"provider":"idp-cached"}},
	 {"name":"admin","match":{"path":{"prefix":"/admin/"}},"require":{"provider":"idp","scopes":["admin"]}},
	 {"name":"stepup","match":{"path":{"prefix":"/stepup/"}},"require":{"provider":"idp","acr_values":["urn:mfa"],"max_age_seconds":300}},
	 {"name":"resource","match":{"path":{"prefix":"/billing/"}},"require":{"provider":"idp","resource":"https://billing.test"}},
	 {"name":"api","match":{"path":{"prefix":"/"}},"require":{"provider":"idp"}}]}`,
		testIssuer, testAudience, jwksOf(t, ""), secret))
}

func bearer(tok string) [2]string { return [2]string{"authorization", "Bearer " + tok} }

// challengeOf returns the first WWW-Authenticate value of a reply.
func challengeOf(r Result) string {
	if r.Local == nil {
		return ""
	}
	vs := Header(r.Local.Headers, "www-authenticate")
	return strings.Join(vs, " | ")
}
