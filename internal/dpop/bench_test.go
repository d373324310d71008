package dpop

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// floors holds each algorithm's bare signature check (ns/op), measured once
// per run, so that a full Verify reports its overhead as a ratio.
var floors = map[string]float64{}

func floor(b *testing.B, alg string) float64 {
	if f, ok := floors[alg]; ok {
		return f
	}
	pr := proof(b, alg, claims())
	u, jf := jwt.ParseJWSUnsafe(pr)
	if jf != jwt.FailNone {
		b.Fatal(jf)
	}
	k, err := jwt.ParseJWK(u.Header.Get("jwk"), 0)
	if err != nil {
		b.Fatal(err)
	}
	n, start := 0, time.Now()
	for time.Since(start) < 100*time.Millisecond {
		if jwt.VerifyJWS(alg, k, u.SigningInput, u.Signature, nil) != jwt.FailNone {
			b.Fatal("verify failed")
		}
		n++
	}
	floors[alg] = float64(time.Since(start).Nanoseconds()) / float64(n)
	return floors[alg]
}

// BenchmarkVerify is a full Verify per default algorithm (parse, jwk,
// signature, claims, thumbprint); x-signature is its cost over the bare
// signature check's.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range DefaultAlgorithms {
		b.Run(alg, func(b *testing.B) {
			pr, req := proof(b, alg, claims()), testRequest()
			fl := floor(b, alg)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, f := Verify(pr, req, Options{}); f != FailNone {
					b.Fatal(f)
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/fl, "x-signature")
		})
	}
}

// BenchmarkRejectBeforeSignature is the cost of refusing a proof before any
// signature work ("typ" wrong, then "alg" not allowed).
func BenchmarkRejectBeforeSignature(b *testing.B) {
	for _, tc := range []struct {
		name, proof string
		want        Failure
	}{
		{"typ", proof(b, "ES256", claims(), "typ", "JWT"), FailType},
		{"HS256", proof(b, "HS256", claims(), "jwk", publicJWK(b, "ec256")), FailAlgNotAllowed},
		{"private jwk", proof(b, "ES256", claims(), "jwk", map[string]any{"kty": "EC", "d": "AA"}), FailPrivateKey},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := testRequest()
			b.ReportAllocs()
			for b.Loop() {
				if _, f := Verify(tc.proof, req, Options{}); f != tc.want {
					b.Fatal(f)
				}
			}
		})
	}
}

func BenchmarkHTU(b *testing.B) {
	for _, tc := range []struct{ name, authority, path string }{
		{"clean", "api.example.com", "/v1/things?x=1"},
		{"normalized", "API.example.com:443", "/v1/%7euser/./things/../x?x=1"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := HTU("https", tc.authority, tc.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkThumbprint(b *testing.B) {
	for _, name := range []string{"ec256", "rsa2048", "ed25519"} {
		b.Run(name, func(b *testing.B) {
			jwk := []byte(mustJSON(b, publicJWK(b, name)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Thumbprint(jwk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheckBinding(b *testing.B) {
	c := cnf(b, `{"cnf":{"jkt":"`+rfc9449JKT+`"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if CheckBinding(c, rfc9449JKT) != FailNone {
			b.Fatal("mismatch")
		}
	}
}

// BenchmarkMemoryStore records fresh keys into a store at steady state
// (entries expire as fast as they arrive).
func BenchmarkMemoryStore(b *testing.B) {
	clk := &clock{t: testNow}
	s := NewMemoryStore(1<<16, clk.now)
	keys := make([]string, 1<<12)
	for i := range keys {
		keys[i] = ReplayKey(fmt.Sprint(i), rfc9449JKT)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		clk.t = clk.t.Add(time.Second)
		if r, err := s.Seen(keys[i%len(keys)], clk.t.Add(time.Second)); r || err != nil {
			b.Fatal(r, err)
		}
		i++
	}
}

// BenchmarkUpdateReplaySet is the modify step of a shared-store update on
// a shard holding n live entries.
func BenchmarkUpdateReplaySet(b *testing.B) {
	for _, n := range []int{0, 256, DefaultShardEntries - 1} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			old := []byte{ReplaySetVersion}
			for i := range n {
				old = append(old, entry(ReplayKey(fmt.Sprint(i), rfc9449JKT), testNow.Unix()+60)...)
			}
			key := ReplayKey("new", rfc9449JKT)
			b.SetBytes(int64(len(old)))
			b.ReportAllocs()
			for b.Loop() {
				if _, r, err := UpdateReplaySet(old, key, testNow.Add(time.Minute), testNow, DefaultShardEntries); r || err != nil {
					b.Fatal(r, err)
				}
			}
		})
	}
}

func BenchmarkReplayKey(b *testing.B) {
	jti := strings.Repeat("j", 36)
	b.ReportAllocs()
	for b.Loop() {
		_ = ReplayKey(jti, rfc9449JKT)
	}
}
