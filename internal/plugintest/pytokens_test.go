package plugintest

import (
	"encoding/json"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// pyTokens is testdata/jwt/python-cryptography.json: keys and tokens made
// by Python's cryptography package (OpenSSL), independent of Go's crypto.
type pyTokens struct {
	Issuer, Audience string
	HMACIssuer       string `json:"hmac_issuer"`
	JWKS             json.RawMessage
	HMACSecret       string `json:"hmac_secret"`
	Valid            []struct{ Alg, Sub, Token, Note string }
	Invalid          []struct{ Alg, Token, Why string }
}

// Tokens signed by another implementation (Python's cryptography over
// OpenSSL) for every algorithm, ECDSA signatures whose R or S starts with a
// zero byte among them, verify through the module with the signature
// checked in Wasm, by Envoy's verify_signature (RS*, ES*), and on the SDK
// host; the tokens that break a rule of RFC 7518 (PSS salt length, DER
// ECDSA, a wrong hash or padding, a truncated HMAC, ...) are refused on
// every path.
func TestPythonCryptographyTokens(t *testing.T) {
	b, err := os.ReadFile("../../testdata/jwt/python-cryptography.json")
	if err != nil {
		t.Fatal(err)
	}
	var py pyTokens
	if err := json.Unmarshal(b, &py); err != nil {
		t.Fatal(err)
	}
	provider := func(name, issuer, header string, algs []string, keys map[string]any) map[string]any {
		p := map[string]any{"issuers": []string{issuer}, "audiences": []string{py.Audience}, "algorithms": algs,
			"sources": []any{map[string]any{"header": header}}, "cache": map[string]any{"max_entries": 0},
			"claim_headers": []any{map[string]any{"claim": "name", "header": "x-name"}}}
		for k, v := range keys {
			p[k] = v
		}
		return map[string]any{"name": name, "jwt": p}
	}
	cfg, err := json.Marshal(map[string]any{
		"providers": []any{
			provider("py", py.Issuer, "x-token", []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, map[string]any{"jwks": py.JWKS}),
			provider("py-hs", py.HMACIssuer, "x-hs-token", []string{"HS256", "HS384", "HS512"}, map[string]any{"hmac_secret": py.HMACSecret}),
		},
		"rules": []any{
			map[string]any{"name": "hs", "match": map[string]any{"path": map[string]any{"prefix": "/hs/"}}, "require": map[string]any{"provider": "py-hs"}},
			map[string]any{"name": "all", "require": map[string]any{"provider": "py"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	withHost, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true, ForeignFunctions: countingVerifier(&calls)})
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
	defer sdk.Close()
	hosts := map[string]func(Request) Result{"verify_signature": withHost.Do, "wasm": inWasm.Do, "sdk": sdk.Do}
	request := func(alg, tok string) Request {
		if strings.HasPrefix(alg, "HS") {
			return Get(apiHost, "/hs/x", h("x-hs-token", tok))
		}
		return Get(apiHost, "/x", h("x-token", tok))
	}
	if len(py.Valid) < 40 || len(py.Invalid) < 10 {
		t.Fatalf("%d valid, %d invalid tokens", len(py.Valid), len(py.Invalid))
	}
	for _, v := range py.Valid {
		before := calls.Load()
		for name, do := range hosts {
			r := do(request(v.Alg, v.Token))
			if !r.Allowed() {
				t.Errorf("%s %s (%s): status %d %s", name, v.Alg, v.Note, r.Status(), r.Local.Body)
				continue
			}
			issuer := py.Issuer
			if strings.HasPrefix(v.Alg, "HS") {
				issuer = py.HMACIssuer
			}
			if got := Header(r.Upstream, "x-authn-principal"); len(got) != 1 || got[0] != issuer+"/"+v.Sub {
				t.Errorf("%s %s: principal %q", name, v.Alg, got)
			}
			if got := Header(r.Upstream, "x-name"); len(got) != 1 || got[0] != `Zoë "Z" 山田` {
				t.Errorf("%s %s: x-name %q", name, v.Alg, got)
			}
		}
		wantHost := strings.HasPrefix(v.Alg, "RS") || strings.HasPrefix(v.Alg, "ES")
		if used := calls.Load() > before; used != wantHost {
			t.Errorf("%s: verify_signature used = %v; want %v", v.Alg, used, wantHost)
		}
	}
	for _, v := range py.Invalid {
		for name, do := range hosts {
			if r := do(request(v.Alg, v.Token)); r.Status() != 401 {
				t.Errorf("%s %s, %s: status %d; want 401", name, v.Alg, v.Why, r.Status())
			}
		}
	}
}
