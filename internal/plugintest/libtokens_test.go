package plugintest

import (
	"encoding/json"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// libraryTokens is a file of testdata/jwt made by another JOSE
// implementation than the plugin's: keys, valid tokens and tokens to refuse.
type libraryTokens struct {
	Issuer, Audience string
	HMACIssuer       string `json:"hmac_issuer"`
	JWKS             json.RawMessage
	HMACSecret       string `json:"hmac_secret"`
	Valid            []struct{ Alg, Sub, Token, Note string }
	Invalid          []struct{ Alg, Token, Why string }
}

// Tokens signed by other implementations, for every algorithm, verify
// through the module with the signature checked in Wasm, by Envoy's
// verify_signature (RS*, ES*), and on the SDK host; the tokens they make
// that break a rule are refused on every path.
//
//   - python-cryptography.json (scripts/gen-jwt-python-tokens.py): JWS
//     assembled by the script, signatures by Python's cryptography over
//     OpenSSL, ECDSA signatures whose R or S starts with a zero byte among
//     them; refused: what breaks RFC 7518 (PSS salt length, DER ECDSA, a
//     wrong hash or padding, a truncated HMAC, ...).
//   - panva-jose.json (scripts/gen-jwt-jose-tokens.cjs): keys, JWKs and
//     tokens by the JavaScript library jose, RFC 9864's "Ed25519" among the
//     algorithms, and encryption keys in the key set (RSA-OAEP-256,
//     ECDH-ES on P-256 and X25519) that must be skipped; refused: its
//     unsecured JWTs, JWEs, crit and nested tokens, an embedded header key,
//     foreign keys and secrets, wrong claims.
func TestTokensFromOtherLibraries(t *testing.T) {
	for _, f := range []struct {
		name             string
		minValid, minBad int
	}{{"python-cryptography", 40, 10}, {"panva-jose", 25, 10}} {
		t.Run(f.name, func(t *testing.T) {
			b, err := os.ReadFile("../../testdata/jwt/" + f.name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var lt libraryTokens
			if err := json.Unmarshal(b, &lt); err != nil {
				t.Fatal(err)
			}
			if len(lt.Valid) < f.minValid || len(lt.Invalid) < f.minBad {
				t.Fatalf("%d valid, %d invalid tokens", len(lt.Valid), len(lt.Invalid))
			}
			checkLibraryTokens(t, &lt)
		})
	}
}

// checkLibraryTokens runs lt's tokens through the module on three hosts.
func checkLibraryTokens(t *testing.T, lt *libraryTokens) {
	provider := func(name, issuer, header string, algs []string, keys map[string]any) map[string]any {
		p := map[string]any{"issuers": []string{issuer}, "audiences": []string{lt.Audience}, "algorithms": algs,
			"sources": []any{map[string]any{"header": header}}, "cache": map[string]any{"max_entries": 0},
			"claim_headers": []any{map[string]any{"claim": "name", "header": "x-name"}}}
		for k, v := range keys {
			p[k] = v
		}
		return map[string]any{"name": name, "jwt": p}
	}
	cfg, err := json.Marshal(map[string]any{
		"providers": []any{
			provider("lib", lt.Issuer, "x-token", []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}, map[string]any{"jwks": lt.JWKS}),
			provider("lib-hs", lt.HMACIssuer, "x-hs-token", []string{"HS256", "HS384", "HS512"}, map[string]any{"hmac_secret": lt.HMACSecret}),
		},
		"rules": []any{
			map[string]any{"name": "hs", "match": map[string]any{"path": map[string]any{"prefix": "/hs/"}}, "require": map[string]any{"provider": "lib-hs"}},
			map[string]any{"name": "all", "require": map[string]any{"provider": "lib"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	hosts, sdk := jwtHosts(t, cfg, &calls)
	defer sdk.Close()
	request := func(alg, tok string) Request {
		if strings.HasPrefix(alg, "HS") {
			return Get(apiHost, "/hs/x", h("x-hs-token", tok))
		}
		return Get(apiHost, "/x", h("x-token", tok))
	}
	for _, v := range lt.Valid {
		before := calls.Load()
		for name, do := range hosts {
			r := do(request(v.Alg, v.Token))
			if !r.Allowed() {
				t.Errorf("%s %s (%s): status %d %s", name, v.Alg, v.Note, r.Status(), r.Local.Body)
				continue
			}
			issuer := lt.Issuer
			if strings.HasPrefix(v.Alg, "HS") {
				issuer = lt.HMACIssuer
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
	for _, v := range lt.Invalid {
		for name, do := range hosts {
			if r := do(request(v.Alg, v.Token)); r.Status() != 401 {
				t.Errorf("%s %s, %s: status %d; want 401", name, v.Alg, v.Why, r.Status())
			}
		}
	}
}
