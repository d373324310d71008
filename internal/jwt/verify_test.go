package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Every supported algorithm verifies a token golang-jwt signed.
func TestVerifyEveryAlgorithm(t *testing.T) {
	for _, alg := range SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			p := newProvider(t, func(o *Options) {
				if strings.HasPrefix(alg, "HS") {
					k, _ := NewSecretKey(testSecret)
					o.Keys, o.Algorithms = NewKeySet(k), []string{alg}
				}
			})
			tok := token(t, alg, claims())
			v := p.Authenticate(bearer(tok))
			if v.Outcome != authn.Valid {
				t.Fatalf("Authenticate(%s) = %v %v; want Valid", alg, v.Outcome, v.Err)
			}
			if v.Identity.Principal != testIssuer+"/alice" {
				t.Fatalf("principal = %q", v.Identity.Principal)
			}
			if c := v.Identity.Claims.(*Claims); c.Subject != "alice" || !slices.Equal(c.Audience, []string{"api"}) {
				t.Fatalf("claims = %+v", c)
			}
			if !slices.Equal(v.Strip.RemoveHeaders, []string{"authorization"}) {
				t.Fatalf("strip = %+v", v.Strip)
			}
			wantFailure(t, p.Authenticate(bearer(flipLastSigByte(tok))), FailSignature, "")
		})
	}
}

// Tokens signed with plain crypto/* (no JOSE library at all) verify too.
func TestVerifyPlainCryptoSigner(t *testing.T) {
	rk := privateKey(t, "rsa2048").(*rsa.PrivateKey)
	input := seg(`{"alg":"PS384","kid":"rsa2048"}`) + "." + seg(mustJSON(t, claims()))
	h := gjwt.SigningMethodPS384.Hash.New()
	h.Write([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, rk, gjwt.SigningMethodPS384.Hash, h.Sum(nil), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, nil)
	if v := p.Authenticate(bearer(input + "." + base64.RawURLEncoding.EncodeToString(sig))); v.Outcome != authn.Valid {
		t.Fatalf("PS384 by crypto/rsa: %v %v", v.Outcome, v.Err)
	}
	// RFC 7518 §3.5 fixes the salt length to the hash size; a PSS
	// signature with another salt length is rejected.
	sig, _ = rsa.SignPSS(rand.Reader, rk, gjwt.SigningMethodPS384.Hash, h.Sum(nil), &rsa.PSSOptions{SaltLength: 20})
	wantFailure(t, p.Authenticate(bearer(input+"."+base64.RawURLEncoding.EncodeToString(sig))), FailSignature, "")
}

// ecdsaVariant re-signs nothing: it rewrites a valid ES256 token's raw R||S.
func ecdsaVariant(t *testing.T, tok string, f func(r, s, n *big.Int) []byte) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	n := privateKey(t, "ec256").(*ecdsa.PrivateKey).Curve.Params().N
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(f(r, s, n))
}

func rs32(r, s *big.Int) []byte {
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

func TestRejections(t *testing.T) {
	ok := token(t, "ES256", claims())
	rsaPub := readFile(t, "rsa2048.pub.pem")
	tests := []struct {
		name   string
		tok    string
		req    *authn.Request // instead of bearer(tok)
		mutate func(*Options)
		want   Failure
	}{
		// Extraction.
		{name: "two tokens", req: bearer(ok, "x-token", ok), mutate: func(o *Options) { o.Sources = []Source{{Header: "authorization"}, {Header: "x-token"}} }, want: FailMultipleTokens},
		{name: "same token in header and query", req: func() *authn.Request { r := bearer(ok); r.Path = "/?access_token=" + ok; return r }(),
			mutate: func(o *Options) { o.Sources = []Source{{Header: "authorization"}, {Query: "access_token"}} }, want: FailMultipleTokens},
		{name: "two bearer headers", req: bearer(ok, "authorization", "Bearer "+ok), want: FailMultipleTokens},
		{name: "too large", tok: token(t, "ES256", claims("pad", strings.Repeat("x", 9000))), want: FailTokenTooLarge},
		{name: "bearer without token", req: &authn.Request{Now: testNow, Headers: []authn.Header{{Key: "authorization", Value: "Bearer"}}}, want: FailEmptyToken},
		{name: "undecodable query", req: &authn.Request{Now: testNow, Path: "/?access_token=%zz"}, mutate: func(o *Options) { o.Sources = []Source{{Query: "access_token"}} }, want: FailUndecodableQuery},

		// Structure.
		{name: "alg none", tok: seg(`{"alg":"none"}`) + "." + seg(mustJSON(t, claims())) + ".", want: FailAlgNone},
		{name: "alg none with a signature", tok: seg(`{"alg":"none"}`) + "." + seg(mustJSON(t, claims())) + ".AAAA", want: FailAlgNone},
		{name: "alg NONE", tok: seg(`{"alg":"NONE"}`) + "." + seg(mustJSON(t, claims())) + ".", want: FailAlgNone},
		{name: "alg outside the allow-list", tok: token(t, "RS256", claims()), mutate: func(o *Options) { o.Algorithms = []string{"ES256"} }, want: FailAlgNotAllowed},
		{name: "HS256 signed with the RSA public key bytes", tok: func() string {
			in := seg(`{"alg":"HS256","kid":"rsa2048"}`) + "." + seg(mustJSON(t, claims()))
			sig, _ := gjwt.SigningMethodHS256.Sign(in, rsaPub)
			return in + "." + base64.RawURLEncoding.EncodeToString(sig)
		}(), want: FailAlgNotAllowed},
		{name: "unknown alg", tok: seg(`{"alg":"ES256K","kid":"ec256"}`) + "." + seg(`{}`) + ".AAAA", want: FailAlgNotAllowed},
		{name: "Ed448 (RFC 9864), not implemented", tok: seg(`{"alg":"Ed448","kid":"ed25519"}`) + "." + seg(mustJSON(t, claims())) + "." + strings.Repeat("A", 152), want: FailAlgNotAllowed},
		// The allow-list names algorithms as tokens do, even these two.
		{name: "Ed25519 when only EdDSA is allowed", tok: token(t, "Ed25519", claims()), mutate: func(o *Options) { o.Algorithms = []string{"EdDSA"} }, want: FailAlgNotAllowed},
		{name: "EdDSA when only Ed25519 is allowed", tok: token(t, "EdDSA", claims()), mutate: func(o *Options) { o.Algorithms = []string{"Ed25519"} }, want: FailAlgNotAllowed},
		{name: "Ed25519 token, kid of an EC key", tok: token(t, "Ed25519", claims(), "kid", "ec256"), want: FailNoKey},
		{name: "alg not a string", tok: seg(`{"alg":["ES256"]}`) + "." + seg(`{}`) + ".AAAA", want: FailMalformed},
		{name: "crit", tok: token(t, "ES256", claims(), "crit", []string{"exp"}, "exp", 1), want: FailCrit},
		{name: "crit b64 true", tok: token(t, "ES256", claims(), "crit", []string{"b64"}, "b64", true), want: FailCrit},
		{name: "b64 false", tok: token(t, "ES256", claims(), "crit", []string{"b64"}, "b64", false), want: FailB64},
		{name: "b64 false without crit", tok: token(t, "ES256", claims(), "b64", false), want: FailB64},
		{name: "b64 not a boolean", tok: token(t, "ES256", claims(), "b64", "false"), want: FailMalformed},
		{name: "JWE compact", tok: seg(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".AAAA.AAAA.AAAA.AAAA", want: FailJWE},
		{name: "enc header", tok: token(t, "ES256", claims(), "enc", "A256GCM"), want: FailJWE},
		{name: "nested JWT", tok: token(t, "ES256", claims(), "cty", "JWT"), want: FailNestedJWT},
		{name: "kid not a string", tok: token(t, "ES256", claims(), "kid", 7), want: FailMalformed},
		{name: "two segments", tok: ok[:strings.LastIndexByte(ok, '.')], want: FailMalformed},
		{name: "four segments", tok: ok + ".AAAA", want: FailMalformed},
		{name: "empty header", tok: "." + ok[strings.IndexByte(ok, '.')+1:], want: FailMalformed},
		{name: "padding", tok: ok + "=", want: FailMalformed},
		{name: "standard base64 alphabet", tok: strings.Replace(ok, "-", "+", 1) + "+", want: FailMalformed},
		{name: "space inside", tok: ok[:10] + " " + ok[10:], want: FailMalformed},
		// Go's base64 decoders skip CR and LF: each segment is checked.
		{name: "LF in the header", tok: ok[:4] + "\n" + ok[4:], want: FailMalformed},
		{name: "CR in the payload", tok: func() string { i := strings.IndexByte(ok, '.') + 4; return ok[:i] + "\r" + ok[i:] }(), want: FailMalformed},
		{name: "CRLF in the signature", tok: func() string { i := strings.LastIndexByte(ok, '.') + 4; return ok[:i] + "\r\n" + ok[i:] }(), want: FailMalformed},
		{name: "LF at the end", tok: ok + "\n", want: FailMalformed},
		{name: "non-canonical base64", tok: func() string {
			// 29 octets leave 2 unused bits in the last character; a
			// lenient decoder ignores them, a strict one does not.
			h := seg(`{"alg":"ES256","kid":"ec256"}`)
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			last := strings.IndexByte(alphabet, h[len(h)-1])
			return h[:len(h)-1] + string(alphabet[last|1]) + "." + strings.SplitN(ok, ".", 2)[1]
		}(), want: FailMalformed},
		{name: "header not an object", tok: seg(`["ES256"]`) + "." + seg(`{}`) + ".AAAA", want: FailMalformed},
		{name: "header not JSON", tok: seg(`{"alg":"ES256",}`) + "." + seg(`{}`) + ".AAAA", want: FailMalformed},
		{name: "header invalid UTF-8", tok: seg("{\"alg\":\"ES256\",\"x\":\"\xff\"}") + "." + seg(`{}`) + ".AAAA", want: FailMalformed},
		{name: "duplicate header alg", tok: seg(`{"alg":"ES256","alg":"none"}`) + "." + seg(`{}`) + ".AAAA", want: FailDuplicateKey},
		{name: "duplicate header escaped", tok: seg(`{"alg":"ES256","\u0061lg":"ES256"}`) + "." + seg(`{}`) + ".AAAA", want: FailDuplicateKey},
		{name: "empty signature", tok: ok[:strings.LastIndexByte(ok, '.')+1], want: FailMalformed},

		// Key choice.
		{name: "unknown kid", tok: token(t, "ES256", claims(), "kid", "nope"), want: FailUnknownKID},
		{name: "kid of an RSA key on an ES256 token", tok: token(t, "ES256", claims(), "kid", "rsa2048"), want: FailNoKey},
		{name: "kid of a P-384 key on an ES256 token", tok: token(t, "ES256", claims(), "kid", "ec384"), want: FailNoKey},
		{name: "kid confusion: signed by another key", tok: rawToken(t, "ES256", "ec256b", `{"alg":"ES256","kid":"ec256"}`, mustJSON(t, claims())), want: FailSignature},
		{name: "no kid and two keys of the type", tok: token(t, "ES256", claims(), "kid", nil), mutate: func(o *Options) {
			o.Keys = NewKeySet(publicKey(t, "ec256", "a", 0), publicKey(t, "ec256b", "b", 0))
		}, want: FailNoKey},
		{name: "RSA 1024 key", tok: rawToken(t, "RS256", "rsa1024", `{"alg":"RS256"}`, mustJSON(t, claims())), mutate: func(o *Options) {
			o.Keys = NewKeySet(publicKey(t, "rsa1024", "", 1024))
		}, want: FailKeyTooSmall},
		{name: "embedded jwk and jku are ignored", tok: func() string {
			attacker := privateKey(t, "rsa2048b").(*rsa.PrivateKey)
			jwk := map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(attacker.N.Bytes()), "e": "AQAB"}
			h := mustJSON(t, map[string]any{"alg": "RS256", "kid": "rsa2048", "jwk": jwk, "jku": "https://evil.example/jwks", "x5u": "https://evil.example/x5u"})
			return rawToken(t, "RS256", "rsa2048b", h, mustJSON(t, claims()))
		}(), want: FailSignature},
		{name: "attacker jwk without kid", tok: func() string {
			attacker := privateKey(t, "ec256b").(*ecdsa.PrivateKey)
			pub, _ := x509.MarshalPKIXPublicKey(&attacker.PublicKey)
			h := mustJSON(t, map[string]any{"alg": "ES256", "x5c": []string{base64.StdEncoding.EncodeToString(pub)}})
			return rawToken(t, "ES256", "ec256b", h, mustJSON(t, claims()))
		}(), want: FailSignature},

		// Signature format.
		{name: "ECDSA r = 0", tok: ecdsaVariant(t, ok, func(r, s, n *big.Int) []byte { return rs32(new(big.Int), s) }), want: FailSignatureFormat},
		{name: "ECDSA s = 0", tok: ecdsaVariant(t, ok, func(r, s, n *big.Int) []byte { return rs32(r, new(big.Int)) }), want: FailSignatureFormat},
		{name: "ECDSA s = n", tok: ecdsaVariant(t, ok, func(r, s, n *big.Int) []byte { return rs32(r, n) }), want: FailSignatureFormat},
		{name: "ECDSA r = n + r", tok: ecdsaVariant(t, ok, func(r, s, n *big.Int) []byte {
			x := new(big.Int).Add(r, n)
			if x.BitLen() > 256 {
				x = n // still out of range
			}
			return rs32(x, s)
		}), want: FailSignatureFormat},
		{name: "ECDSA DER signature", tok: ecdsaVariant(t, ok, func(r, s, n *big.Int) []byte {
			der, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s})
			return der
		}), want: FailSignatureFormat},
		{name: "ECDSA truncated", tok: ecdsaVariant(t, ok, func(r, s, n *big.Int) []byte { return rs32(r, s)[:63] }), want: FailSignatureFormat},
		{name: "RSA signature of the wrong size", tok: func() string {
			tok := token(t, "RS256", claims())
			i := strings.LastIndexByte(tok, '.')
			sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
			return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig[1:])
		}(), want: FailSignatureFormat},
		{name: "ES256 signed with P-256, key P-384", tok: rawToken(t, "ES256", "ec256", `{"alg":"ES256"}`, mustJSON(t, claims())), mutate: func(o *Options) {
			o.Keys = NewKeySet(publicKey(t, "ec384", "", 0))
		}, want: FailNoKey},

		// Claims (after the signature).
		{name: "payload not JSON", tok: rawToken(t, "ES256", "ec256", `{"alg":"ES256","kid":"ec256"}`, `not json`), want: FailClaimsNotObject},
		{name: "payload an array", tok: rawToken(t, "ES256", "ec256", `{"alg":"ES256","kid":"ec256"}`, `["iss"]`), want: FailClaimsNotObject},
		{name: "duplicate claim", tok: rawToken(t, "ES256", "ec256", `{"alg":"ES256","kid":"ec256"}`, `{"iss":"`+testIssuer+`","sub":"alice","sub":"admin","aud":"api","exp":1900000000}`), want: FailDuplicateKey},
		{name: "duplicate claim escaped", tok: rawToken(t, "ES256", "ec256", `{"alg":"ES256","kid":"ec256"}`, `{"iss":"`+testIssuer+`","sub":"alice","s\u0075b":"admin","aud":"api","exp":1900000000}`), want: FailDuplicateKey},
		{name: "duplicate nested claim", tok: rawToken(t, "ES256", "ec256", `{"alg":"ES256","kid":"ec256"}`, `{"iss":"`+testIssuer+`","sub":"a","aud":"api","exp":1900000000,"r":[{"x":1,"x":2}]}`), want: FailDuplicateKey},
		{name: "too deep", tok: rawToken(t, "ES256", "ec256", `{"alg":"ES256","kid":"ec256"}`, `{"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`), want: FailClaimsNotObject},
		{name: "typ required", tok: token(t, "ES256", claims()), mutate: func(o *Options) { o.Type = "at+jwt" }, want: FailType},
		{name: "typ missing", tok: token(t, "ES256", claims(), "typ", nil), mutate: func(o *Options) { o.Type = "at+jwt" }, want: FailType},
		{name: "iss wrong", tok: token(t, "ES256", claims("iss", "https://other.example")), want: FailIssuer},
		{name: "iss missing", tok: token(t, "ES256", claims("iss", nil)), want: FailIssuer},
		{name: "iss with a trailing slash", tok: token(t, "ES256", claims("iss", testIssuer+"/")), want: FailIssuer},
		{name: "iss a number", tok: token(t, "ES256", claims("iss", 1)), want: FailClaimType},
		{name: "aud wrong", tok: token(t, "ES256", claims("aud", "other")), want: FailAudience},
		{name: "aud missing", tok: token(t, "ES256", claims("aud", nil)), want: FailAudience},
		{name: "aud list without ours", tok: token(t, "ES256", claims("aud", []string{"a", "b"})), want: FailAudience},
		{name: "aud list with a number", tok: token(t, "ES256", claims("aud", []any{"api", 1})), want: FailClaimType},
		{name: "exp past the skew", tok: token(t, "ES256", claims("exp", testNow.Add(-61*time.Second).Unix())), want: FailExpired},
		{name: "exp missing", tok: token(t, "ES256", claims("exp", nil)), want: FailNoExpiry},
		{name: "exp a string", tok: token(t, "ES256", claims("exp", "1900000000")), want: FailClaimType},
		{name: "exp zero", tok: token(t, "ES256", claims("exp", 0)), want: FailExpired},
		{name: "exp negative", tok: token(t, "ES256", claims("exp", -1)), want: FailExpired},
		{name: "nbf in the future", tok: token(t, "ES256", claims("nbf", testNow.Add(2*time.Minute).Unix())), want: FailNotYetValid},
		{name: "iat in the future", tok: token(t, "ES256", claims("iat", testNow.Add(2*time.Minute).Unix())), want: FailIssuedInFuture},
		{name: "lifetime too long", tok: token(t, "ES256", claims("iat", testNow.Add(-2*time.Hour).Unix())), mutate: func(o *Options) { o.MaxLifetime = 2 * time.Hour }, want: FailLifetime},
		{name: "lifetime without iat", tok: token(t, "ES256", claims("iat", nil)), mutate: func(o *Options) { o.MaxLifetime = 2 * time.Hour }, want: FailLifetime},
		{name: "azp mismatch", tok: token(t, "ES256", claims("azp", "mobile")), mutate: func(o *Options) {
			o.Claims = []ClaimMatcher{{Path: mustPath(t, "azp"), Kind: MatchExact, Values: []string{"web"}}}
		}, want: FailClaim},
		{name: "scope not a string", tok: token(t, "ES256", claims("scope", []string{"a"})), want: FailClaimType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, tt.mutate)
			req := tt.req
			if req == nil {
				req = bearer(tt.tok)
			}
			wantFailure(t, p.Authenticate(req), tt.want, tt.tok)
		})
	}
}

// edKeySet returns Options' keys as the Ed25519 test key in a JWK set, with
// the JWK "alg" alg.
func edKeySet(t *testing.T, alg string) func(*Options) {
	return func(o *Options) {
		x := base64.RawURLEncoding.EncodeToString(publicKey(t, "ed25519", "", 0).Public.(ed25519.PublicKey))
		set, skipped, err := ParseJWKS(jwks(`{"kty":"OKP","crv":"Ed25519","kid":"ed25519","alg":"`+alg+`","x":"`+x+`"}`), DefaultMinRSABits)
		if err != nil || set.Len() != 1 {
			t.Fatalf("ParseJWKS: %v %v", err, skipped)
		}
		o.Keys = set
	}
}

// What must be accepted, next to the rejections above.
func TestAccepts(t *testing.T) {
	tests := []struct {
		name   string
		tok    string
		mutate func(*Options)
	}{
		{"exp within the skew", token(t, "ES256", claims("exp", testNow.Add(-59*time.Second).Unix())), nil},
		{"fractional exp", token(t, "ES256", claims("exp", float64(testNow.Unix())+0.5)), func(o *Options) { o.ClockSkew = 0 }},
		{"nbf within the skew", token(t, "ES256", claims("nbf", testNow.Add(59*time.Second).Unix())), nil},
		{"no exp when allowed", token(t, "ES256", claims("exp", nil)), func(o *Options) { o.AllowMissingExpiry = true }},
		{"aud list with ours", token(t, "ES256", claims("aud", []string{"other", "api"})), nil},
		{"no audience configured", token(t, "ES256", claims("aud", nil)), func(o *Options) { o.Audiences = nil }},
		{"second issuer", token(t, "ES256", claims("iss", "https://second.example")), func(o *Options) { o.Issuers = append(o.Issuers, "https://second.example") }},
		{"typ at+jwt", token(t, "ES256", claims(), "typ", "at+jwt"), func(o *Options) { o.Type = "at+jwt" }},
		{"typ application/AT+JWT", token(t, "ES256", claims(), "typ", "application/AT+JWT"), func(o *Options) { o.Type = "at+jwt" }},
		{"lifetime at the maximum", token(t, "ES256", claims("iat", testNow.Add(-time.Hour).Unix())), func(o *Options) { o.MaxLifetime = 2 * time.Hour }},
		{"no kid, one key of the type", token(t, "ES384", claims(), "kid", nil), nil},
		{"kid, and a key without kid", rawToken(t, "RS256", "rsa2048", `{"alg":"RS256","kid":"whatever"}`, mustJSON(t, claims())), func(o *Options) {
			o.Keys = NewKeySet(publicKey(t, "rsa2048", "", 0))
		}},
		{"several keys share a kid", rawToken(t, "ES256", "ec256b", `{"alg":"ES256","kid":"k"}`, mustJSON(t, claims())), func(o *Options) {
			o.Keys = NewKeySet(publicKey(t, "rsa2048", "k", 0), publicKey(t, "ec256", "k", 0), publicKey(t, "ec256b", "k", 0))
		}},
		{"jku and x5u are ignored", token(t, "ES256", claims(), "jku", "https://evil.example/jwks", "x5u", "https://evil.example/x5u"), nil},
		{"crit-free b64 true", token(t, "ES256", claims(), "b64", true), nil},
		{"ECDSA high s", ecdsaVariant(t, token(t, "ES256", claims()), func(r, s, n *big.Int) []byte {
			// (r, n-s) is as valid as (r, s): JWS does not require low s.
			// Both forms verify; the cache keys them apart.
			return rs32(r, new(big.Int).Sub(n, s))
		}), nil},
		{"azp one of", token(t, "ES256", claims("azp", "web")), func(o *Options) {
			o.Claims = []ClaimMatcher{{Path: mustPath(t, "azp"), Kind: MatchOneOf, Values: []string{"cli", "web"}}}
		}},
		{"RSA 1024 when allowed", rawToken(t, "RS256", "rsa1024", `{"alg":"RS256"}`, mustJSON(t, claims())), func(o *Options) {
			o.Keys, o.MinRSABits = NewKeySet(publicKey(t, "rsa1024", "", 1024)), 1024
		}},
		// RFC 9864: "Ed25519" and the deprecated "EdDSA" are one operation
		// here, whichever of them a JWK names.
		{"Ed25519 with a JWK alg Ed25519", token(t, "Ed25519", claims()), edKeySet(t, "Ed25519")},
		{"Ed25519 with a JWK alg EdDSA", token(t, "Ed25519", claims()), edKeySet(t, "EdDSA")},
		{"EdDSA with a JWK alg Ed25519", token(t, "EdDSA", claims()), edKeySet(t, "Ed25519")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, tt.mutate)
			if v := p.Authenticate(bearer(tt.tok)); v.Outcome != authn.Valid {
				t.Fatalf("Authenticate = %v %v; want Valid", v.Outcome, v.Err)
			}
		})
	}
}

// hostFunc is a SignatureVerifier for tests.
type hostFunc func(alg string, key *Key, input, sig []byte) (bool, bool)

func (f hostFunc) Verify(alg string, key *Key, input, sig []byte) (bool, bool) {
	return f(alg, key, input, sig)
}

func TestSignatureVerifier(t *testing.T) {
	valid := token(t, "ES256", claims())
	t.Run("host says invalid: no fallback", func(t *testing.T) {
		p := newProvider(t, nil)
		p.SetSignatureVerifier(hostFunc(func(string, *Key, []byte, []byte) (bool, bool) { return true, false }))
		wantFailure(t, p.Authenticate(bearer(valid)), FailSignature, "")
	})
	t.Run("host says valid", func(t *testing.T) {
		p := newProvider(t, nil)
		p.SetSignatureVerifier(hostFunc(func(string, *Key, []byte, []byte) (bool, bool) { return true, true }))
		// A host "valid" is trusted, but the format checks ran first.
		if v := p.Authenticate(bearer(flipLastSigByte(valid))); v.Outcome != authn.Valid {
			t.Fatalf("host-valid = %v", v.Err)
		}
		bad := ecdsaVariant(t, valid, func(r, s, n *big.Int) []byte { return rs32(r, n) })
		wantFailure(t, p.Authenticate(bearer(bad)), FailSignatureFormat, "")
	})
	t.Run("host does not handle: Wasm", func(t *testing.T) {
		p := newProvider(t, nil)
		calls := 0
		p.SetSignatureVerifier(hostFunc(func(string, *Key, []byte, []byte) (bool, bool) { calls++; return false, true }))
		if v := p.Authenticate(bearer(valid)); v.Outcome != authn.Valid || calls != 1 {
			t.Fatalf("fallback = %v, %d calls", v.Err, calls)
		}
		wantFailure(t, p.Authenticate(bearer(flipLastSigByte(valid))), FailSignature, "")
	})
	t.Run("never for HMAC", func(t *testing.T) {
		k, _ := NewSecretKey(testSecret)
		p := newProvider(t, func(o *Options) { o.Keys, o.Algorithms = NewKeySet(k), []string{"HS256"} })
		p.SetSignatureVerifier(hostFunc(func(string, *Key, []byte, []byte) (bool, bool) { t.Fatal("host called for HS256"); return true, false }))
		if v := p.Authenticate(bearer(token(t, "HS256", claims()))); v.Outcome != authn.Valid {
			t.Fatalf("HS256 = %v", v.Err)
		}
	})
	// A host that verifies the way Envoy's verify_signature does (DER
	// SubjectPublicKeyInfo, DER ECDSA signatures) accepts every asymmetric
	// algorithm through SPKI and ECDSASignatureToDER.
	t.Run("DER host", func(t *testing.T) {
		p := newProvider(t, nil)
		handled := 0
		p.SetSignatureVerifier(hostFunc(func(alg string, key *Key, input, sig []byte) (bool, bool) {
			pub, err := x509.ParsePKIXPublicKey(key.SPKI())
			if err != nil {
				t.Fatal(err)
			}
			a := algorithms[alg]
			if a.key != KeyRSA && a.key != KeyEC || strings.HasPrefix(a.name, "PS") {
				return false, false // like Envoy: PKCS #1 v1.5 and ECDSA only
			}
			h := a.hash.New()
			h.Write(input)
			handled++
			switch pub := pub.(type) {
			case *rsa.PublicKey:
				return true, rsa.VerifyPKCS1v15(pub, a.hash, h.Sum(nil), sig) == nil
			case *ecdsa.PublicKey:
				der, err := ECDSASignatureToDER(pub, sig)
				return true, err == nil && ecdsa.VerifyASN1(pub, h.Sum(nil), der)
			}
			return false, false
		}))
		for _, alg := range DefaultAlgorithms {
			tok := token(t, alg, claims())
			if v := p.Authenticate(bearer(tok)); v.Outcome != authn.Valid {
				t.Fatalf("%s: %v", alg, v.Err)
			}
			wantFailure(t, p.Authenticate(bearer(flipLastSigByte(tok))), FailSignature, "")
		}
		if handled != 2*6 {
			t.Fatalf("host handled %d; want 12 (RS*, ES*)", handled)
		}
	})
}

func TestECDSASignatureToDER(t *testing.T) {
	pub := &privateKey(t, "ec256").(*ecdsa.PrivateKey).PublicKey
	n := pub.Curve.Params().N
	one := big.NewInt(1)
	nm1 := new(big.Int).Sub(n, one)
	tests := []struct {
		name string
		raw  []byte
		ok   bool
	}{
		{"one, one", rs32(one, one), true},
		{"n-1, n-1", rs32(nm1, nm1), true},
		{"r zero", rs32(new(big.Int), one), false},
		{"s equals n", rs32(one, n), false},
		{"short", make([]byte, 63), false},
		{"long", make([]byte, 65), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := ECDSASignatureToDER(pub, tt.raw)
			if (err == nil) != tt.ok {
				t.Fatalf("ECDSASignatureToDER = %v; want ok %v", err, tt.ok)
			}
			if tt.ok {
				var v struct{ R, S *big.Int }
				if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) != 0 || v.R.Cmp(new(big.Int).SetBytes(tt.raw[:32])) != 0 {
					t.Fatalf("DER does not round-trip: %v", err)
				}
			}
		})
	}
}

// The keyed HMAC states verifyMAC reuses never carry one token's input
// into the next: good and forged tokens interleave, over the three HS*
// hashes sharing one secret, from several goroutines.
func TestVerifyMACReuse(t *testing.T) {
	sk, err := NewSecretKey(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		a          *algorithm
		input      string
		sig, wrong []byte
	}
	var cases []tc
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		for i := range 3 {
			input := seg(`{"alg":"`+alg+`"}`) + "." + seg(fmt.Sprintf(`{"n":%d}`, i))
			sig, err := gjwt.GetSigningMethod(alg).Sign(input, testSecret)
			if err != nil {
				t.Fatal(err)
			}
			wrong := append([]byte(nil), sig...)
			wrong[0] ^= 1
			cases = append(cases, tc{algorithms[alg], input, sig, wrong})
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 50 {
				c := cases[(g+r)%len(cases)]
				if f := verifySignature(c.a, sk, c.input, c.sig, nil); f != FailNone {
					t.Errorf("%s: good signature refused: %v", c.a.name, f)
				}
				if f := verifySignature(c.a, sk, c.input, c.wrong, nil); f != FailSignature {
					t.Errorf("%s: forged signature: %v", c.a.name, f)
				}
				if f := verifySignature(c.a, sk, c.input+"x", c.sig, nil); f != FailSignature {
					t.Errorf("%s: signature over another input: %v", c.a.name, f)
				}
			}
		}()
	}
	wg.Wait()
}

// jsonNumber reads integers itself and everything else with ParseFloat:
// both ways agree with ParseFloat.
func TestJSONNumberAgreesWithParseFloat(t *testing.T) {
	for _, s := range []string{"0", "7", "1300819380", "999999999999999", "1000000000000000", "9007199254740993",
		"-1", "-1300819380", "1.5", "1e9", "1300819380.25", "0.000001", "253402300799", "1E3", "12345678901234567890"} {
		got, ok := jsonNumber([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil || got != want {
			t.Errorf("jsonNumber(%q) = %v, %v; ParseFloat says %v, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"", "x", "\"1\"", "+1", "true"} {
		if _, ok := jsonNumber([]byte(s)); ok {
			t.Errorf("jsonNumber(%q) accepted a non-number", s)
		}
	}
}
