package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// An EC P-256 JWK and an RSA-2048 PEM public key from internal/jwt's fixtures.
const (
	jwkEC  = `{"kty":"EC","crv":"P-256","kid":"ec256","x":"WiBdMZMjRZK8B9LMNrdVm6YnZmuBvIjVt5xVsxsCvBY","y":"Sidtc-Ov2DBNCzuJm3BmX4Qc36Hy0SdtDhB_rixx-yo"}`
	pemRSA = `-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzRHsI6pGO8kiVOv71Cn6\nCgoldwee5kR6R9uuvNtjRaDVioi/3f0Sr7NBd1tc4hLQxhA9VhrfTImdAZcuqFMr\n7s+uTKHkTPunKeKM4yFbSdyGoM/SGLYICqmNznmD9N6DAAXSIVJByB2zusCSr5Tj\nwvlF2AgoWBjePIvavFFcqK2ocvMrW0GkT5pfLams026VqxkJg6tSBnNs6tpYbrlj\n1HwE1o+Eh39zfp6FxtqCTiTEzAfre1D4OQAtzlvOB0nhDo4WOLsXuTfi6wtl23Ho\nSK4pECv19x+6RdUYDnMJAxPnW6m33J6iP/X0n63f5spB988qMXsZcCMAfwkawv4H\nqQIDAQAB\n-----END PUBLIC KEY-----\n`
	// 48 random bytes, base64.
	hmacSecret = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83v"
)

// jwtConf is a configuration with one jwt provider "j" whose body is the
// JSON object members fields, and one rule requiring it (with extra members
// next to "provider").
func jwtConf(fields, ruleExtra string) string {
	if ruleExtra != "" {
		ruleExtra = "," + ruleExtra
	}
	return minimal(`{"name":"j","jwt":{"issuers":["https://issuer.example"],"audiences":["api"],`+fields+`}}`,
		`{"name":"r","require":{"provider":"j"`+ruleExtra+`}}`)
}

const jwksField = `"jwks":{"keys":[` + jwkEC + `]}`

func TestJWTAccepts(t *testing.T) {
	tests := []struct {
		name, json string
	}{
		{"inline jwks object", jwtConf(jwksField, "")},
		{"inline jwks text", jwtConf(`"jwks":"{\"keys\":[`+strings.ReplaceAll(jwkEC, `"`, `\"`)+`]}"`, "")},
		{"pem", jwtConf(`"public_keys":[{"pem":"`+pemRSA+`","kid":"k1"}]`, "")},
		{"jwks and pem", jwtConf(jwksField+`,"public_keys":[{"pem":"`+pemRSA+`"}]`, "")},
		{"hmac", jwtConf(`"hmac_secret":"`+hmacSecret+`","algorithms":["HS256","HS384"]`, "")},
		{"hmac default algorithm", jwtConf(`"hmac_secret":"`+hmacSecret+`"`, "")},
		{"remote", jwtConf(`"remote_jwks":{"cluster":"idp","uri":"https://idp.example/jwks?x=1","timeout_ms":1000,"refresh_seconds":300,"unknown_kid_refetch_seconds":10,"max_wait_ms":0}`, "")},
		{"discovery default uri", jwtConf(`"oidc_discovery":{"cluster":"idp"}`, "")},
		{"discovery with a JWKS cluster", jwtConf(`"oidc_discovery":{"cluster":"idp","jwks_cluster":"idp-keys"}`, "")},
		{"dpop with nonces", jwtConf(jwksField+`,"dpop":{"required":true,"algorithms":["ES256"],"max_age_seconds":60,"nonce_lifetime_seconds":300}`, "")},
		{"floats from Istio", jwtConf(jwksField+`,"clock_skew_seconds":30.0,"max_token_bytes":8.192e3,"cache":{"max_entries":10.0,"ttl_seconds":6e1}`, `"max_age_seconds":300.0`)},
		{"every option", jwtConf(jwksField+`,"realm":"jr","algorithms":["ES256"],"min_rsa_bits":3072,
			"sources":[{"header":"authorization"},{"header":"x-token","prefix":"Token "},{"query":"access_token"},{"cookie":"tok"}],
			"max_token_bytes":4096,"keep_credential":true,"require_expiration":true,"clock_skew_seconds":0,"max_lifetime_seconds":3600,
			"typ":"at+jwt","claims":[{"path":"azp","equals":"web"},{"path":"groups","contains":"a"},{"path":"sub","one_of":["x","y"]},{"path":"email","prefix":"a@"}],
			"claim_headers":[{"claim":"sub","header":"x-sub"},{"claim":"https://example\\.com/roles","header":"x-roles"}],
			"max_claim_header_bytes":1024,"payload_header":"x-payload","cache":{"max_entries":0}`,
			`"scopes":["read","write"],"claims":[{"path":"tenant","equals":"t1"}],"acr_values":["mfa"],"max_age_seconds":600,"resource":"https://api.example.com/v1"`)},
		{"constraints under any", minimal(`{"name":"j","jwt":{"issuers":["i"],"audiences":["a"],`+jwksField+`}}`,
			`{"name":"r","require":{"any":[{"provider":"j","scopes":["a"]},{"all":[{"provider":"j","consumers":["i/x"],"resource":"urn:x"}]}]}}`)},
	}
	s := loadSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Validate([]byte(tt.json)); err != nil {
				t.Fatalf("Validate = %v; want ok", err)
			}
			if err := schemaValidate(s, []byte(tt.json)); err != nil {
				t.Fatalf("schema = %v; want ok", err)
			}
		})
	}
}

func TestJWTRejects(t *testing.T) {
	const p = "$.providers[0].jwt"
	const r = "$.rules[0].require"
	tests := []struct {
		name, json        string
		wantPath, wantMsg string
		schema            bool
	}{
		{"no issuers", minimal(`{"name":"j","jwt":{`+jwksField+`}}`, `{"name":"r","require":{"provider":"j"}}`), p + ".issuers", "is required", true},
		{"empty issuers", minimal(`{"name":"j","jwt":{"issuers":[],`+jwksField+`}}`, `{"name":"r","require":{"provider":"j"}}`), p + ".issuers", "must not be empty", true},
		{"duplicate issuer", minimal(`{"name":"j","jwt":{"issuers":["a","a"],`+jwksField+`}}`, `{"name":"r","require":{"provider":"j"}}`), p + ".issuers[1]", "listed once", true},
		{"empty audiences", minimal(`{"name":"j","jwt":{"issuers":["i"],"audiences":[],`+jwksField+`}}`, `{"name":"r","require":{"provider":"j"}}`), p + ".audiences", "must not be empty", true},
		{"no keys", jwtConf(`"typ":"at+jwt"`, ""), p, "needs keys", true},
		{"two key sources", jwtConf(jwksField+`,"remote_jwks":{"cluster":"c","uri":"https://x/j"}`, ""), p, "one key source", true},
		{"unknown field", jwtConf(jwksField+`,"audience":"api"`, ""), p + ".audience", "unknown field", true},
		{"jwks not JSON", jwtConf(`"jwks":"{"`, ""), p + ".jwks", "not a JSON object", false},
		{"jwks duplicate member", jwtConf(`"jwks":"{\"keys\":[],\"keys\":[]}"`, ""), p + ".jwks", "repeats", false},
		{"jwks empty", jwtConf(`"jwks":{"keys":[]}`, ""), p + ".jwks", "has no keys", false},
		{"jwks with a private key", jwtConf(`"jwks":{"keys":[`+strings.Replace(jwkEC, `"kid"`, `"d":"AAAA","kid"`, 1)+`]}`, ""), p + ".jwks", "keys[0]: the key has private key members", false},
		{"jwks with a key off its curve", jwtConf(`"jwks":{"keys":[`+jwkEC+`,`+strings.Replace(jwkEC, `"x":"W`, `"x":"X`, 1)+`]}`, ""), p + ".jwks", "keys[1]: EC point is not on the curve", false},
		{"jwks with only an encryption key", jwtConf(`"jwks":{"keys":[`+strings.Replace(jwkEC, `"kid"`, `"use":"enc","kid"`, 1)+`]}`, ""), p + ".jwks", "has no keys", false},
		{"jwks private key", jwtConf(`"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"WiBdMZMjRZK8B9LMNrdVm6YnZmuBvIjVt5xVsxsCvBY","y":"Sidtc-Ov2DBNCzuJm3BmX4Qc36Hy0SdtDhB_rixx-yo","d":"AAAA"}]}`, ""), p + ".jwks", "private key", false},
		{"jwks oct key", jwtConf(`"jwks":{"keys":[{"kty":"oct","k":"AAAA"}]}`, ""), p + ".jwks", "configured explicitly", false},
		{"jwks point off the curve", jwtConf(`"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"WiBdMZMjRZK8B9LMNrdVm6YnZmuBvIjVt5xVsxsCvBY","y":"Sidtc-Ov2DBNCzuJm3BmX4Qc36Hy0SdtDhB_rixx-yA"}]}`, ""), p + ".jwks", "not on the curve", false},
		{"pem private key", jwtConf(`"public_keys":[{"pem":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}]`, ""), p + ".public_keys[0].pem", "private key", false},
		{"pem garbage", jwtConf(`"public_keys":[{"pem":"hello"}]`, ""), p + ".public_keys[0].pem", "no PEM public key", false},
		{"pem RSA under the minimum", jwtConf(`"public_keys":[{"pem":"`+pemRSA+`"}],"min_rsa_bits":3072`, ""), p + ".public_keys[0].pem", "under the minimum", false},
		{"short hmac secret", jwtConf(`"hmac_secret":"c2hvcnQ"`, ""), p + ".hmac_secret", "at least 32 bytes", true},
		{"hmac secret not base64", jwtConf(`"hmac_secret":"`+strings.Repeat("!", 50)+`"`, ""), p + ".hmac_secret", "must be base64", false},
		{"HS512 with a 48-byte secret", jwtConf(`"hmac_secret":"`+hmacSecret+`","algorithms":["HS512"]`, ""), p + ".algorithms[0]", "at least 64 bytes", false},
		{"HS256 without a secret", jwtConf(jwksField+`,"algorithms":["HS256"]`, ""), p + ".algorithms[0]", "needs hmac_secret", false},
		{"RS256 with a secret", jwtConf(`"hmac_secret":"`+hmacSecret+`","algorithms":["RS256"]`, ""), p + ".algorithms[0]", "cannot be used with hmac_secret", false},
		{"alg none", jwtConf(jwksField+`,"algorithms":["none"]`, ""), p + ".algorithms[0]", "unsupported algorithm", true},
		{"empty algorithms", jwtConf(jwksField+`,"algorithms":[]`, ""), p + ".algorithms", "must not be empty", true},
		{"issuer symmetric here, asymmetric there", minimal(
			`{"name":"a","jwt":{"issuers":["https://i"],"audiences":["x"],`+jwksField+`}},{"name":"b","jwt":{"issuers":["https://i"],"audiences":["x"],"hmac_secret":"`+hmacSecret+`"}}`,
			`{"name":"r","require":{"any":[{"provider":"a"},{"provider":"b"}]}}`), "$.providers[1].jwt.issuers", "HMAC secret by one provider", false},
		{"remote without uri", jwtConf(`"remote_jwks":{"cluster":"c"}`, ""), p + ".remote_jwks.uri", "is required", true},
		{"remote bad uri", jwtConf(`"remote_jwks":{"cluster":"c","uri":"ftp://x/jwks"}`, ""), p + ".remote_jwks.uri", "http or https", true},
		{"remote uri with user", jwtConf(`"remote_jwks":{"cluster":"c","uri":"https://u:p@x/jwks"}`, ""), p + ".remote_jwks.uri", "user information", false},
		{"remote timeout too small", jwtConf(`"remote_jwks":{"cluster":"c","uri":"https://x/j","timeout_ms":5}`, ""), p + ".remote_jwks.timeout_ms", "between", true},
		{"remote fractional", jwtConf(`"remote_jwks":{"cluster":"c","uri":"https://x/j","refresh_seconds":60.5}`, ""), p + ".remote_jwks.refresh_seconds", "whole number", true},
		{"remote without cluster", jwtConf(`"remote_jwks":{"uri":"https://x/j"}`, ""), p + ".remote_jwks.cluster", "is required", true},
		{"JWKS cluster without discovery", jwtConf(`"remote_jwks":{"cluster":"c","uri":"https://x/j","jwks_cluster":"k"}`, ""), p + ".remote_jwks.jwks_cluster", "only with oidc_discovery", true},
		{"JWKS cluster empty", jwtConf(`"oidc_discovery":{"cluster":"c","jwks_cluster":""}`, ""), p + ".oidc_discovery.jwks_cluster", "Envoy cluster name", true},
		{"discovery with two issuers", minimal(`{"name":"j","jwt":{"issuers":["a","b"],"audiences":["x"],"oidc_discovery":{"cluster":"c"}}}`, `{"name":"r","require":{"provider":"j"}}`), p + ".oidc_discovery", "exactly one issuer", false},
		{"min_rsa_bits too small", jwtConf(jwksField+`,"min_rsa_bits":512`, ""), p + ".min_rsa_bits", "between", true},
		{"dpop nonce lifetime too short", jwtConf(jwksField+`,"dpop":{"nonce_lifetime_seconds":5}`, ""), p + ".dpop.nonce_lifetime_seconds", "between", true},
		{"dpop nonce lifetime not a number", jwtConf(jwksField+`,"dpop":{"nonce_lifetime_seconds":"300"}`, ""), p + ".dpop.nonce_lifetime_seconds", "number", true},
		{"source with two kinds", jwtConf(jwksField+`,"sources":[{"header":"x","query":"y"}]`, ""), p + ".sources[0]", "exactly one of header, query and cookie", true},
		{"source prefix on query", jwtConf(jwksField+`,"sources":[{"query":"y","prefix":"T "}]`, ""), p + ".sources[0].prefix", "only to header", true},
		{"source bad cookie", jwtConf(jwksField+`,"sources":[{"cookie":"a b"}]`, ""), p + ".sources[0].cookie", "cookie name", true},
		{"source upper-case header", jwtConf(jwksField+`,"sources":[{"header":"X-Token"}]`, ""), p + ".sources[0].header", "lower-case", true},
		{"duplicate source", jwtConf(jwksField+`,"sources":[{"query":"t"},{"query":"t"}]`, ""), p + ".sources[1]", "duplicate source", false},
		{"max_token_bytes too large", jwtConf(jwksField+`,"max_token_bytes":1e6`, ""), p + ".max_token_bytes", "between", true},
		{"skew too large", jwtConf(jwksField+`,"clock_skew_seconds":3600`, ""), p + ".clock_skew_seconds", "between", true},
		{"typ with a space", jwtConf(jwksField+`,"typ":"at jwt"`, ""), p + ".typ", "media type", true},
		{"matcher without kind", jwtConf(jwksField+`,"claims":[{"path":"azp"}]`, ""), p + ".claims[0]", "exactly one of equals", true},
		{"matcher with two kinds", jwtConf(jwksField+`,"claims":[{"path":"azp","equals":"a","prefix":"b"}]`, ""), p + ".claims[0]", "exactly one of equals", true},
		{"matcher bad path", jwtConf(jwksField+`,"claims":[{"path":"a..b","equals":"x"}]`, ""), p + ".claims[0].path", "empty segment", false},
		{"claim header authorization", jwtConf(jwksField+`,"claim_headers":[{"claim":"sub","header":"authorization"}]`, ""), p + ".claim_headers[0].header", "cannot be used", false},
		{"claim header is an identity header", jwtConf(jwksField+`,"claim_headers":[{"claim":"sub","header":"x-authn-principal"}]`, ""), p + ".claim_headers[0].header", "identity headers", false},
		{"claim header twice", jwtConf(jwksField+`,"claim_headers":[{"claim":"sub","header":"x-a"},{"claim":"azp","header":"x-a"}]`, ""), p + ".claim_headers[1].header", "already used", false},
		{"payload header is a claim header", jwtConf(jwksField+`,"claim_headers":[{"claim":"sub","header":"x-a"}],"payload_header":"x-a"`, ""), p + ".payload_header", "already used", false},
		{"scopes empty", jwtConf(jwksField, `"scopes":[]`), r + ".scopes", "must not be empty", true},
		{"scope with a quote", jwtConf(jwksField, `"scopes":["a\"b"]`), r + ".scopes[0]", "scope token", true},
		{"scope with a space", jwtConf(jwksField, `"scopes":["a b"]`), r + ".scopes[0]", "scope token", true},
		{"acr with a space", jwtConf(jwksField, `"acr_values":["a b"]`), r + ".acr_values[0]", "ACR value", true},
		{"max_age negative", jwtConf(jwksField, `"max_age_seconds":-1`), r + ".max_age_seconds", "between", true},
		{"resource relative", jwtConf(jwksField, `"resource":"/api"`), r + ".resource", "absolute URI", true},
		{"resource with fragment", jwtConf(jwksField, `"resource":"https://a/b#c"`), r + ".resource", "absolute URI", true},
		{"rule claim matcher bad", jwtConf(jwksField, `"claims":[{"path":"x","one_of":[]}]`), r + ".claims[0].one_of", "must not be empty", true},
		{"scopes on an api_key provider", minimal(okProvider, `{"name":"r","require":{"provider":"k","scopes":["a"]}}`), r + ".scopes", "unknown field", false},
		{"scopes on any", minimal(`{"name":"j","jwt":{"issuers":["i"],"audiences":["a"],`+jwksField+`}}`, `{"name":"r","require":{"any":[{"provider":"j"}],"scopes":["a"]}}`), r + ".scopes", "unknown field", true},
	}
	s := loadSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate([]byte(tt.json))
			if err == nil {
				t.Fatalf("Validate succeeded; want an error at %s", tt.wantPath)
			}
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tt.wantPath) && strings.Contains(line, tt.wantMsg) {
					found = true
				}
			}
			if !found {
				t.Fatalf("Validate error = %q; want a line at %q containing %q", err, tt.wantPath, tt.wantMsg)
			}
			if tt.schema {
				if err := schemaValidate(s, []byte(tt.json)); err == nil {
					t.Errorf("the JSON Schema accepts it; want rejected")
				}
			}
		})
	}
}

func TestJWTCompiled(t *testing.T) {
	p, warns, err := Load([]byte(jwtConf(jwksField+`,"claim_headers":[{"claim":"sub","header":"x-sub"}],"payload_header":"x-payload"`,
		`"scopes":["read"],"claims":[{"path":"t","equals":"1"}],"acr_values":["mfa"],"resource":"urn:api"`)))
	if err != nil {
		t.Fatal(err)
	}
	jp, ok := p.Providers[0].(*jwt.Provider)
	if !ok || jp.Method() != "jwt" || jp.Remote() != nil || !jp.KeyStore().Ready() {
		t.Fatalf("provider = %#v", p.Providers[0])
	}
	for _, h := range []string{"x-sub", "x-payload"} {
		found := false
		for _, s := range p.Strip {
			found = found || s == h
		}
		if !found {
			t.Errorf("policy.Strip %v lacks %q: a client could inject it", p.Strip, h)
		}
	}
	if n := len(p.Rules[0].Require.Constraints); n != 4 {
		t.Errorf("constraints = %d; want 4 (resource, scopes, claims, step-up)", n)
	}
	if len(warns) != 0 {
		t.Errorf("warnings = %q", warns)
	}
}

func TestJWTWarnings(t *testing.T) {
	w, err := Validate([]byte(minimal(`{"name":"j","jwt":{"issuers":["i"],"hmac_secret":"`+hmacSecret+`","require_expiration":false}}`, `{"name":"r","require":{"provider":"j"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(w, "\n")
	for _, want := range []string{"$.providers[0].jwt: no audiences", "$.providers[0].jwt.hmac_secret: a shared secret", "$.providers[0].jwt.require_expiration: tokens without exp"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", joined, want)
		}
	}
}

// An inline key set copied from an identity provider may hold keys for
// something else (encryption keys, curves not implemented): they are
// skipped with a warning naming each, and the signing keys are used.
func TestJWTInlineKeySetSkipsOtherKeys(t *testing.T) {
	other := []string{
		strings.Replace(jwkEC, `"kid":"ec256"`, `"kid":"enc","use":"enc","alg":"ECDH-ES"`, 1),
		`{"kty":"OKP","crv":"X25519","kid":"x","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`,
		`{"kty":"RSA","kid":"oaep","alg":"RSA-OAEP-256","n":"AQAB","e":"AQAB"}`,
		`{"kty":"EC","crv":"secp256k1","kid":"k1","x":"AA","y":"AA"}`,
		`{"kty":"AKP","kid":"pq","alg":"ML-DSA-44","pub":"AAAA"}`,
		strings.Replace(jwkEC, `"kid":"ec256"`, `"kid":"wrap","key_ops":["wrapKey"]`, 1),
	}
	p, w, err := Load([]byte(jwtConf(`"jwks":{"keys":[`+strings.Join(other, ",")+`,`+jwkEC+`]}`, "")))
	if err != nil {
		t.Fatal(err)
	}
	if set, _ := p.Providers[0].(*jwt.Provider).KeyStore().Keys(); set.Len() != 1 {
		t.Fatalf("%d keys; want the one signing key", set.Len())
	}
	joined := strings.Join(w, "\n")
	for i := range other {
		if want := fmt.Sprintf("$.providers[0].jwt.jwks: keys[%d]: ", i); !strings.Contains(joined, want) || !strings.Contains(joined, "the key is skipped") {
			t.Errorf("warnings %q lack %q", joined, want)
		}
	}
}

// Remote key settings reach the provider's RemoteSpec.
func TestJWTRemoteSpec(t *testing.T) {
	p, _, err := Load([]byte(jwtConf(`"oidc_discovery":{"cluster":"idp","timeout_ms":1500}`, "")))
	if err != nil {
		t.Fatal(err)
	}
	spec := p.Providers[0].(*jwt.Provider).Remote()
	if spec == nil || !spec.Discovery || spec.Cluster != "idp" || spec.Authority != "issuer.example" ||
		spec.Path != "/.well-known/openid-configuration" || spec.Timeout.Milliseconds() != 1500 || spec.Issuer != "https://issuer.example" {
		t.Fatalf("spec = %+v", spec)
	}
	if got := p.Providers[0].(*jwt.Provider).KeyStore().Target(); !got.Discovery || got.Cluster != "idp" {
		t.Fatalf("target = %+v", got)
	}
	p, _, err = Load([]byte(jwtConf(`"oidc_discovery":{"cluster":"idp","jwks_cluster":"idp-keys"}`, "")))
	if err != nil {
		t.Fatal(err)
	}
	if spec := p.Providers[0].(*jwt.Provider).Remote(); spec.Cluster != "idp" || spec.JWKSCluster != "idp-keys" {
		t.Fatalf("spec = %+v", spec)
	}
}

// The HMAC secret never appears in an error.
func TestJWTErrorsHoldNoSecret(t *testing.T) {
	const secret = "SuperSecretHmacKeyMaterialThatIsLongEnough0123456789"
	_, err := Validate([]byte(jwtConf(`"hmac_secret":"`+secret+`","algorithms":["RS256"]`, "")))
	if err == nil {
		t.Fatal("Validate succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

// A P-521 key with ES512 allowed draws a warning: ES512 is slow in Wasm.
func TestJWTSlowAlgorithmWarning(t *testing.T) {
	const p521 = `{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}`
	w, err := Validate([]byte(jwtConf(`"jwks":{"keys":[`+p521+`]}`, "")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(w, "\n"), "ES512 signatures take tens of milliseconds") {
		t.Fatalf("warnings = %q; want the ES512 one", w)
	}
	if w, _ := Validate([]byte(jwtConf(jwksField, ""))); strings.Contains(strings.Join(w, "\n"), "ES512") {
		t.Fatalf("warnings = %q without a P-521 key", w)
	}
}
