package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Valid proofs are signed by go-jose v4, a JOSE implementation independent
// of this package and of package jwt; go-jose also embeds the "jwk" and
// computes reference thumbprints. Keys are generated once per test binary.

var testNow = time.Unix(1_800_000_000, 0).UTC()

const (
	testToken  = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU" // RFC 9449 §7.1's access token
	testMethod = "GET"
	testURI    = "https://api.example.com/v1/things"
)

var (
	keysOnce sync.Once
	keys     map[string]crypto.Signer
)

// key returns the private key named "ec256", "ec384", "ec521", "rsa2048",
// "ed25519" or "ec256b" (a second P-256 key).
func key(t testing.TB, name string) crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		keys = map[string]crypto.Signer{}
		for name, c := range map[string]elliptic.Curve{"ec256": elliptic.P256(), "ec256b": elliptic.P256(), "ec384": elliptic.P384(), "ec521": elliptic.P521()} {
			k, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				panic(err)
			}
			keys[name] = k
		}
		r, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys["rsa2048"] = r
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		keys["ed25519"] = ed
	})
	k := keys[name]
	if k == nil {
		t.Fatalf("no test key %q", name)
	}
	return k
}

// keyFor names the key that signs alg.
func keyFor(alg string) string {
	switch {
	case alg[0] == 'R' || alg[0] == 'P':
		return "rsa2048"
	case alg == "ES256":
		return "ec256"
	case alg == "ES384":
		return "ec384"
	case alg == "ES512":
		return "ec521"
	}
	return "ed25519"
}

// publicJWK is go-jose's JSON encoding of the named key's public half, as
// a map a test may change.
func publicJWK(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key(t, name).Public()})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// joseThumbprint is go-jose's RFC 7638 thumbprint of the named key.
func joseThumbprint(t testing.TB, name string) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: key(t, name).Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// athOf computes "ath" independently of ATH.
func athOf(tok string) string {
	d := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(d[:])
}

// claims returns a valid claim set for testRequest, changed by kv pairs (a
// nil value deletes the claim).
func claims(kv ...any) map[string]any {
	c := map[string]any{
		"jti": "e1j3V_bKic8-LAEB", "htm": testMethod, "htu": testURI,
		"iat": testNow.Unix(), "ath": athOf(testToken),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// proof signs c with alg and the key for alg through go-jose, with "typ"
// dpop+jwt and the signing key's public JWK embedded; hdr pairs change
// the header ("jwk" replaces the embedded key, a nil value deletes "typ"
// or "jwk"; "alg" overrides the header's algorithm, not the signature's).
func proof(t testing.TB, alg string, c map[string]any, hdr ...any) string {
	t.Helper()
	return rawProof(t, alg, keyFor(alg), []byte(mustJSON(t, c)), hdr...)
}

// rawProof signs payload (used as given) with alg and the named key.
func rawProof(t testing.TB, alg, keyName string, payload []byte, hdr ...any) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: true}
	opts.WithType("dpop+jwt")
	sigAlg := alg
	if alg == "Ed25519" { // RFC 9864's name of EdDSA with Ed25519, unknown to go-jose
		sigAlg = "EdDSA"
		opts.WithHeader("alg", alg)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		name, v := hdr[i].(string), hdr[i+1]
		switch {
		case name == "jwk" && v == nil:
			opts.EmbedJWK = false
		case v == nil:
			delete(opts.ExtraHeaders, jose.HeaderKey(name))
		default:
			opts.WithHeader(jose.HeaderKey(name), v)
		}
	}
	var k any = key(t, keyFor(alg))
	if keyName != "" {
		k = key(t, keyName)
	}
	if strings.HasPrefix(alg, "HS") {
		k = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		opts.EmbedJWK = false
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(sigAlg), Key: k}, opts)
	if err != nil {
		t.Fatalf("NewSigner(%s): %v", alg, err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatalf("Sign(%s): %v", alg, err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// unsigned builds header.payload.sig from JSON texts, for proofs that
// fail before the signature.
func unsigned(header, payload, sig string) string {
	return seg(header) + "." + seg(payload) + "." + sig
}

func testRequest() Request {
	return Request{Method: testMethod, HTU: testURI, AccessToken: testToken, Now: testNow}
}
