package plugintest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/host"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// jwtVerifyLibVector is one case of testdata/jwt-verify-lib/vectors.json:
// a key and a token from the tests of the JWT library inside Envoy's
// jwt_authn filter, what that library answers and what this plugin does.
type jwtVerifyLibVector struct {
	Test       string
	Token      string
	Envoy      string
	Ours       string
	Divergence string
	JWKS       json.RawMessage
	PEM        string
	HMACSecret string   `json:"hmac_secret"`
	Audiences  []string `json:"audiences"`
	MaxBytes   int      `json:"max_token_bytes"`
}

// failureNamed returns the jwt.Failure whose name is name.
func failureNamed(t *testing.T, name string) jwt.Failure {
	for f := jwt.Failure(1); f < 100; f++ {
		if f.String() == name {
			return f
		}
	}
	t.Fatalf("no failure named %q", name)
	return 0
}

// sdkHostTime is the wall clock of the Go SDK's emulator (wazero's fake
// clock), which the SDK host cannot set.
var sdkHostTime = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// The keys and tokens of the tests of google/jwt_verify_lib, the library
// inside Envoy's jwt_authn filter, go through the module with the
// signature checked in Wasm, by Envoy's verify_signature, and (where the
// token's time window allows the SDK emulator's fixed clock) on the Go
// SDK's host. Each case's outcome is the one the vector file states: the
// library's answer, or ours where they differ for a stated reason (this
// plugin never tries every key, requires an issuer, limits the token's
// size); for each such key-selection case a variant with the one key that
// signed the token passes. Every accepted token is refused once a bit of
// its signature changes.
func TestJWTVerifyLibVectors(t *testing.T) {
	b, err := os.ReadFile("../../testdata/jwt-verify-lib/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vectors []jwtVerifyLibVector }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vectors) < 50 {
		t.Fatalf("%d vectors", len(doc.Vectors))
	}
	// Each vector is a provider and a rule for the path /v<i>/. HMAC
	// secrets and public keys for one issuer may not be mixed in one
	// configuration, so the HMAC cases get their own hosts.
	type prepared struct {
		v         jwtVerifyLibVector
		path      string
		principal string
		now       time.Time
		onSDK     bool
		parts     []string
	}
	var groups [2][]prepared
	var providers, rules [2][]any
	var accepted, refused, diverged, onSDK int
	for i, v := range doc.Vectors {
		if (v.Ours == "valid") != (v.Envoy == "Ok") && v.Divergence == "" {
			t.Errorf("%s: Envoy's library says %s, ours %s, and no divergence is stated", v.Test, v.Envoy, v.Ours)
		}
		parts := strings.Split(v.Token, ".")
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		pay, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var hd struct{ Alg string }
		var c struct {
			Iss, Sub      string
			Exp, Iat, Nbf float64
		}
		if json.Unmarshal(hdr, &hd) != nil || json.Unmarshal(pay, &c) != nil {
			t.Fatalf("%s: the token does not decode", v.Test)
		}
		issuer := c.Iss
		if issuer == "" {
			issuer = "https://issuer.invalid"
		}
		p := map[string]any{"issuers": []string{issuer}, "algorithms": []string{hd.Alg}, "require_expiration": false,
			"sources": []any{map[string]any{"header": "x-token"}}, "cache": map[string]any{"max_entries": 0}}
		g := 0
		switch {
		case v.JWKS != nil:
			p["jwks"] = v.JWKS
		case v.PEM != "":
			p["public_keys"] = []any{map[string]any{"pem": v.PEM}}
		default:
			p["hmac_secret"] = v.HMACSecret
			g = 1
		}
		if len(v.Audiences) > 0 {
			p["audiences"] = v.Audiences
		}
		if v.MaxBytes > 0 {
			p["max_token_bytes"] = v.MaxBytes
		}
		name := fmt.Sprintf("v%d", i)
		provider := map[string]any{"name": name, "jwt": p}
		rule := map[string]any{"name": name, "match": map[string]any{"path": map[string]any{"prefix": "/" + name + "/"}}, "require": map[string]any{"provider": name}}
		// A moment inside the token's time window.
		now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		switch {
		case c.Exp > 0:
			now = time.Unix(int64(c.Exp)-30, 0)
		case c.Iat > 0 || c.Nbf > 0:
			now = time.Unix(int64(max(c.Iat, c.Nbf))+30, 0)
		}
		sdk := (c.Exp == 0 || time.Unix(int64(c.Exp), 0).After(sdkHostTime)) && time.Unix(int64(max(c.Iat, c.Nbf)), 0).Before(sdkHostTime)
		providers[g] = append(providers[g], provider)
		rules[g] = append(rules[g], rule)
		groups[g] = append(groups[g], prepared{v: v, path: "/" + name + "/x", principal: issuer + "/" + c.Sub, now: now, onSDK: sdk, parts: parts})
		switch {
		case v.Divergence != "":
			diverged++
		case v.Ours == "valid":
			accepted++
		default:
			refused++
		}
	}
	var calls atomic.Int64
	for g := range groups {
		cfg, _ := json.Marshal(map[string]any{"providers": providers[g], "rules": rules[g]})
		clock := host.NewManualClock(time.Unix(0, 0))
		hosts := map[string]func(Request) Result{}
		for _, name := range []string{"wasm", "verify_signature"} {
			hc := host.Config{PluginConfig: cfg, SkipCanary: true, Clock: clock}
			if name == "verify_signature" {
				hc.ForeignFunctions = countingVerifier(&calls)
			}
			e, err := NewEnvoyHost(t, hc)
			if err != nil {
				t.Fatal(err)
			}
			hosts[name] = e.Do
		}
		sdk, err := NewSDKHost(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, pv := range groups[g] {
			clock.Set(pv.now)
			for name, do := range hosts {
				checkVerifyLibVector(t, pv.v, name, do, pv.path, pv.principal, pv.parts)
			}
			if pv.onSDK {
				checkVerifyLibVector(t, pv.v, "sdk", sdk.Do, pv.path, pv.principal, pv.parts)
				onSDK++
			}
		}
		sdk.Close()
	}
	if calls.Load() == 0 || onSDK < 15 {
		t.Fatalf("verify_signature called %d times; %d vectors on the SDK host", calls.Load(), onSDK)
	}
	t.Logf("%d vectors: %d accepted and %d refused as Envoy's library does, %d with a stated divergence; %d also on the SDK host",
		len(doc.Vectors), accepted, refused, diverged, onSDK)
}

// checkVerifyLibVector sends one vector's token on path and checks the outcome the
// vector states; an accepted token is also sent with a bit of its
// signature changed, which must be refused.
func checkVerifyLibVector(t *testing.T, v jwtVerifyLibVector, name string, do func(Request) Result, path, principal string, parts []string) {
	t.Helper()
	r := do(Get(apiHost, path, h("x-token", v.Token)))
	if v.Ours != "valid" {
		f := failureNamed(t, v.Ours)
		if r.Status() != f.Status() {
			t.Errorf("%s (%s): status %d; want %d (%s)", v.Test, name, r.Status(), f.Status(), v.Ours)
		} else if f.Status() == 401 && !strings.Contains(challengeOf(r), `error_description="`+f.Description()+`"`) {
			t.Errorf("%s (%s): challenge %s; want %s", v.Test, name, challengeOf(r), v.Ours)
		}
		return
	}
	if !r.Allowed() {
		t.Errorf("%s (%s): status %d %s", v.Test, name, r.Status(), challengeOf(r))
	} else if got := Header(r.Upstream, "x-authn-principal"); len(got) != 1 || got[0] != principal {
		t.Errorf("%s (%s): principal %q", v.Test, name, got)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	for _, i := range []int{0, len(sig) / 2, len(sig) - 1} {
		bad := append([]byte(nil), sig...)
		bad[i] ^= 0x01
		tok := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(bad)
		if r := do(Get(apiHost, path, h("x-token", tok))); r.Status() != 401 {
			t.Errorf("%s (%s): signature byte %d changed: status %d", v.Test, name, i, r.Status())
		}
	}
}
