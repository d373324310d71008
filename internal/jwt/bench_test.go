package jwt

import (
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// floors holds each algorithm's raw primitive cost (ns/op), measured once
// per run, so that full verifications report their overhead as a ratio.
var floors = map[string]float64{}

func primitive(b *testing.B, alg string) (a *algorithm, k *Key, input string, sig []byte) {
	b.Helper()
	p := newProvider(b, func(o *Options) {
		if alg[0] == 'H' {
			sk, _ := NewSecretKey(testSecret)
			o.Keys, o.Algorithms = NewKeySet(sk), []string{alg}
		}
	})
	u, f := parseUnsafe(token(b, alg, claims()), p.v.algs, nil)
	if f != FailNone {
		b.Fatal(f)
	}
	set, _ := p.store.Keys()
	keys, f := set.candidates(u.alg, u.kid, u.hasKID)
	if f != FailNone {
		b.Fatal(f)
	}
	return u.alg, keys[0], u.input, u.sig
}

// BenchmarkPrimitive is the floor: the signature check alone (hash and
// verify, Go's crypto), per algorithm.
func BenchmarkPrimitive(b *testing.B) {
	for _, alg := range SupportedAlgorithms() {
		b.Run(alg, func(b *testing.B) {
			a, k, input, sig := primitive(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if verifySignature(a, k, input, sig, nil) != FailNone {
					b.Fatal("verify failed")
				}
			}
		})
	}
}

// floor measures alg's primitive for at least 100 ms, once per run.
func floor(b *testing.B, alg string) float64 {
	if f, ok := floors[alg]; ok {
		return f
	}
	a, k, input, sig := primitive(b, alg)
	n, start := 0, time.Now()
	for time.Since(start) < 100*time.Millisecond {
		verifySignature(a, k, input, sig, nil)
		n++
	}
	floors[alg] = float64(time.Since(start).Nanoseconds()) / float64(n)
	return floors[alg]
}

// BenchmarkVerify is a full uncached Authenticate per algorithm: extraction,
// parsing, key choice, signature, claims, identity. x-primitive is its
// cost over the bare signature check's.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range SupportedAlgorithms() {
		b.Run(alg, func(b *testing.B) {
			p := newProvider(b, func(o *Options) {
				if alg[0] == 'H' {
					sk, _ := NewSecretKey(testSecret)
					o.Keys, o.Algorithms = NewKeySet(sk), []string{alg}
				}
				o.ClaimHeaders = []ClaimHeader{{Path: mustPath(b, "sub"), Header: "x-sub"}}
			})
			req := bearer(token(b, alg, claims("scope", "read write")))
			fl := floor(b, alg)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if v := p.Authenticate(req); v.Outcome != authn.Valid {
					b.Fatal(v.Err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/fl, "x-primitive")
		})
	}
}

// BenchmarkVerifyCached is a cache hit (any algorithm: no signature).
func BenchmarkVerifyCached(b *testing.B) {
	p := newProvider(b, func(o *Options) { o.CacheEntries = 1024 })
	req := bearer(token(b, "RS256", claims()))
	p.Authenticate(req)
	fl := floor(b, "RS256")
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if v := p.Authenticate(req); !v.CacheHit {
			b.Fatal("miss")
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/fl, "x-primitive")
}

// BenchmarkRejectUnsafe is the cost of turning away a forged token before
// any signature work (alg none).
func BenchmarkRejectUnsafe(b *testing.B) {
	p := newProvider(b, nil)
	req := bearer(seg(`{"alg":"none"}`) + "." + seg(mustJSON(b, claims())) + ".")
	b.ReportAllocs()
	for b.Loop() {
		if v := p.Authenticate(req); v.Outcome != authn.Invalid {
			b.Fatal(v.Outcome)
		}
	}
}

func BenchmarkParseJWKS(b *testing.B) {
	body := jwks(jwkOf(b, "ec256", "a"), jwkOf(b, "ec384", "b"), jwkOf(b, "ec521", "c"), rfcJWKA2, rfcJWK8037)
	b.ReportAllocs()
	for b.Loop() {
		if set, _, err := ParseJWKS(body, DefaultMinRSABits); err != nil || set.Len() != 5 {
			b.Fatal(err)
		}
	}
}
