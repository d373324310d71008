package jwt

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Test tokens are signed by golang-jwt, an implementation independent of
// this package, with keys made by openssl (scripts/gen-jwt-fixtures.sh).

const (
	testIssuer = "https://issuer.example"
	testRealm  = "api"
)

var testNow = time.Unix(1_800_000_000, 0).UTC()

// testSecret is a 64-byte HMAC secret (enough for HS512).
var testSecret = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// privateKey loads testdata/keys/<name>.pem.
func privateKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	data := readFile(t, name+".pem")
	var (
		k   crypto.Signer
		err error
	)
	switch {
	case strings.HasPrefix(name, "rsa"):
		k, err = gjwt.ParseRSAPrivateKeyFromPEM(data)
	case strings.HasPrefix(name, "ec"):
		k, err = gjwt.ParseECPrivateKeyFromPEM(data)
	default:
		var pk crypto.PrivateKey
		pk, err = gjwt.ParseEdPrivateKeyFromPEM(data)
		if err == nil {
			k = pk.(crypto.Signer)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return k
}

// publicKey loads testdata/keys/<name>.pub.pem with kid.
func publicKey(t testing.TB, name, kid string, minBits int) *Key {
	t.Helper()
	ks, err := ParsePEM(readFile(t, name+".pub.pem"), kid, minBits)
	if err != nil || len(ks) != 1 {
		t.Fatalf("ParsePEM(%s) = %v, %v", name, ks, err)
	}
	return ks[0]
}

// testKeys is the default static key set: one key per type, each with a kid
// naming the private key that matches it.
func testKeys(t testing.TB) *KeySet {
	return NewKeySet(
		publicKey(t, "rsa2048", "rsa2048", 0),
		publicKey(t, "ec256", "ec256", 0),
		publicKey(t, "ec384", "ec384", 0),
		publicKey(t, "ec521", "ec521", 0),
		publicKey(t, "ed25519", "ed25519", 0),
	)
}

// keyFor returns the fixture that signs alg.
func keyFor(alg string) string {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
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

func testOptions(t testing.TB) Options {
	return Options{
		Name: "idp", Realm: testRealm, Issuers: []string{testIssuer}, Audiences: []string{"api"},
		Keys: testKeys(t), ClockSkew: DefaultClockSkew,
	}
}

func newProvider(t testing.TB, mutate func(*Options)) *Provider {
	t.Helper()
	o := testOptions(t)
	if mutate != nil {
		mutate(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// claims returns a valid claim set at testNow, changed by kv pairs (a nil
// value deletes the claim).
func claims(kv ...any) map[string]any {
	c := map[string]any{
		"iss": testIssuer, "sub": "alice", "aud": "api",
		"exp": testNow.Add(time.Hour).Unix(), "iat": testNow.Add(-time.Minute).Unix(),
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

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rawToken signs header.payload (JSON texts, used as given) with golang-jwt's
// implementation of method and the private key named key.
func rawToken(t testing.TB, method, key, header, payload string) string {
	t.Helper()
	m := gjwt.GetSigningMethod(method)
	if method == "Ed25519" { // RFC 9864's name for golang-jwt's EdDSA
		m = gjwt.SigningMethodEdDSA
	}
	if m == nil {
		t.Fatalf("golang-jwt has no %s", method)
	}
	input := seg(header) + "." + seg(payload)
	var k any
	if strings.HasPrefix(method, "HS") {
		k = testSecret
	} else {
		k = privateKey(t, key)
	}
	sig, err := m.Sign(input, k)
	if err != nil {
		t.Fatalf("sign %s: %v", method, err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// token signs claims with alg and the matching fixture, with header fields
// (alg and kid are set unless given; a nil value deletes).
func token(t testing.TB, alg string, c map[string]any, hdr ...any) string {
	t.Helper()
	h := map[string]any{"alg": alg, "typ": "JWT", "kid": keyFor(alg)}
	if strings.HasPrefix(alg, "HS") {
		delete(h, "kid")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == nil {
			delete(h, hdr[i].(string))
		} else {
			h[hdr[i].(string)] = hdr[i+1]
		}
	}
	return rawToken(t, alg, keyFor(alg), mustJSON(t, h), mustJSON(t, c))
}

func bearer(tok string, extra ...string) *authn.Request {
	r := &authn.Request{Path: "/", Now: testNow, Headers: []authn.Header{{Key: "authorization", Value: "Bearer " + tok}}}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Headers = append(r.Headers, authn.Header{Key: extra[i], Value: extra[i+1]})
	}
	return r
}

// wantFailure checks that v is Invalid for f, with f's reason, status, code
// and a challenge that never echoes tok.
func wantFailure(t testing.TB, v authn.Verdict, f Failure, tok string) {
	t.Helper()
	if v.Outcome != authn.Invalid || v.Err == nil {
		t.Fatalf("verdict = %v (%+v); want Invalid for %v", v.Outcome, v.Err, f)
	}
	if got := FailureOf(v.Err); got != f {
		t.Fatalf("failure = %v (%q); want %v", got, v.Err.Description, f)
	}
	if v.Err.Reason != f.Reason() || v.Err.HTTPStatus() != f.Status() || v.Err.Code != f.Code() {
		t.Fatalf("error = reason %v status %d code %q; want %v %d %q", v.Err.Reason, v.Err.HTTPStatus(), v.Err.Code, f.Reason(), f.Status(), f.Code())
	}
	if tok != "" && (strings.Contains(v.Err.Challenge, tok) || strings.Contains(v.Err.Description, tok)) {
		t.Fatalf("the error echoes the token")
	}
}

// certificatePEM is a self-signed PEM certificate for the named test key,
// made by crypto/x509.
func certificatePEM(t testing.TB, name string) string {
	t.Helper()
	k := privateKey(t, name)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
