package jwt

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Project Wycheproof's JSON Web Signature, JSON Web Key and ECDSA (IEEE
// P1363, the raw R||S of JWS) test vectors, in testdata/wycheproof (see
// its README), are an oracle independent of this package and of the
// libraries it uses: every vector's expected result is checked, and the
// few where this package is deliberately stricter are listed with why.

// wycheproofDivergences is testdata/wycheproof/divergences.json: the
// vectors whose expected result this package deliberately does not give.
type wycheproofDivergences struct {
	Stricter map[string]map[int]string // file → tcId → why it is refused
	SameAs   map[string]map[int]int    `json:"same_as"` // file → invalid tcId → the identical valid one
}

func readDivergences(t *testing.T) wycheproofDivergences {
	t.Helper()
	b, err := os.ReadFile("../../testdata/wycheproof/divergences.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Stricter map[string]map[string]string
		SameAs   map[string]json.RawMessage `json:"same_as"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	d := wycheproofDivergences{Stricter: map[string]map[int]string{}, SameAs: map[string]map[int]int{}}
	for file, m := range raw.Stricter {
		d.Stricter[file] = map[int]string{}
		for id, why := range m {
			n, err := strconv.Atoi(id)
			if err != nil {
				t.Fatal(err)
			}
			d.Stricter[file][n] = why
		}
	}
	for file, m := range raw.SameAs {
		var ids map[string]int
		if json.Unmarshal(m, &ids) != nil {
			continue // the comment
		}
		d.SameAs[file] = map[int]int{}
		for id, same := range ids {
			n, err := strconv.Atoi(id)
			if err != nil {
				t.Fatal(err)
			}
			d.SameAs[file][n] = same
		}
	}
	return d
}

type wycheproofJWSFile struct {
	NumberOfTests int
	TestGroups    []struct {
		Comment         string
		Private, Public json.RawMessage
		Tests           []struct {
			TcID            int `json:"tcId"`
			Comment, Result string
			JWS             string
			Flags           []string
		}
	}
}

func readWycheproof(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/wycheproof/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// wycheproofProvider configures a provider with a group's keys the way a
// deployment would: public keys as an inline JWKS (the parser's own rules
// apply), an "oct" key as the explicitly configured HMAC secret. It
// returns nil when no provider can be configured with them (no usable key,
// or a secret next to public keys, which configuration refuses).
func wycheproofProvider(t *testing.T, keys json.RawMessage) *Provider {
	t.Helper()
	doc := gjson.ParseBytes(keys)
	list := []gjson.Result{doc}
	if doc.Get("keys").IsArray() {
		list = doc.Get("keys").Array()
	}
	var public, secrets []gjson.Result
	for _, k := range list {
		if k.Get("kty").Str == "oct" {
			secrets = append(secrets, k)
		} else {
			public = append(public, k)
		}
	}
	o := Options{Name: "wycheproof", Realm: "r", Issuers: []string{"wycheproof"}}
	switch {
	case len(secrets) > 1 || len(secrets) == 1 && len(public) > 0:
		return nil
	case len(secrets) == 1:
		// The secret as hmac_secret, with the algorithms a configuration
		// would list: the key's "alg" if it has one, else the HS* it is
		// long enough for.
		raw, err := base64.RawURLEncoding.DecodeString(secrets[0].Get("k").Str)
		if err != nil {
			return nil
		}
		secret, err := NewSecretKey(raw)
		if err != nil {
			return nil
		}
		o.Keys = NewKeySet(secret)
		if alg := secrets[0].Get("alg"); alg.Exists() {
			o.Algorithms = []string{alg.Str}
		} else {
			for _, a := range []string{"HS256", "HS384", "HS512"} {
				if len(raw) >= algorithms[a].hash.Size() {
					o.Algorithms = append(o.Algorithms, a)
				}
			}
		}
	default:
		raws := make([]string, len(public))
		for i, k := range public {
			raws[i] = k.Raw
		}
		set, _, err := ParseJWKS([]byte(`{"keys":[`+strings.Join(raws, ",")+`]}`), DefaultMinRSABits)
		if err != nil || set.Len() == 0 {
			return nil
		}
		o.Keys = set
	}
	p, err := New(o)
	if err != nil {
		return nil // configuration refuses it (an "alg" that is not HS*, say)
	}
	return p
}

// passedSignature reports whether f comes after the signature was found
// valid: the vectors' payloads ("foo", RFC 7520's text) are not claim sets.
func passedSignature(f Failure) bool {
	return f == FailNone || f >= FailClaimsNotObject && f <= FailClaim
}

func TestWycheproofJWS(t *testing.T) {
	div := readDivergences(t)
	for _, file := range []string{"json_web_signature_test.json", "json_web_key_test.json"} {
		var f wycheproofJWSFile
		readWycheproof(t, file, &f)
		n := 0
		for _, g := range f.TestGroups {
			keys := g.Public
			if keys == nil {
				keys = g.Private
			}
			p := wycheproofProvider(t, keys)
			valid := map[int]string{}
			for _, tc := range g.Tests {
				if tc.Result == "valid" {
					valid[tc.TcID] = tc.JWS
				}
			}
			for _, tc := range g.Tests {
				n++
				name := fmt.Sprintf("%s/%d_%s", strings.TrimSuffix(file, "_test.json"), tc.TcID, tc.Comment)
				t.Run(name, func(t *testing.T) {
					got := "no provider can be configured with the group's keys"
					passed := false
					if p != nil {
						v := p.Authenticate(bearer(tc.JWS))
						f := FailureOf(v.Err)
						passed = v.Outcome == authn.Valid || v.Outcome == authn.Invalid && passedSignature(f)
						got = f.String()
					}
					want := tc.Result == "valid"
					if same, ok := div.SameAs[file][tc.TcID]; ok {
						if jws, ok := valid[same]; !ok || jws != tc.JWS || want {
							t.Fatalf("listed as the same token as valid vector %d, but it is not", same)
						}
						want = true
					}
					if why, ok := div.Stricter[file][tc.TcID]; ok {
						if !want || passed {
							t.Fatalf("listed as refused on purpose (%s), but result %q and passed=%v", why, tc.Result, passed)
						}
						return
					}
					if passed != want {
						t.Errorf("Wycheproof says %s %v; passed the signature = %v (%s)", tc.Result, tc.Flags, passed, got)
					}
				})
			}
		}
		if n == 0 || n != f.NumberOfTests {
			t.Fatalf("%s: %d vectors run of %d", file, n, f.NumberOfTests)
		}
	}
}

// TestWycheproofSignatures checks the signature step of every algorithm
// but HS* on Wycheproof's vectors, with the keys given as JWKs: ES256/384/
// 512 in JWS's raw R||S form (IEEE P1363; the format checks, size and r
// and s in [1, n-1], then the check), RS* (RSASSA-PKCS1-v1_5), PS*
// (RSASSA-PSS with the hash's salt length) and EdDSA (Ed25519), through
// the signature check in Wasm. "acceptable" vectors (a legacy encoding
// some verifiers take) may go either way; the test logs what this package
// does with them.
func TestWycheproofSignatures(t *testing.T) {
	for file, alg := range map[string]string{
		"ecdsa_secp256r1_sha256_p1363_test.json": "ES256",
		"ecdsa_secp384r1_sha384_p1363_test.json": "ES384",
		"ecdsa_secp521r1_sha512_p1363_test.json": "ES512",
		"rsa_signature_2048_sha256_test.json":    "RS256",
		"rsa_signature_2048_sha384_test.json":    "RS384",
		"rsa_signature_2048_sha512_test.json":    "RS512",
		"rsa_pss_2048_sha256_mgf1_32_test.json":  "PS256",
		"rsa_pss_2048_sha384_mgf1_48_test.json":  "PS384",
		"rsa_pss_4096_sha512_mgf1_64_test.json":  "PS512",
		"ed25519_test.json":                      "EdDSA",
	} {
		var f struct {
			NumberOfTests int
			TestGroups    []struct {
				KeyJwk, PublicKeyJwk json.RawMessage
				PublicKey            struct{ Uncompressed string }
				Tests                []struct {
					TcID                      int `json:"tcId"`
					Comment, Result, Msg, Sig string
					Flags                     []string
				}
			}
		}
		readWycheproof(t, file, &f)
		a := algorithms[alg]
		n := 0
		for gi, g := range f.TestGroups {
			jwk := string(g.KeyJwk)
			if jwk == "" {
				jwk = string(g.PublicKeyJwk)
			}
			if jwk == "" && a.key == KeyEC {
				// Some ECDSA groups give the key only as a point: the
				// JWK holds its coordinates.
				pt, err := hex.DecodeString(g.PublicKey.Uncompressed)
				if err != nil || len(pt) < 3 || pt[0] != 4 {
					t.Fatalf("%s group %d: no key", file, gi)
				}
				xy, enc := pt[1:], base64.RawURLEncoding.EncodeToString
				jwk = fmt.Sprintf(`{"kty":"EC","crv":%q,"x":%q,"y":%q}`, a.curve.Params().Name, enc(xy[:len(xy)/2]), enc(xy[len(xy)/2:]))
			}
			set, skipped, err := ParseJWKS([]byte(`{"keys":[`+jwk+`]}`), DefaultMinRSABits)
			if err != nil || set.Len() != 1 {
				t.Fatalf("%s group %d: key refused: %v %v", file, gi, err, skipped)
			}
			k := set.Keys()[0]
			if !k.fits(a) {
				t.Fatalf("%s group %d: the key does not fit %s", file, gi, alg)
			}
			for _, tc := range g.Tests {
				msg, err1 := hex.DecodeString(tc.Msg)
				sig, err2 := hex.DecodeString(tc.Sig)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s %d: bad hex", file, tc.TcID)
				}
				n++
				ok := verifySignature(a, k, string(msg), sig, nil) == FailNone
				switch tc.Result {
				case "acceptable":
					t.Logf("%s %d (%s): acceptable; verified = %v", file, tc.TcID, tc.Comment, ok)
				case "valid", "invalid":
					if ok != (tc.Result == "valid") {
						t.Errorf("%s %d (%s %v): Wycheproof says %s; verified = %v", file, tc.TcID, tc.Comment, tc.Flags, tc.Result, ok)
					}
				default:
					t.Fatalf("%s %d: result %q", file, tc.TcID, tc.Result)
				}
			}
		}
		if n == 0 || n != f.NumberOfTests {
			t.Fatalf("%s: %d vectors run of %d", file, n, f.NumberOfTests)
		}
	}
}
