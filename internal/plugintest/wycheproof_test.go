package plugintest

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasm-authn/wasm-authn/internal/config"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// wycheproofGroup is one test group of a Wycheproof JWS or JWK file, with
// the provider configuration that carries its keys.
type wycheproofGroup struct {
	provider string // the "jwt" object, or "" when the keys cannot be configured
	tests    []wycheproofVector
}

type wycheproofVector struct {
	TcID            int `json:"tcId"`
	Comment, Result string
	JWS             string
}

// wycheproofProviderJSON is the "jwt" provider a deployment would write
// for a group's keys: public keys as an inline "jwks", a single "oct" key
// as "hmac_secret" with the key's "alg" (or the HS* it is long enough
// for). It returns "" for keys no configuration can carry: two secrets, or
// a secret next to public keys. issuer is the provider's only issuer.
func wycheproofProviderJSON(keys gjson.Result, issuer string) string {
	list := []gjson.Result{keys}
	if keys.Get("keys").IsArray() {
		list = keys.Get("keys").Array()
	}
	var public []string
	var secrets []gjson.Result
	for _, k := range list {
		if k.Get("kty").Str == "oct" {
			secrets = append(secrets, k)
		} else {
			public = append(public, k.Raw)
		}
	}
	// One issuer per group: configuration refuses an issuer verified
	// with a secret by one provider and public keys by another.
	base := fmt.Sprintf(`"issuers":[%q],"cache":{"max_entries":0}`, issuer)
	switch {
	case len(secrets) > 1 || len(secrets) == 1 && len(public) > 0:
		return ""
	case len(secrets) == 1:
		k := secrets[0].Get("k").Str
		algs := []string{secrets[0].Get("alg").Str}
		if algs[0] == "" {
			algs = nil
			for alg, size := range map[string]int{"HS256": 32, "HS384": 48, "HS512": 64} {
				if len(k)*6/8 >= size {
					algs = append(algs, alg)
				}
			}
		}
		a, _ := json.Marshal(algs)
		return fmt.Sprintf(`{%s,"hmac_secret":%q,"algorithms":%s}`, base, k, a)
	}
	return fmt.Sprintf(`{%s,"jwks":{"keys":[%s]}}`, base, strings.Join(public, ","))
}

func readWycheproofGroups(t *testing.T, file string) []wycheproofGroup {
	t.Helper()
	b, err := os.ReadFile("../../testdata/wycheproof/" + file)
	if err != nil {
		t.Fatal(err)
	}
	doc := gjson.ParseBytes(b)
	var groups []wycheproofGroup
	n := 0
	for i, g := range doc.Get("testGroups").Array() {
		keys := g.Get("public")
		if !keys.Exists() {
			keys = g.Get("private")
		}
		wg := wycheproofGroup{provider: wycheproofProviderJSON(keys, fmt.Sprintf("https://g%d.wycheproof.test", i))}
		if err := json.Unmarshal([]byte(g.Get("tests").Raw), &wg.tests); err != nil {
			t.Fatal(err)
		}
		n += len(wg.tests)
		groups = append(groups, wg)
	}
	if n == 0 || n != int(doc.Get("numberOfTests").Int()) {
		t.Fatalf("%s: %d vectors of %d", file, n, doc.Get("numberOfTests").Int())
	}
	return groups
}

// wycheproofDivergences reads testdata/wycheproof/divergences.json: file →
// tcId → why the vector is refused though Wycheproof says valid, and file →
// tcId → the valid vector an "invalid" one is identical to.
func wycheproofDivergences(t *testing.T) (stricter map[string]map[int]string, sameAs map[string]map[int]int) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/wycheproof/divergences.json")
	if err != nil {
		t.Fatal(err)
	}
	doc := gjson.ParseBytes(b)
	stricter, sameAs = map[string]map[int]string{}, map[string]map[int]int{}
	doc.Get("stricter").ForEach(func(file, m gjson.Result) bool {
		stricter[file.Str] = map[int]string{}
		m.ForEach(func(id, why gjson.Result) bool {
			n, _ := strconv.Atoi(id.Str)
			stricter[file.Str][n] = why.Str
			return true
		})
		return true
	})
	doc.Get("same_as").ForEach(func(file, m gjson.Result) bool {
		if !m.IsObject() {
			return true
		}
		sameAs[file.Str] = map[int]int{}
		m.ForEach(func(id, v gjson.Result) bool {
			n, _ := strconv.Atoi(id.Str)
			sameAs[file.Str][n] = int(v.Int())
			return true
		})
		return true
	})
	return stricter, sameAs
}

// Project Wycheproof's JWS and JWK vectors go through the real module, the
// signature checked in Wasm and by the host's verify_signature, and on the
// Go SDK's host emulator (which has no verify_signature). A vector
// passes the signature (and then fails for its payload, "foo" or RFC
// 7520's text, which is no claim set) exactly when Wycheproof says it is
// valid, but for the vectors divergences.json lists; the keys of a group
// that no configuration can take are refused at configure (checked with
// the same configuration compiler, natively), and Wycheproof says all of
// that group's vectors are invalid.
func TestWycheproofThroughModule(t *testing.T) {
	stricter, sameAs := wycheproofDivergences(t)
	passed := jwt.FailClaimsNotObject.Description()
	var calls atomic.Int64
	checked := 0
	for _, file := range []string{"json_web_signature_test.json", "json_web_key_test.json"} {
		groups := readWycheproofGroups(t, file)
		var providers, rules []string
		for i, g := range groups {
			cfg := fmt.Sprintf(`{"providers":[{"name":"g","jwt":%s}],"rules":[{"name":"r","require":{"provider":"g"}}]}`, g.provider)
			if _, _, err := config.Load([]byte(cfg)); g.provider == "" || err != nil {
				groups[i].provider = ""
				for _, tc := range g.tests {
					if tc.Result == "valid" && stricter[file][tc.TcID] == "" {
						t.Errorf("%s %d: the group's keys cannot be configured (%v), but Wycheproof says valid", file, tc.TcID, err)
					}
				}
				continue
			}
			providers = append(providers, fmt.Sprintf(`{"name":"g%d","jwt":%s}`, i, g.provider))
			rules = append(rules, fmt.Sprintf(`{"name":"g%d","match":{"path":{"prefix":"/g%d/"}},"require":{"provider":"g%d"}}`, i, i, i))
		}
		cfg := []byte(`{"providers":[` + strings.Join(providers, ",") + `],"rules":[` + strings.Join(rules, ",") + `]}`)
		hosts, sdk := jwtHosts(t, cfg, &calls)
		for i, g := range groups {
			if g.provider == "" {
				continue
			}
			valid := map[int]string{}
			for _, tc := range g.tests {
				if tc.Result == "valid" {
					valid[tc.TcID] = tc.JWS
				}
			}
			for _, tc := range g.tests {
				want := tc.Result == "valid"
				why, isStricter := stricter[file][tc.TcID]
				if same, ok := sameAs[file][tc.TcID]; ok {
					if valid[same] != tc.JWS || want {
						t.Fatalf("%s %d: listed as identical to valid vector %d, but it is not", file, tc.TcID, same)
					}
					want = true
				}
				checked++
				for name, do := range hosts {
					r := do(Get("api.test", fmt.Sprintf("/g%d/x", i), bearer(tc.JWS)))
					if r.Allowed() {
						t.Fatalf("%s %d (%s): allowed a token without claims", file, tc.TcID, name)
					}
					ch := challengeOf(r)
					got := r.Status() == 401 && strings.Contains(ch, `error_description="`+passed+`"`)
					switch {
					case isStricter && got:
						t.Errorf("%s %d (%s): listed as refused (%s), but it passes the signature", file, tc.TcID, name, why)
					case !isStricter && got != want:
						t.Errorf("%s %d %s (%s): Wycheproof says %s; passed the signature = %v (%d %s)", file, tc.TcID, tc.Comment, name, tc.Result, got, r.Status(), ch)
					}
				}
			}
		}
		sdk.Close()
	}
	// All but the few groups whose keys cannot be configured, and the
	// host checked the RS* and ES* signatures.
	if checked < 390 || calls.Load() < 200 {
		t.Fatalf("%d vectors through the module, verify_signature called %d times", checked, calls.Load())
	}
	t.Logf("%d vectors through the module on three hosts; verify_signature called %d times", checked, calls.Load())
}
