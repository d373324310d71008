package plugintest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// countingVerifier wraps the host's verify_signature, counting calls.
func countingVerifier(n *atomic.Int64) map[string]host.ForeignFunc {
	return map[string]host.ForeignFunc{"verify_signature": func(args []byte) ([]byte, host.Status) {
		n.Add(1)
		return host.VerifySignature(args)
	}}
}

// jwtHosts starts cfg on the three hosts a token corpus goes through:
// Envoy's emulator with verify_signature (its calls counted in calls) and
// without it (every signature checked in Wasm), and the Go SDK's emulator,
// which the caller closes (one SDK host at a time).
func jwtHosts(t *testing.T, cfg []byte, calls *atomic.Int64) (map[string]func(Request) Result, *SDKHost) {
	t.Helper()
	withHost, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true, ForeignFunctions: countingVerifier(calls)})
	if err != nil {
		t.Fatal(err)
	}
	inWasm, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := NewSDKHost(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]func(Request) Result{"verify_signature": withHost.Do, "wasm": inWasm.Do, "sdk": sdk.Do}, sdk
}

// Tokens signed by golang-jwt for every algorithm verify through the real
// module, with and without Envoy's verify_signature, and the two paths
// agree; the host is used for RS* and ES* only.
func TestJWTEveryAlgorithm(t *testing.T) {
	var calls atomic.Int64
	withHost, err := NewEnvoyHost(t, host.Config{PluginConfig: staticJWTConfig(t), SkipCanary: true, ForeignFunctions: countingVerifier(&calls)})
	if err != nil {
		t.Fatal(err)
	}
	inWasm, err := NewEnvoyHost(t, host.Config{PluginConfig: staticJWTConfig(t), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			claims := map[string]any{"groups": []string{"a", "b"}, "org": map[string]any{"name": "Acme"}}
			issuer := testIssuer
			if strings.HasPrefix(alg, "HS") {
				issuer = "https://hs.test"
				claims["iss"] = issuer
			}
			tok := token(t, alg, claims, nil)
			hdr := bearer(tok)
			path := "/things"
			if strings.HasPrefix(alg, "HS") {
				hdr, path = [2]string{"x-hs-token", tok}, "/hs/x"
			}
			before := calls.Load()
			for name, e := range map[string]*EnvoyHost{"host": withHost, "wasm": inWasm} {
				r := e.Do(Get("api.test", path, hdr))
				if !r.Allowed() {
					t.Fatalf("%s: status %d %s", name, r.Status(), r.Local.Body)
				}
				if got := Header(r.Upstream, "x-authn-principal"); len(got) != 1 || got[0] != issuer+"/user-1" {
					t.Errorf("%s: principal %q", name, got)
				}
				if strings.HasPrefix(alg, "HS") {
					continue
				}
				if got := Header(r.Upstream, "x-jwt-groups"); len(got) != 1 || got[0] != "a,b" {
					t.Errorf("%s: x-jwt-groups %q", name, got)
				}
				if got := Header(r.Upstream, "x-jwt-org"); len(got) != 1 || got[0] != "Acme" {
					t.Errorf("%s: x-jwt-org %q", name, got)
				}
				if len(Header(r.Upstream, "authorization")) != 0 {
					t.Errorf("%s: the token went upstream", name)
				}
			}
			wantHost := strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "ES")
			if used := calls.Load() > before; used != wantHost {
				t.Errorf("verify_signature used = %v; want %v", used, wantHost)
			}
			// A tampered signature is rejected on both paths.
			bad := tok[:len(tok)-4] + flip(tok[len(tok)-4:])
			if strings.HasPrefix(alg, "HS") {
				hdr = [2]string{"x-hs-token", bad}
			} else {
				hdr = bearer(bad)
			}
			for name, e := range map[string]*EnvoyHost{"host": withHost, "wasm": inWasm} {
				if r := e.Do(Get("api.test", path, hdr)); r.Status() != 401 {
					t.Errorf("%s: tampered token: status %d; want 401", name, r.Status())
				}
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// Every rejection through the real module, with the exact status, RFC 6750
// error code and challenge, and never the token in the reply or logs.
func TestJWTRejections(t *testing.T) {
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: staticJWTConfig(t), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rsaPubSecret := func() string {
		// The alg-confusion attack: HS256 "signed" with the RSA public key.
		k := genKeys(t)["RS256"].jwk("rsa")
		return rawToken(t, "HS256", `{"alg":"HS256","kid":"rsa","typ":"JWT"}`, `{"iss":"`+testIssuer+`","aud":"`+testAudience+`","exp":`+itoa(now.Add(time.Hour).Unix())+`,"n":"`+k["n"].(string)+`"}`)
	}
	valid := token(t, "ES256", nil, nil)
	parts := strings.Split(valid, ".")
	tests := []struct {
		name, tok string
		hdrs      [][2]string
		status    int
		code      string
	}{
		{"missing", "", nil, 401, ""},
		{"alg none", parts[0][:0] + b64u([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", nil, 401, "invalid_token"},
		{"HS256 with the RSA public key (alg confusion)", rsaPubSecret(), nil, 401, "invalid_token"},
		{"expired", token(t, "ES256", map[string]any{"exp": now.Add(-time.Hour).Unix()}, nil), nil, 401, "invalid_token"},
		{"not yet valid", token(t, "ES256", map[string]any{"nbf": now.Add(time.Hour).Unix()}, nil), nil, 401, "invalid_token"},
		{"issued in the future", token(t, "ES256", map[string]any{"iat": now.Add(time.Hour).Unix()}, nil), nil, 401, "invalid_token"},
		{"wrong issuer", token(t, "ES256", map[string]any{"iss": "https://evil.test"}, nil), nil, 401, "invalid_token"},
		{"wrong audience", token(t, "ES256", map[string]any{"aud": "https://other.test"}, nil), nil, 401, "invalid_token"},
		{"no exp", token(t, "ES256", map[string]any{"exp": nil}, nil), nil, 401, "invalid_token"},
		{"unknown kid", token(t, "ES256", nil, map[string]any{"kid": "nope"}), nil, 401, "invalid_token"},
		{"crit header", token(t, "ES256", nil, map[string]any{"crit": []string{"exp"}}), nil, 401, "invalid_token"},
		{"b64 false", token(t, "ES256", nil, map[string]any{"b64": false, "crit": []string{"b64"}}), nil, 401, "invalid_token"},
		{"duplicate claim", rawToken(t, "ES256", `{"alg":"ES256","kid":"p256"}`, `{"iss":"`+testIssuer+`","aud":"`+testAudience+`","exp":`+itoa(now.Add(time.Hour).Unix())+`,"sub":"a","sub":"admin"}`), nil, 401, "invalid_token"},
		{"JWE", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", nil, 401, "invalid_token"},
		{"garbage", "not.a.jwt", nil, 401, "invalid_token"},
		{"token too large", token(t, "ES256", map[string]any{"pad": strings.Repeat("x", 9000)}, nil), nil, 400, "invalid_request"},
		{"two tokens", valid, [][2]string{{"authorization", "Bearer " + valid}}, 400, "bad_request"},
		{"jku in header is ignored", token(t, "ES256", nil, map[string]any{"jku": "https://evil.test/jwks", "kid": "evil"}), nil, 401, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Get("api.test", "/things", tt.hdrs...)
			if tt.tok != "" {
				req.Headers = append(req.Headers, bearer(tt.tok))
			}
			r := e.Do(req)
			if r.Status() != tt.status {
				body := ""
				if r.Local != nil {
					body = string(r.Local.Body)
				}
				t.Fatalf("status %d %s; want %d", r.Status(), body, tt.status)
			}
			var body struct{ Error, ErrorDescription string }
			json.Unmarshal(r.Local.Body, &body)
			if tt.code != "" && body.Error != tt.code {
				t.Errorf("error %q; want %q", body.Error, tt.code)
			}
			ch := challengeOf(r)
			if tt.status == 401 {
				if !strings.HasPrefix(ch, `Bearer realm="api"`) {
					t.Errorf("challenge %q", ch)
				}
				if tt.code == "" && strings.Contains(ch, "error=") {
					t.Errorf("a missing token's challenge has an error code: %q", ch)
				}
				if tt.code != "" && !strings.Contains(ch, `error="`+tt.code+`"`) {
					t.Errorf("challenge %q lacks error=%q", ch, tt.code)
				}
			}
			if tt.tok != "" && (strings.Contains(string(r.Local.Body), tt.tok) || strings.Contains(ch, tt.tok)) {
				t.Errorf("the reply echoes the token")
			}
		})
	}
	for _, l := range e.Logs() {
		if strings.Contains(l, valid) {
			t.Fatalf("a log line holds a token: %q", l)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Per-rule constraints: scopes (403 insufficient_scope), step-up (401
// insufficient_user_authentication), resource indicators.
func TestJWTConstraints(t *testing.T) {
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: staticJWTConfig(t), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		name, path string
		claims     map[string]any
		status     int
		challenge  []string
	}{
		{"scope present", "/admin/x", map[string]any{"scope": "api.read admin"}, 0, nil},
		{"scp array", "/admin/x", map[string]any{"scope": nil, "scp": []string{"admin"}}, 0, nil},
		{"scope missing", "/admin/x", nil, 403, []string{`error="insufficient_scope"`, `scope="admin"`}},
		{"step-up ok", "/stepup/x", map[string]any{"acr": "urn:mfa", "auth_time": now.Add(-time.Minute).Unix()}, 0, nil},
		{"step-up wrong acr", "/stepup/x", map[string]any{"acr": "urn:pwd", "auth_time": now.Unix()}, 401, []string{`error="insufficient_user_authentication"`, `acr_values="urn:mfa"`}},
		{"step-up too old", "/stepup/x", map[string]any{"acr": "urn:mfa", "auth_time": now.Add(-time.Hour).Unix()}, 401, []string{`error="insufficient_user_authentication"`, `max_age="300"`}},
		{"resource in aud", "/billing/x", map[string]any{"aud": []string{testAudience, "https://billing.test"}}, 0, nil},
		{"resource not in aud", "/billing/x", nil, 401, []string{`error="invalid_token"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(Get("api.test", tt.path, bearer(token(t, "ES256", tt.claims, nil))))
			if r.Status() != tt.status {
				t.Fatalf("status %d; want %d (%v)", r.Status(), tt.status, r.Local)
			}
			ch := challengeOf(r)
			for _, want := range tt.challenge {
				if !strings.Contains(ch, want) {
					t.Errorf("challenge %q lacks %s", ch, want)
				}
			}
		})
	}
}

// The verified-token cache: the second use of a token is a hit; it never
// outlives exp.
func TestJWTCache(t *testing.T) {
	clock := host.NewManualClock(time.Now())
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: staticJWTConfig(t), SkipCanary: true, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, "RS256", map[string]any{"exp": clock.Now().Add(90 * time.Second).Unix(), "iat": clock.Now().Unix()}, nil)
	req := Get("api.test", "/cached/x", [2]string{"x-cached-token", tok})
	for i := 0; i < 3; i++ {
		if r := e.Do(req); !r.Allowed() {
			t.Fatalf("use %d: %d", i, r.Status())
		}
	}
	if hits := e.Counter("wasm_authn.provider.idp-cached.cache_hit"); hits != 2 {
		t.Errorf("cache_hit = %d; want 2", hits)
	}
	clock.Advance(3 * time.Minute) // past exp (and the 60 s skew)
	if r := e.Do(req); r.Status() != 401 {
		t.Fatalf("after exp: status %d; want 401", r.Status())
	}
}

// Tokens from a query parameter, a cookie and a prefixed header; each is
// removed before the request goes upstream, the rest kept byte for byte.
func TestJWTSources(t *testing.T) {
	cfg := []byte(fmt.Sprintf(`{"providers":[{"name":"idp","jwt":{"issuers":[%q],"audiences":[%q],"jwks":%s,
	  "sources":[{"query":"access_token"},{"cookie":"session"},{"header":"x-token","prefix":"Token "}]}}],
	  "rules":[{"name":"r","require":{"provider":"idp"}}]}`, testIssuer, testAudience, jwksOf(t, "")))
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, "ES256", nil, nil)
	r := e.Do(Get("api.test", "/x?a=1&access_token="+tok+"&b=%20"))
	if !r.Allowed() || Header(r.Upstream, ":path")[0] != "/x?a=1&b=%20" {
		t.Fatalf("query: %d %q", r.Status(), Header(r.Upstream, ":path"))
	}
	r = e.Do(Get("api.test", "/x", h("cookie", "theme=dark; session="+tok+"; lang=en")))
	if !r.Allowed() || strings.Join(Header(r.Upstream, "cookie"), "|") != "theme=dark; lang=en" {
		t.Fatalf("cookie: %d %q", r.Status(), Header(r.Upstream, "cookie"))
	}
	r = e.Do(Get("api.test", "/x", h("x-token", "Token "+tok)))
	if !r.Allowed() || len(Header(r.Upstream, "x-token")) != 0 {
		t.Fatalf("header: %d %q", r.Status(), Header(r.Upstream, "x-token"))
	}
	if r := e.Do(Get("api.test", "/x?access_token="+tok, h("x-token", "Token "+tok))); r.Status() != 400 {
		t.Fatalf("two tokens: %d; want 400", r.Status())
	}
}
