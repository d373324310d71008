package dpop

import (
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/wasm-authn/wasm-authn/internal/authn"

	"github.com/tidwall/gjson"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// cnf returns the "cnf" member of a claims JSON text.
func cnf(t testing.TB, claimsJSON string) gjson.Result {
	t.Helper()
	c, f := jwt.StrictJSONObject([]byte(claimsJSON))
	if f != jwt.FailNone {
		t.Fatalf("claims %s: %v", claimsJSON, f)
	}
	return c.Get("cnf")
}

func TestCheckBinding(t *testing.T) {
	other, _ := Thumbprint([]byte(rfc7638JWK))
	nonCanonical := rfc9449JKT[:42] + "J" // 'I' -> 'J' sets a trailing bit
	tests := []struct {
		name, claims, thumbprint string
		want                     Failure
		bound                    bool
	}{
		{"bound to the key", `{"cnf":{"jkt":"` + rfc9449JKT + `"}}`, rfc9449JKT, FailNone, true},
		{"bound, other confirmation members too", `{"cnf":{"x5t#S256":"abc","jkt":"` + rfc9449JKT + `"}}`, rfc9449JKT, FailNone, true},
		{"bound to another key", `{"cnf":{"jkt":"` + other + `"}}`, rfc9449JKT, FailBindingMismatch, true},
		{"no cnf", `{"sub":"alice"}`, rfc9449JKT, FailNotBound, false},
		{"cnf without jkt (certificate-bound)", `{"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}`, rfc9449JKT, FailNotBound, false},
		{"cnf null", `{"cnf":null}`, rfc9449JKT, FailBadConfirmation, true},
		{"cnf a string", `{"cnf":"` + rfc9449JKT + `"}`, rfc9449JKT, FailBadConfirmation, true},
		{"jkt a number", `{"cnf":{"jkt":1}}`, rfc9449JKT, FailBadConfirmation, true},
		{"jkt null", `{"cnf":{"jkt":null}}`, rfc9449JKT, FailBadConfirmation, true},
		{"jkt padded", `{"cnf":{"jkt":"` + rfc9449JKT + `="}}`, rfc9449JKT, FailBadConfirmation, true},
		{"jkt short", `{"cnf":{"jkt":"` + rfc9449JKT[:42] + `"}}`, rfc9449JKT, FailBadConfirmation, true},
		{"jkt not canonical base64url", `{"cnf":{"jkt":"` + nonCanonical + `"}}`, rfc9449JKT, FailBadConfirmation, true},
		{"jkt in hex", `{"cnf":{"jkt":"` + strings.Repeat("ab", 32) + `"}}`, rfc9449JKT, FailBadConfirmation, true},
		{"jkt in upper case", `{"cnf":{"jkt":"` + strings.ToUpper(rfc9449JKT) + `"}}`, rfc9449JKT, FailBindingMismatch, true},
		{"empty proof thumbprint", `{"cnf":{"jkt":"` + rfc9449JKT + `"}}`, "", FailBindingMismatch, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cnf(t, tc.claims)
			if got := CheckBinding(c, tc.thumbprint); got != tc.want {
				t.Fatalf("CheckBinding(%s, %q) = %v; want %v", tc.claims, tc.thumbprint, got, tc.want)
			}
			if got := IsBound(c); got != tc.bound {
				t.Fatalf("IsBound(%s) = %v; want %v", tc.claims, got, tc.bound)
			}
		})
	}
}

// TestConfirmation reads "cnf" from the claims of an access token that the
// jwt provider verified (HS256, signed by go-jose), and checks its binding.
func TestConfirmation(t *testing.T) {
	if Confirmation(nil).Exists() || IsBound(Confirmation(nil)) {
		t.Fatal("Confirmation(nil) exists")
	}
	secret := []byte(strings.Repeat("k", 32))
	sk, err := jwt.NewSecretKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jwt.New(jwt.Options{Name: "as", Issuers: []string{"https://as.example"}, Keys: jwt.NewKeySet(sk), Algorithms: []string{"HS256"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cnf   any
		bound bool
		want  Failure
	}{
		{"bound", map[string]any{"jkt": rfc9449JKT}, true, FailNone},
		{"bound elsewhere", map[string]any{"jkt": rfc7638Thumbprint}, true, FailBindingMismatch},
		{"unbound", nil, false, FailNotBound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := map[string]any{"iss": "https://as.example", "exp": testNow.Add(time.Hour).Unix()}
			if tc.cnf != nil {
				c["cnf"] = tc.cnf
			}
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := s.Sign([]byte(mustJSON(t, c)))
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := jws.CompactSerialize()
			v := p.Authenticate(&authn.Request{Path: "/", Now: testNow, Headers: []authn.Header{{Key: "authorization", Value: "Bearer " + tok}}})
			claims, ok := v.Identity.Claims.(*jwt.Claims)
			if v.Outcome != authn.Valid || !ok {
				t.Fatalf("Authenticate = %v %+v", v.Outcome, v.Err)
			}
			if IsBound(Confirmation(claims)) != tc.bound {
				t.Fatalf("IsBound = %v; want %v", !tc.bound, tc.bound)
			}
			if f := CheckBinding(Confirmation(claims), rfc9449JKT); f != tc.want {
				t.Fatalf("CheckBinding = %v; want %v", f, tc.want)
			}
		})
	}
}
