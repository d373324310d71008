package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

func TestSources(t *testing.T) {
	tok := token(t, "ES256", claims())
	sources := []Source{{Header: "authorization"}, {Header: "x-token", Prefix: "Token "}, {Header: "x-raw"}, {Query: "access_token"}, {Cookie: "tok"}}
	req := func(path string, hs ...string) *authn.Request {
		r := &authn.Request{Path: path, Now: testNow}
		for i := 0; i+1 < len(hs); i += 2 {
			r.Headers = append(r.Headers, authn.Header{Key: hs[i], Value: hs[i+1]})
		}
		return r
	}
	tests := []struct {
		name    string
		req     *authn.Request
		outcome authn.Outcome
		strip   authn.Edit
	}{
		{"bearer", req("/", "authorization", "Bearer "+tok), authn.Valid, authn.Edit{RemoveHeaders: []string{"authorization"}}},
		{"bearer case-insensitive", req("/", "authorization", "bEaReR   "+tok), authn.Valid, authn.Edit{RemoveHeaders: []string{"authorization"}}},
		{"prefixed header", req("/", "x-token", "token "+tok), authn.Valid, authn.Edit{RemoveHeaders: []string{"x-token"}}},
		{"raw header", req("/", "x-raw", tok), authn.Valid, authn.Edit{RemoveHeaders: []string{"x-raw"}}},
		{"query", req("/a?x=1&access_token=" + tok), authn.Valid, authn.Edit{RemoveQuery: []string{"access_token"}}},
		{"cookie", req("/", "cookie", "a=1; tok="+tok+"; b=2"), authn.Valid, authn.Edit{RemoveCookies: []string{"tok"}}},
		{"quoted cookie", req("/", "cookie", `tok="`+tok+`"`), authn.Valid, authn.Edit{RemoveCookies: []string{"tok"}}},
		{"none", req("/"), authn.Absent, authn.Edit{}},
		{"DPoP is not a bearer token", req("/", "authorization", "DPoP "+tok), authn.Absent, authn.Edit{}},
		{"Basic is not ours", req("/", "authorization", "Basic dTpw"), authn.Absent, authn.Edit{}},
		{"Bearerx is not ours", req("/", "authorization", "Bearerx "+tok), authn.Absent, authn.Edit{}},
		{"prefix mismatch is not ours", req("/", "x-token", "Bearer "+tok), authn.Absent, authn.Edit{}},
		{"other cookie", req("/", "cookie", "toke="+tok), authn.Absent, authn.Edit{}},
		{"cookie in two headers", req("/", "cookie", "tok="+tok, "cookie", "tok="+tok), authn.Invalid, authn.Edit{}},
		{"header and cookie", req("/", "authorization", "Bearer "+tok, "cookie", "tok="+tok), authn.Invalid, authn.Edit{}},
	}
	p := newProvider(t, func(o *Options) { o.Sources = sources })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Authenticate(tt.req)
			if v.Outcome != tt.outcome {
				t.Fatalf("Authenticate = %v (%v); want %v", v.Outcome, v.Err, tt.outcome)
			}
			if tt.outcome == authn.Invalid {
				wantFailure(t, v, FailMultipleTokens, tok)
			}
			if tt.outcome == authn.Valid && !editEqual(v.Strip, tt.strip) {
				t.Fatalf("strip = %+v; want %+v", v.Strip, tt.strip)
			}
		})
	}
	keep := newProvider(t, func(o *Options) { o.Sources, o.KeepToken = sources, true })
	if v := keep.Authenticate(req("/", "authorization", "Bearer "+tok)); v.Outcome != authn.Valid || !editEqual(v.Strip, authn.Edit{}) {
		t.Fatalf("keep: strip = %+v", v.Strip)
	}
}

func editEqual(a, b authn.Edit) bool {
	return slices.Equal(a.RemoveHeaders, b.RemoveHeaders) && slices.Equal(a.RemoveQuery, b.RemoveQuery) && slices.Equal(a.RemoveCookies, b.RemoveCookies)
}

func TestRemoveCookies(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a=1; tok=x; b=2", "a=1; b=2"},
		{"tok=x", ""},
		{"tok=x;tok=y; c=3", "c=3"},
		{"a=1;  b=2", "a=1; b=2"},
		{"toke=1; tok=2", "toke=1"},
	}
	for _, tt := range tests {
		if got := RemoveCookies(tt.in, []string{"tok"}); got != tt.want {
			t.Errorf("RemoveCookies(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestIdentityHeaders(t *testing.T) {
	c := claims(
		"realm_access", map[string]any{"roles": []any{"admin", "user"}},
		"groups", []any{"a", 1, true, map[string]any{"k": "v"}},
		"email", "alice@example.com\r\nx-admin: yes",
		"https://example.com/tenant", "t1",
		"big", strings.Repeat("x", 200),
		"obj", map[string]any{"a": []int{1, 2}},
		"n", 3.5,
		"nul", nil,
	)
	c["nul"] = nil
	tok := token(t, "ES256", c)
	p := newProvider(t, func(o *Options) {
		for _, h := range [][2]string{{"realm_access.roles", "x-roles"}, {"groups", "x-groups"}, {"email", "x-email"},
			{`https://example\.com/tenant`, "x-tenant"}, {"big", "x-big"}, {"obj", "x-obj"}, {"n", "x-n"}, {"missing", "x-missing"},
			{"realm_access.roles.1", "x-role1"}} {
			o.ClaimHeaders = append(o.ClaimHeaders, ClaimHeader{Path: mustPath(t, h[0]), Header: h[1]})
		}
		o.MaxClaimHeaderBytes = 100
		o.PayloadHeader = "x-payload"
	})
	v := p.Authenticate(bearer(tok))
	if v.Outcome != authn.Valid {
		t.Fatal(v.Err)
	}
	got := map[string]string{}
	for _, h := range v.Identity.Headers {
		got[h.Key] = h.Value
	}
	want := map[string]string{
		"x-roles": "admin,user", "x-groups": `a,1,true,{"k":"v"}`, "x-email": "alice@example.com  x-admin: yes",
		"x-tenant": "t1", "x-obj": `{"a":[1,2]}`, "x-n": "3.5", "x-role1": "user",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q; want %q", k, got[k], w)
		}
	}
	for _, k := range []string{"x-big", "x-missing"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s sent; want omitted (over the cap, or missing)", k)
		}
	}
	payload, err := base64.RawURLEncoding.DecodeString(got["x-payload"])
	if err != nil || string(payload) != string(v.Identity.Claims.(*Claims).Raw()) {
		t.Errorf("x-payload = %q, %v", got["x-payload"], err)
	}
}

func TestCache(t *testing.T) {
	p := newProvider(t, func(o *Options) { o.CacheEntries, o.CacheTTL = 2, time.Minute })
	tok := token(t, "ES256", claims("exp", testNow.Add(30*time.Second).Unix()))
	v := p.Authenticate(bearer(tok))
	if v.Outcome != authn.Valid || !v.CacheMiss || v.CacheHit {
		t.Fatalf("first: %v hit %v miss %v", v.Outcome, v.CacheHit, v.CacheMiss)
	}
	v.Identity.Headers = append(v.Identity.Headers, authn.Header{Key: "x-evil"}) // must not reach the cache
	v = p.Authenticate(bearer(tok))
	if v.Outcome != authn.Valid || !v.CacheHit || len(v.Identity.Headers) != 0 || v.Identity.Principal != testIssuer+"/alice" {
		t.Fatalf("second: %v hit %v headers %v", v.Outcome, v.CacheHit, v.Identity.Headers)
	}
	if !editEqual(v.Strip, authn.Edit{RemoveHeaders: []string{"authorization"}}) {
		t.Fatalf("cached strip = %+v", v.Strip)
	}
	// Never past exp (+ skew), although the TTL is a minute.
	r := bearer(tok)
	r.Now = testNow.Add(30*time.Second + DefaultClockSkew)
	wantFailure(t, p.Authenticate(r), FailExpired, tok)
	// Failures are not cached.
	bad := flipLastSigByte(token(t, "ES256", claims()))
	for range 2 {
		v := p.Authenticate(bearer(bad))
		if !v.CacheMiss || v.CacheHit {
			t.Fatalf("bad token: hit %v miss %v", v.CacheHit, v.CacheMiss)
		}
	}
	// The TTL bounds an entry.
	long := token(t, "ES256", claims())
	p.Authenticate(bearer(long))
	r = bearer(long)
	r.Now = testNow.Add(time.Minute)
	if v := p.Authenticate(r); !v.CacheMiss {
		t.Fatal("hit after the TTL")
	}
	// Bounded: the oldest entry goes.
	for i := range 3 {
		p.Authenticate(bearer(token(t, "ES256", claims("jti", i))))
	}
	if n := p.CacheLen(); n > 2 {
		t.Fatalf("cache holds %d entries; max 2", n)
	}
}

// A cached verification is not used once its key left the key set.
func TestCacheKeyRemoval(t *testing.T) {
	p := newProvider(t, func(o *Options) { o.Keys, o.Remote, o.CacheEntries = nil, testSpec(), 10 })
	ks := p.KeyStore()
	ks.Begin(testNow)
	_ = ks.Update(jwks(jwkOf(t, "ec256", "a"), jwkOf(t, "ec256b", "b")), testNow)
	tok := token(t, "ES256", claims(), "kid", "a")
	if v := p.Authenticate(bearer(tok)); !v.CacheMiss {
		t.Fatal("first verification not a miss")
	}
	if v := p.Authenticate(bearer(tok)); !v.CacheHit {
		t.Fatal("second verification not a hit")
	}
	// The same key under another kid still verified it: still a hit.
	_ = ks.Update(jwks(jwkOf(t, "ec256", "renamed"), jwkOf(t, "ec256b", "b")), testNow)
	if v := p.Authenticate(bearer(tok)); !v.CacheHit {
		t.Fatal("same key material, new kid: not a hit")
	}
	_ = ks.Update(jwks(jwkOf(t, "ec256b", "b")), testNow)
	v := p.Authenticate(bearer(tok))
	if v.CacheHit || v.Outcome == authn.Valid {
		t.Fatalf("after key removal: %v hit %v; want a full, failing verification", v.Outcome, v.CacheHit)
	}
}

func TestConstraints(t *testing.T) {
	p := newProvider(t, nil)
	id := func(c map[string]any) *authn.Identity {
		v := p.Authenticate(bearer(token(t, "ES256", c)))
		if v.Outcome != authn.Valid {
			t.Fatal(v.Err)
		}
		return &v.Identity
	}
	req := &authn.Request{Now: testNow}
	tests := []struct {
		name      string
		req       Requirement
		claims    map[string]any
		want      Failure
		challenge string
	}{
		{"scopes granted", Requirement{Scopes: []string{"read", "write"}}, claims("scope", "write read other"), FailNone, ""},
		{"scp array", Requirement{Scopes: []string{"read"}}, claims("scp", []string{"read"}), FailNone, ""},
		{"scp string", Requirement{Scopes: []string{"read"}}, claims("scp", "x read"), FailNone, ""},
		{"scope missing", Requirement{Scopes: []string{"read", "admin"}}, claims("scope", "read"), FailInsufficientScope,
			`Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="read admin"`},
		{"no scope claim", Requirement{Scopes: []string{"read"}}, claims(), FailInsufficientScope, ""},
		{"claim matches", Requirement{Claims: []ClaimMatcher{{Path: mustPath(t, "groups"), Kind: MatchContains, Values: []string{"admins"}}}}, claims("groups", []string{"users", "admins"}), FailNone, ""},
		{"claim mismatch", Requirement{Claims: []ClaimMatcher{{Path: mustPath(t, "groups"), Kind: MatchContains, Values: []string{"admins"}}}}, claims("groups", []string{"users"}), FailRuleClaim, ""},
		{"claim prefix", Requirement{Claims: []ClaimMatcher{{Path: mustPath(t, "email"), Kind: MatchPrefix, Values: []string{"ops-"}}}}, claims("email", "dev-a@x"), FailRuleClaim, ""},
		{"acr ok", Requirement{ACRValues: []string{"mfa", "hwk"}}, claims("acr", "hwk"), FailNone, ""},
		{"acr insufficient", Requirement{ACRValues: []string{"mfa"}}, claims("acr", "pwd"), FailStepUp,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="mfa"`},
		{"max_age ok", Requirement{MaxAge: 5 * time.Minute}, claims("auth_time", testNow.Add(-4*time.Minute).Unix()), FailNone, ""},
		{"max_age exceeded", Requirement{MaxAge: 5 * time.Minute}, claims("auth_time", testNow.Add(-7*time.Minute).Unix()), FailStepUp,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", max_age="300"`},
		{"max_age without auth_time", Requirement{MaxAge: 5 * time.Minute, ACRValues: []string{"mfa"}}, claims("acr", "mfa"), FailStepUp,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="mfa", max_age="300"`},
		{"resource in aud", Requirement{Resource: "https://api.example/v1"}, claims("aud", []string{"api", "https://api.example/v1"}), FailNone, ""},
		{"resource not in aud", Requirement{Resource: "https://api.example/v1"}, claims(), FailResource,
			`Bearer realm="api", error="invalid_token", error_description="the token is not intended for this resource"`},
		{"resource checked before scope", Requirement{Resource: "urn:x", Scopes: []string{"a"}}, claims(), FailResource, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := id(tt.claims)
			var err *authn.Error
			for _, c := range p.Constraints(tt.req) {
				if err = c.Check(i, req); err != nil {
					break
				}
			}
			if got := FailureOf(err); got != tt.want {
				t.Fatalf("constraints = %v (%v); want %v", got, err, tt.want)
			}
			if err != nil && (err.HTTPStatus() != tt.want.Status() || err.Code != tt.want.Code() || err.Reason != tt.want.Reason()) {
				t.Fatalf("error = %d %q %v", err.HTTPStatus(), err.Code, err.Reason)
			}
			if tt.challenge != "" && err.Challenge != tt.challenge {
				t.Fatalf("challenge = %s\nwant        %s", err.Challenge, tt.challenge)
			}
		})
	}
	// An identity from another provider fails closed.
	for _, c := range p.Constraints(Requirement{Scopes: []string{"a"}, Resource: "urn:x", ACRValues: []string{"x"}, Claims: []ClaimMatcher{{Path: mustPath(t, "a"), Kind: MatchExact, Values: []string{"b"}}}}) {
		if c.Check(&authn.Identity{Principal: "alice"}, req) == nil {
			t.Fatalf("%T accepts an identity without claims", c)
		}
	}
}

func TestChallenges(t *testing.T) {
	p := newProvider(t, func(o *Options) { o.Realm = `a"b\c` + "\r\n" })
	if got, want := p.Challenge(), `Bearer realm="a\"b\\c"`; got != want {
		t.Fatalf("Challenge = %s; want %s", got, want)
	}
	v := p.Authenticate(bearer(token(t, "ES256", claims("exp", 1))))
	if want := `Bearer realm="a\"b\\c", error="invalid_token", error_description="the token has expired"`; v.Err.Challenge != want {
		t.Fatalf("challenge = %s; want %s", v.Err.Challenge, want)
	}
	v = p.Authenticate(bearer("a", "authorization", "Bearer b"))
	if want := `Bearer realm="a\"b\\c", error="invalid_request", error_description="the request carries more than one bearer token"`; v.Err.Challenge != want || v.Err.HTTPStatus() != 400 {
		t.Fatalf("challenge = %s; want %s", v.Err.Challenge, want)
	}
}

func TestFailureTable(t *testing.T) {
	seen := map[string]bool{}
	for f := Failure(1); f < failCount; f++ {
		in := f.info()
		if in.name == "" || in.desc == "" || seen[in.name] || seen[in.desc] {
			t.Errorf("failure %d: name %q desc %q missing or repeated", f, in.name, in.desc)
		}
		seen[in.name], seen[in.desc] = true, true
		if FailureOf(deny(f, "r")) != f {
			t.Errorf("FailureOf(deny(%v)) = %v", f, FailureOf(deny(f, "r")))
		}
		if in.status != in.reason.Status() && in.code == "" {
			t.Errorf("%v: status %d differs from its reason's without an error code", f, in.status)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	ec := jwkOf(t, "ec256", "a")
	rsaN := base64.RawURLEncoding.EncodeToString(privateKey(t, "rsa2048").(*rsa.PrivateKey).N.Bytes())
	with := func(extra string) string { return strings.TrimSuffix(ec, "}") + "," + extra + "}" }
	tests := []struct {
		name    string
		body    string
		keys    int
		skipped string
		other   bool // SkippedKey.Other: a key for something else, not a bad signing key
	}{
		{"one", string(jwks(ec)), 1, "", false},
		{"use enc", string(jwks(with(`"use":"enc"`))), 0, "use", true},
		{"key_ops sign only", string(jwks(with(`"key_ops":["sign"]`))), 0, "key_ops", true},
		{"key_ops verify", string(jwks(with(`"key_ops":["verify"]`))), 1, "", false},
		{"alg mismatch", string(jwks(with(`"alg":"RS256"`))), 0, "does not match", false},
		{"alg ES384 on P-256", string(jwks(with(`"alg":"ES384"`))), 0, "does not match", false},
		{"alg none", string(jwks(with(`"alg":"none"`))), 0, "unsupported key algorithm", true},
		{"alg ECDH-ES", string(jwks(with(`"alg":"ECDH-ES"`))), 0, "unsupported key algorithm", true},
		{"kid not a string", string(jwks(strings.Replace(ec, `"kid":"a"`, `"kid":1`, 1))), 0, "not a string", false},
		{"unknown kty kept apart", string(jwks(ec, `{"kty":"XYZ"}`)), 1, "unsupported kty", true},
		{"Ed448", string(jwks(`{"kty":"OKP","crv":"Ed448","x":"AAAA"}`)), 0, "unsupported OKP curve", true},
		{"secp256k1", string(jwks(`{"kty":"EC","crv":"secp256k1","x":"AAAA","y":"AAAA"}`)), 0, "unsupported curve", true},
		{"RSA e even", string(jwks(`{"kty":"RSA","n":"` + rsaN + `","e":"AAI"}`)), 0, "exponent", false},
		{"RSA 1024", string(jwks(`{"kty":"RSA","n":"` + base64.RawURLEncoding.EncodeToString(privateKey(t, "rsa1024").(*rsa.PrivateKey).N.Bytes()) + `","e":"AQAB"}`)), 0, "under the minimum", false},
		{"RSA", string(jwks(`{"kty":"RSA","n":"` + rsaN + `","e":"AQAB","alg":"PS256","use":"sig"}`)), 1, "", false},
		{"private RSA", string(jwks(`{"kty":"RSA","n":"` + rsaN + `","e":"AQAB","d":"AQAB"}`)), 0, "private", false},
		{"short x and y, not a point", string(jwks(`{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`)), 0, "not on the curve", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, skipped, err := ParseJWKS([]byte(tt.body), DefaultMinRSABits)
			if err != nil {
				t.Fatal(err)
			}
			if set.Len() != tt.keys || (tt.skipped == "") != (len(skipped) == 0) || tt.skipped != "" && !strings.Contains(skipped[0], tt.skipped) {
				t.Fatalf("ParseJWKS = %d keys, skipped %q; want %d, %q", set.Len(), skipped, tt.keys, tt.skipped)
			}
			if _, sk, _ := ParseKeySet([]byte(tt.body), DefaultMinRSABits); len(sk) > 0 && sk[0].Other != tt.other {
				t.Fatalf("ParseKeySet: %v, Other = %v; want %v", sk[0], sk[0].Other, tt.other)
			}
		})
	}
	if _, _, err := ParseJWKS([]byte(`{"keys":[`+strings.Repeat(ec+",", MaxKeys)+ec+`]}`), 2048); err == nil {
		t.Error("more than MaxKeys keys accepted")
	}
}

// An EC coordinate of another length than its curve's size (RFC 7518
// §6.2.1.2 wants the size; some identity providers publish shorter ones, or
// longer ones with leading zero bytes) is read in a key set as the number
// it encodes: the same key. A proof key (DPoP, ParseJWK) is held to the
// size, and a longer coordinate whose extra bytes are not zero is refused.
func TestParseJWKSECCoordinateLength(t *testing.T) {
	var k *ecdsa.PrivateKey
	for k == nil || k.X.BitLen() > 248 {
		k, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	x, y := k.X.FillBytes(make([]byte, 32)), k.Y.FillBytes(make([]byte, 32))
	jwk := func(x, y []byte) string {
		return fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":%q,"y":%q}`, base64.RawURLEncoding.EncodeToString(x), base64.RawURLEncoding.EncodeToString(y))
	}
	canonical, _, err := ParseJWKS(jwks(jwk(x, y)), DefaultMinRSABits)
	if err != nil || canonical.Len() != 1 {
		t.Fatal(err)
	}
	zeros := func(n int, b []byte) []byte { return append(make([]byte, n), b...) }
	for _, tt := range []struct {
		name string
		x, y []byte
		ok   bool
	}{
		{"x without its leading zero byte", x[1:], y, true},
		{"y with a leading zero byte more", x, zeros(1, y), true},
		{"both with two more", zeros(2, x), zeros(2, y), true},
		{"x with a non-zero byte more", append([]byte{1}, x...), y, false},
		{"x empty", nil, y, false},
	} {
		set, skipped, err := ParseJWKS(jwks(jwk(tt.x, tt.y)), DefaultMinRSABits)
		switch {
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.ok && (set.Len() != 1 || set.Keys()[0].Fingerprint() != canonical.Keys()[0].Fingerprint()):
			t.Errorf("%s: %d keys, skipped %q; want the canonical key", tt.name, set.Len(), skipped)
		case !tt.ok && (set.Len() != 0 || len(skipped) != 1 || !strings.Contains(skipped[0], "curve's size")):
			t.Errorf("%s: %d keys, skipped %q; want it refused for its size", tt.name, set.Len(), skipped)
		}
	}
	if _, err := ParseJWK(gjson.Parse(jwk(x[1:], y)), DefaultMinRSABits); err == nil {
		t.Error("ParseJWK accepted a coordinate shorter than the curve's size")
	}
	if _, err := ParseJWK(gjson.Parse(jwk(x, y)), DefaultMinRSABits); err != nil {
		t.Errorf("ParseJWK: %v", err)
	}
}

func TestParseClaimPath(t *testing.T) {
	good := map[string]string{"sub": "sub", "a.b": "a.b", `a\.b`: `a\.b`, "x.0": "x.0", "@this": `\@this`, "a#": `a\#`, "*": `\*`}
	for in, want := range good {
		p, err := ParseClaimPath(in)
		if err != nil || p.gjson != want || p.String() != in {
			t.Errorf("ParseClaimPath(%q) = %q, %v; want %q", in, p.gjson, err, want)
		}
	}
	for _, bad := range []string{"", ".", "a.", ".a", `a\`, `a\b`, "a\nb"} {
		if _, err := ParseClaimPath(bad); err == nil {
			t.Errorf("ParseClaimPath(%q) = nil error", bad)
		}
	}
}

func TestNewRejects(t *testing.T) {
	secret, _ := NewSecretKey(testSecret)
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"no issuer", func(o *Options) { o.Issuers = nil }, "issuer"},
		{"no keys", func(o *Options) { o.Keys = nil }, "exactly one"},
		{"keys and remote", func(o *Options) { o.Remote = testSpec() }, "exactly one"},
		{"HS256 without a secret", func(o *Options) { o.Algorithms = []string{"HS256"} }, "secret"},
		{"RS256 with a secret", func(o *Options) { o.Keys, o.Algorithms = NewKeySet(secret), []string{"RS256"} }, "cannot be used"},
		{"secret and public keys", func(o *Options) { o.Keys = NewKeySet(append(testKeys(t).Keys(), secret)...) }, "combined"},
		{"none", func(o *Options) { o.Algorithms = []string{"none"} }, "unsupported"},
		{"empty list", func(o *Options) { o.Algorithms = []string{} }, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(t)
			tt.mutate(&o)
			if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v; want an error with %q", err, tt.want)
			}
		})
	}
	if _, err := NewSecretKey(testSecret[:31]); err == nil {
		t.Error("31-byte secret accepted")
	}
	k, _ := NewSecretKey(testSecret[:32])
	if _, err := New(Options{Issuers: []string{"i"}, Keys: NewKeySet(k), Algorithms: []string{"HS384"}}); err == nil {
		t.Error("HS384 with a 32-byte secret accepted")
	}
}

// Google's other key set format, a map of kid to PEM X.509 certificate,
// is read as the certificates' keys under those kids; tokens naming them
// verify. Certificates made here by crypto/x509 for the test keys.
func TestParseJWKSCertificateMap(t *testing.T) {
	certPEM := func(name string) string { return certificatePEM(t, name) }
	doc, _ := json.Marshal(map[string]string{"rsa2048": certPEM("rsa2048"), "ec256": certPEM("ec256")})
	set, skipped, err := ParseJWKS(doc, DefaultMinRSABits)
	if err != nil || len(skipped) != 0 || set.Len() != 2 {
		t.Fatalf("ParseJWKS = %v keys, %q, %v; want 2 keys", set.Len(), skipped, err)
	}
	for _, k := range set.Keys() {
		if eq, ok := k.Public.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(privateKey(t, k.ID).Public()) {
			t.Errorf("key %q is not the certificate's", k.ID)
		}
	}
	p := newProvider(t, func(o *Options) { o.Keys = set })
	for _, alg := range []string{"RS256", "ES256"} {
		if v := p.Authenticate(bearer(token(t, alg, claims()))); v.Outcome != authn.Valid {
			t.Errorf("%s token: %v", alg, v.Err)
		}
	}
	// A certificate that gives no usable key is skipped; a document with
	// anything but certificates is no key set.
	small, _ := json.Marshal(map[string]string{"ec256": certPEM("ec256"), "rsa1024": certPEM("rsa1024")})
	if set, sk, err := ParseKeySet(small, DefaultMinRSABits); err != nil || set.Len() != 1 || len(sk) != 1 || sk[0].Other || !strings.Contains(sk[0].Reason, "rsa1024") {
		t.Errorf("a 1024-bit certificate: %v keys, %v, %v", set.Len(), sk, err)
	}
	for _, bad := range []string{`{"ec256":` + strconv.Quote(certPEM("ec256")) + `,"x":"y"}`, `{}`, `{"a":1}`} {
		if _, _, err := ParseJWKS([]byte(bad), DefaultMinRSABits); err == nil {
			t.Errorf("ParseJWKS(%.40s…) accepted", bad)
		}
	}
}
