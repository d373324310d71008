package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasm-authn/wasm-authn/internal/host"
	"github.com/wasm-authn/wasm-authn/internal/plugintest"
)

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwtBench holds keys and tokens for the JWT benchmarks.
type jwtBench struct {
	config []byte
	tokens map[string]string
}

func newJWTBench(b *testing.B) *jwtBench {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	secret := []byte("0123456789abcdef0123456789abcdef0123456789abcdef")
	xy := func(v *big.Int) string { buf := make([]byte, 32); v.FillBytes(buf); return b64u(buf) }
	jwks, _ := json.Marshal(map[string]any{"keys": []any{
		map[string]any{"kty": "RSA", "kid": "rsa", "n": b64u(rsaKey.N.Bytes()), "e": "AQAB"},
		map[string]any{"kty": "EC", "kid": "ec", "crv": "P-256", "x": xy(ecKey.X), "y": xy(ecKey.Y)},
		map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64u(edPub)},
	}})
	claims := gjwt.MapClaims{"iss": "https://idp.bench", "aud": "bench", "sub": "user-1", "exp": time.Now().Add(24 * time.Hour).Unix(), "iat": time.Now().Unix()}
	sign := func(m gjwt.SigningMethod, kid string, key any) string {
		t := gjwt.NewWithClaims(m, claims)
		t.Header["kid"] = kid
		s, err := t.SignedString(key)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	hsClaims := gjwt.MapClaims{"iss": "https://hs.bench", "aud": "bench", "sub": "user-1", "exp": time.Now().Add(24 * time.Hour).Unix()}
	hs := gjwt.NewWithClaims(gjwt.SigningMethodHS256, hsClaims)
	hsTok, _ := hs.SignedString(secret)
	provider := func(name, source, keys string, cache int) string {
		return fmt.Sprintf(`{"name":%q,"jwt":{"issuers":["https://idp.bench"],"audiences":["bench"],"algorithms":["RS256","ES256","EdDSA"],
			"sources":[{"header":%q}],%s,"cache":{"max_entries":%d}}}`, name, source, keys, cache)
	}
	cfg := fmt.Sprintf(`{"providers":[%s,%s,
		{"name":"hs","jwt":{"issuers":["https://hs.bench"],"audiences":["bench"],"algorithms":["HS256"],"hmac_secret":%q,"sources":[{"header":"x-hs"}],"cache":{"max_entries":0}}},
		{"name":"keys","api_key":{"keys":[{"sha256":%q,"consumer":"bench"}]}}],
		"rules":[{"name":"open","match":{"path":{"prefix":"/open/"}},"allow_anonymous":true},
		         {"name":"api","match":{"path":{"prefix":"/api/"}},"require":{"provider":"keys"}},
		         {"name":"uncached","match":{"path":{"prefix":"/uncached/"}},"require":{"provider":"uncached"}},
		         {"name":"cached","match":{"path":{"prefix":"/cached/"}},"require":{"provider":"cached"}},
		         {"name":"hs","match":{"path":{"prefix":"/hs/"}},"require":{"provider":"hs"}}]}`,
		provider("uncached", "x-token", `"jwks":`+string(jwks), 0), provider("cached", "x-token", `"jwks":`+string(jwks), 1024),
		base64.StdEncoding.EncodeToString(secret), digest(benchKey))
	return &jwtBench{config: []byte(cfg), tokens: map[string]string{
		"RS256": sign(gjwt.SigningMethodRS256, "rsa", rsaKey),
		"ES256": sign(gjwt.SigningMethodES256, "ec", ecKey),
		"EdDSA": sign(gjwt.SigningMethodEdDSA, "ed", edPriv),
		"HS256": hsTok,
	}}
}

// BenchmarkJWT measures whole requests with a JWT through the real .wasm:
// uncached with the signature checked in Wasm, uncached with Envoy's
// verify_signature (RS256 and ES256; EdDSA and HS256 stay in Wasm), and
// cached.
//
// The figures a JWT request is compared with are measured in the same
// loop, interleaved with it in blocks (see interleave), so that a machine
// whose speed drifts (these are shared machines) moves both alike: an
// uncached request alternates with the algorithm's bare signature check
// (bench/primitive, built with the same toolchain and run in the same
// runtime) and with a pass-through request on the same VM; a cached
// request alternates with an API-key request. Their times per run are
// reported as req-ns/op, primitive-ns/op (keyed-primitive-ns/op for
// HS256's HMAC keyed once), floor-ns/op and api_key-ns/op; ns/op is one
// block of each.
func BenchmarkJWT(b *testing.B) {
	jb := newJWTBench(b)
	start := func(foreign map[string]host.ForeignFunc) *host.VM {
		e, err := plugintest.NewEnvoyHost(b, host.Config{PluginConfig: jb.config, SkipCanary: true, ForeignFunctions: foreign, DropLogsBelowLevel: true})
		if err != nil {
			b.Fatal(err)
		}
		return e.VM(0)
	}
	inWasm := start(nil)
	native := start(map[string]host.ForeignFunc{"verify_signature": host.VerifySignature})
	prim := newPrimitives(b)
	defer prim.close()
	floor, apiKey := get("/open/x"), get("/api/x", [2]string{"x-api-key", benchKey})
	for _, alg := range []string{"RS256", "ES256", "EdDSA", "HS256"} {
		tok := jb.tokens[alg]
		hdr, path := [2]string{"x-token", tok}, "/uncached/x"
		if alg == "HS256" {
			hdr, path = [2]string{"x-hs", tok}, "/hs/x"
		}
		b.Run("Request/jwt_"+alg+"_uncached_wasm", func(b *testing.B) {
			steps := []step{
				{"req", expect(b, inWasm, get(path, hdr), true)},
				{"primitive", prim.check(b, alg)},
				{"floor", expect(b, inWasm, floor, true)},
			}
			if alg == "HS256" {
				steps = append(steps, step{"keyed-primitive", prim.check(b, "HS256_keyed")})
			}
			interleave(b, steps)
		})
		if alg == "RS256" || alg == "ES256" {
			b.Run("Request/jwt_"+alg+"_uncached_host_verify", func(b *testing.B) { run(b, native, get(path, hdr), true) })
		}
		if alg != "HS256" {
			b.Run("Request/jwt_"+alg+"_cached", func(b *testing.B) {
				interleave(b, []step{{"req", expect(b, inWasm, get("/cached/x", hdr), true)}, {"api_key", expect(b, inWasm, apiKey, true)}})
			})
		}
	}
}

// step is one operation of an interleaved benchmark.
type step struct {
	name string
	do   func()
}

// interleave runs the steps in turn, in blocks of interleaveBlock runs of
// each (so that each step runs warm, as in a plain benchmark, while all of
// them share the same minute of the machine), and reports each one's time
// per run as <name>-ns/op.
func interleave(b *testing.B, steps []step) {
	b.ReportAllocs()
	total := make([]time.Duration, len(steps))
	for b.Loop() {
		for i, s := range steps {
			t := time.Now()
			for range interleaveBlock {
				s.do()
			}
			total[i] += time.Since(t)
		}
	}
	for i, s := range steps {
		b.ReportMetric(float64(total[i].Nanoseconds())/float64(b.N*interleaveBlock), s.name+"-ns/op")
	}
}

const interleaveBlock = 16

// primitives is the bench/primitive module, instantiated once: the bare
// signature checks, compiled with the same toolchain and run in the same
// runtime (wazero, compiled) as the plugin.
type primitives struct {
	ctx    context.Context
	rt     wazero.Runtime
	verify api.Function
}

var primitiveIndex = map[string]uint64{"RS256": 0, "ES256": 1, "EdDSA": 2, "HS256": 3, "HS256_keyed": 4}

func newPrimitives(b *testing.B) *primitives {
	ctx := context.Background()
	wasm := plugintest.BuildWasm(b, "./bench/primitive", "")
	rt := wazero.NewRuntime(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := mod.ExportedFunction("bench_setup").Call(ctx); err != nil {
		b.Fatal(err)
	}
	return &primitives{ctx: ctx, rt: rt, verify: mod.ExportedFunction("bench_verify")}
}

func (p *primitives) close() { p.rt.Close(p.ctx) }

// check checks that alg's primitive verifies and returns a step running it.
func (p *primitives) check(b *testing.B, alg string) func() {
	i := primitiveIndex[alg]
	if r, err := p.verify.Call(p.ctx, i); err != nil || r[0] != 1 {
		b.Fatalf("verify: %v %v", r, err)
	}
	return func() { p.verify.Call(p.ctx, i) }
}
