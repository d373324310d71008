package jwt

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// The examples of RFC 7515 Appendix A and RFC 8037 Appendix A.4, verbatim.
// Their claims expired in 2011, so they are checked at a fixed time.
const (
	rfcPayloadA1 = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	rfcTokenA1   = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + rfcPayloadA1 + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcKeyA1     = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
	rfcTokenA2   = "eyJhbGciOiJSUzI1NiJ9." + rfcPayloadA1 + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
	rfcJWKA2     = `{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}`
	rfcTokenA3   = "eyJhbGciOiJFUzI1NiJ9." + rfcPayloadA1 + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
	rfcJWKA3     = `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`
	rfcJWKA4     = `{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}`
	rfcJWK8037   = `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	rfcToken8037 = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

// rfcTokenA4 is built from the octets the RFC prints: its payload is the
// string "Payload", and its signature R||S.
var rfcTokenA4 = seg(`{"alg":"ES512"}`) + "." + seg("Payload") + "." + base64.RawURLEncoding.EncodeToString([]byte{
	1, 220, 12, 129, 231, 171, 194, 209, 232, 135, 233, 117, 247, 105, 122, 210, 26, 125, 192, 1, 217, 21, 82, 91, 45, 240, 255, 83, 19,
	34, 239, 71, 48, 157, 147, 152, 105, 18, 53, 108, 163, 214, 68, 231, 62, 153, 150, 106, 194, 164, 246, 72, 143, 138, 24, 50, 129,
	223, 133, 206, 209, 172, 63, 237, 119, 109,
	0, 111, 6, 105, 44, 5, 41, 208, 128, 61, 152, 40, 92, 61, 152, 4, 150, 66, 60, 69, 247, 196, 170, 81, 193, 199, 78, 59, 194, 169,
	16, 124, 9, 143, 42, 142, 131, 48, 206, 238, 34, 175, 83, 203, 220, 159, 3, 107, 155, 22, 27, 73, 111, 68, 68, 21, 238, 144, 229,
	232, 148, 188, 222, 59, 242, 103,
})

// rfcNow is before the examples' exp (1300819380).
var rfcNow = time.Unix(1300819000, 0)

func rfcSet(t *testing.T, jwk string) *KeySet {
	t.Helper()
	set, skipped, err := ParseJWKS([]byte(`{"keys":[`+jwk+`]}`), DefaultMinRSABits)
	if err != nil || len(skipped) > 0 || set.Len() != 1 {
		t.Fatalf("ParseJWKS = %v, %v, %v", set.Len(), skipped, err)
	}
	return set
}

func TestRFCExamples(t *testing.T) {
	secret, _ := base64.RawURLEncoding.DecodeString(rfcKeyA1)
	hk, err := NewSecretKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
		set   *KeySet
		algs  []string
		// want is FailNone for a JWT that verifies; the A.4 and RFC 8037
		// payloads are not claim sets, so they pass the signature and
		// then fail as claims that are not an object (a bad signature would be
		// FailSignature, checked below).
		want Failure
	}{
		{"RFC 7515 A.1 HS256", rfcTokenA1, NewKeySet(hk), []string{"HS256"}, FailNone},
		{"RFC 7515 A.2 RS256", rfcTokenA2, rfcSet(t, rfcJWKA2), nil, FailNone},
		{"RFC 7515 A.3 ES256", rfcTokenA3, rfcSet(t, rfcJWKA3), nil, FailNone},
		{"RFC 7515 A.4 ES512", rfcTokenA4, rfcSet(t, rfcJWKA4), nil, FailClaimsNotObject},
		{"RFC 8037 A.4 Ed25519", rfcToken8037, rfcSet(t, rfcJWK8037), nil, FailClaimsNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Options{Name: "rfc", Realm: "r", Issuers: []string{"joe"}, Keys: tt.set, Algorithms: tt.algs})
			if err != nil {
				t.Fatal(err)
			}
			res, f := p.v.verify(tt.token, rfcNow, tt.set, nil)
			if f != tt.want {
				t.Fatalf("verify(%s) = %v; want %v", tt.name, f, tt.want)
			}
			if f == FailNone {
				if res.claims.Issuer != "joe" || !res.claims.Expiry.Equal(time.Unix(1300819380, 0)) {
					t.Fatalf("claims = %+v", res.claims)
				}
				if v := res.claims.Lookup(mustPath(t, `http://example\.com/is_root`)); !v.Bool() {
					t.Fatalf("is_root = %v", v)
				}
				// After exp (and the default skew of 0 here) it is expired.
				if _, f := p.v.verify(tt.token, time.Unix(1300819380, 0), tt.set, nil); f != FailExpired {
					t.Fatalf("at exp: %v; want expired", f)
				}
			}
			// One flipped bit in the signature fails it.
			bad := flipLastSigByte(tt.token)
			if _, f := p.v.verify(bad, rfcNow, tt.set, nil); f != FailSignature && f != FailSignatureFormat {
				t.Fatalf("tampered: %v; want a signature failure", f)
			}
		})
	}
}

func flipLastSigByte(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	sig[len(sig)/2] ^= 1
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func mustPath(t testing.TB, s string) ClaimPath {
	t.Helper()
	p, err := ParseClaimPath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The RFC 7515 A.2 token through the provider: a whole request.
func TestRFCExampleThroughProvider(t *testing.T) {
	p, err := New(Options{Name: "rfc", Realm: "r", Issuers: []string{"joe"}, Keys: rfcSet(t, rfcJWKA2)})
	if err != nil {
		t.Fatal(err)
	}
	r := bearer(rfcTokenA2)
	r.Now = rfcNow
	v := p.Authenticate(r)
	if v.Outcome != authn.Valid || v.Identity.Principal != "joe/" {
		t.Fatalf("Authenticate = %v %+v %v", v.Outcome, v.Identity, v.Err)
	}
}
