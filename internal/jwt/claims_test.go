package jwt

import (
	"strings"
	"testing"
)

// claimName knows exactly the registered claims parseClaims reads: every
// other name, however close, is claimOther.
func TestClaimName(t *testing.T) {
	want := map[string]int{"iss": claimIss, "sub": claimSub, "acr": claimAcr, "exp": claimExp, "nbf": claimNbf,
		"iat": claimIat, "aud": claimAud, "scp": claimScp, "scope": claimScope, "auth_time": claimAuthTime}
	seen := map[int]bool{}
	for name, c := range want {
		if got := claimName([]byte(name)); got != c {
			t.Errorf("claimName(%q) = %d; want %d", name, got, c)
		}
		seen[c] = true
		for _, near := range []string{name + "x", name[1:], strings.ToUpper(name), " " + name, name[:len(name)-1] + "\x00"} {
			if got := claimName([]byte(near)); got != claimOther {
				t.Errorf("claimName(%q) = %d; want claimOther", near, got)
			}
		}
	}
	if len(seen) != len(want) || seen[claimOther] {
		t.Fatal("two names share a constant, or one is claimOther")
	}
	for _, name := range []string{"", "a", "azp", "jti", "cnf", "nonce", "scopes", "auth_tim", "client_id"} {
		if got := claimName([]byte(name)); got != claimOther {
			t.Errorf("claimName(%q) = %d; want claimOther", name, got)
		}
	}
}
