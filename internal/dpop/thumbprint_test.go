package dpop

import (
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// The RFC 7638 §3.1 example key and thumbprint.
const (
	rfc7638JWK        = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	// RFC 9449's example key (§4.1 and every proof in the RFC).
	rfc9449JWK = `{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}`
)

func TestThumbprintRFCVectors(t *testing.T) {
	tests := []struct{ name, jwk, want string }{
		{"RFC 7638 §3.1", rfc7638JWK, rfc7638Thumbprint},
		{"RFC 7638 §3.1, required members only", strings.Replace(rfc7638JWK, `,"alg":"RS256","kid":"2011-04-29"`, "", 1), rfc7638Thumbprint},
		{"RFC 7638 §3.1, members reordered and spaced", `{ "e" : "AQAB", "kid":"x", "n":` + rfc7638JWK[len(`{"kty":"RSA","n":`):strings.Index(rfc7638JWK, `,"e"`)] + `, "kty":"RSA" }`, rfc7638Thumbprint},
		{"RFC 9449 §6.1 jkt", rfc9449JWK, rfc9449JKT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Thumbprint([]byte(tc.jwk))
			if err != nil || got != tc.want {
				t.Fatalf("Thumbprint(%.60s…) = %q, %v; want %q", tc.jwk, got, err, tc.want)
			}
		})
	}
}

// TestThumbprintAgainstGoJose compares every key type's thumbprint with
// go-jose's implementation of RFC 7638.
func TestThumbprintAgainstGoJose(t *testing.T) {
	for _, name := range []string{"ec256", "ec384", "ec521", "rsa2048", "ed25519"} {
		t.Run(name, func(t *testing.T) {
			got, err := Thumbprint([]byte(mustJSON(t, publicJWK(t, name))))
			if want := joseThumbprint(t, name); err != nil || got != want {
				t.Fatalf("Thumbprint(%s) = %q, %v; go-jose says %q", name, got, err, want)
			}
		})
	}
}

func TestThumbprintRejects(t *testing.T) {
	for _, jwk := range []string{
		``,
		`[]`,
		`{"kty":"RSA","e":"AQAB","e":"AQAB","n":"AQAB"}`,
		`{"kty":"oct","k":"c2VjcmV0"}`,
		`{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs"}`,
		strings.Replace(rfc9449JWK, `"crv":"P-256"`, `"crv":"P-256","d":"AAAA"`, 1),
	} {
		if got, err := Thumbprint([]byte(jwk)); err == nil {
			t.Errorf("Thumbprint(%q) = %q; want an error", jwk, got)
		}
	}
	k, err := jwt.NewSecretKey([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := KeyThumbprint(k); err == nil {
		t.Fatalf("KeyThumbprint(secret) = %q; want an error", got)
	}
}
