package jwt

import (
	"github.com/tidwall/gjson"
	"testing"
	"time"
)

// BenchmarkSteps times each step of a verification separately.
func BenchmarkSteps(b *testing.B) {
	for _, alg := range []string{"RS256", "HS256"} {
		p := newProvider(b, func(o *Options) {
			if alg[0] == 'H' {
				sk, _ := NewSecretKey(testSecret)
				o.Keys, o.Algorithms = NewKeySet(sk), []string{alg}
			}
			o.ClaimHeaders = []ClaimHeader{{Path: mustPath(b, "sub"), Header: "x-sub"}}
		})
		tok := token(b, alg, claims("scope", "read write"))
		req := bearer(tok)
		u, _ := parseUnsafe(tok, p.v.algs, nil)
		set, _ := p.store.Keys()
		keys, _ := set.candidates(u.alg, u.kid, u.hasKID)
		c, _ := parseClaims(u.payload)
		now := time.Now()
		b.Run(alg+"/extract", func(b *testing.B) {
			for b.Loop() {
				p.extract(req)
			}
		})
		b.Run(alg+"/parseUnsafe", func(b *testing.B) {
			for b.Loop() {
				parseUnsafe(tok, p.v.algs, nil)
			}
		})
		b.Run(alg+"/parseUnsafeKnownHeader", func(b *testing.B) {
			for b.Loop() {
				parseUnsafe(tok, p.v.algs, p.v.headers)
			}
		})
		b.Run(alg+"/candidates", func(b *testing.B) {
			for b.Loop() {
				set.candidates(u.alg, u.kid, u.hasKID)
			}
		})
		b.Run(alg+"/signature", func(b *testing.B) {
			for b.Loop() {
				verifySignature(u.alg, keys[0], u.input, u.sig, nil)
			}
		})
		b.Run(alg+"/parseClaims", func(b *testing.B) {
			for b.Loop() {
				parseClaims(u.payload)
			}
		})
		b.Run(alg+"/checkClaims", func(b *testing.B) {
			for b.Loop() {
				p.v.checkClaims(c, &u.header, now)
			}
		})
		b.Run(alg+"/identityHeaders", func(b *testing.B) {
			for b.Loop() {
				p.identityHeaders(c)
			}
		})
		b.Run(alg+"/verify", func(b *testing.B) {
			for b.Loop() {
				p.v.verify(tok, now, set, nil)
			}
		})
		b.Run(alg+"/Authenticate", func(b *testing.B) {
			for b.Loop() {
				p.Authenticate(req)
			}
		})
	}
}

func BenchmarkScan(b *testing.B) {
	p := newProvider(b, nil)
	tok := token(b, "RS256", claims("scope", "read write"))
	u, _ := parseUnsafe(tok, p.v.algs, nil)
	b.Logf("payload %d bytes: %s", len(u.payload), u.payload)
	b.Run("scanObject", func(b *testing.B) {
		var buf [16]member
		for b.Loop() {
			scanObject(u.payload, buf[:0])
		}
	})
	b.Run("gjsonValidBytes", func(b *testing.B) {
		for b.Loop() {
			gjson.ValidBytes(u.payload)
		}
	})
	b.Run("b64decode", func(b *testing.B) {
		for b.Loop() {
			b64url.DecodeString(tok[:len(tok)/2])
		}
	})
	b.Run("gjsonParseBytes", func(b *testing.B) {
		for b.Loop() {
			gjson.ParseBytes(u.payload)
		}
	})
	b.Run("alloc64", func(b *testing.B) {
		for b.Loop() {
			sink = make([]byte, 64)
		}
	})
}

var sink []byte

func BenchmarkClaimParts(b *testing.B) {
	raw := []byte("1800003600")
	b.Run("jsonNumber", func(b *testing.B) {
		for b.Loop() {
			jsonNumber(raw)
		}
	})
	b.Run("numericDateOf", func(b *testing.B) {
		for b.Loop() {
			numericDateOf(1800003600)
		}
	})
	b.Run("jsonString", func(b *testing.B) {
		s := []byte(`"https://issuer.example"`)
		for b.Loop() {
			jsonString(s)
		}
	})
	b.Run("newClaims", func(b *testing.B) {
		for b.Loop() {
			sinkClaims = &Claims{}
		}
	})
}

var sinkClaims *Claims
