package dpop

import (
	"strings"
	"testing"
	"time"
)

// FuzzVerify drives proof parsing and validation. Property: no panic, and
// either a proof with a thumbprint and a jti, or exactly one known
// client-side Failure whose denial does not echo the proof.
func FuzzVerify(f *testing.F) {
	for _, alg := range []string{"ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256"} {
		f.Add(proof(f, alg, claims()))
	}
	for _, s := range []string{
		rfc9449TokenRequestProof,
		rfc9449ResourceProof,
		proof(f, "ES256", claims("nonce", "n-1", "iat", 1.5e9)),
		proof(f, "HS256", claims(), "jwk", publicJWK(f, "ec256")),
		unsigned(`{"typ":"dpop+jwt","alg":"none"}`, `{}`, ""),
		unsigned(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","d":"AA"}}`, `{}`, "AAAA"),
		unsigned(`{"typ":"dpop+jwt","alg":"ES256","typ":"dpop+jwt"}`, `{}`, "AAAA"),
		seg(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d",
		strings.Repeat(".", 100),
		"",
	} {
		f.Add(s)
	}
	req := testRequest()
	req.Now = time.Unix(1562262618, 0) // the RFC examples' time
	nonceReq := testRequest()
	nonceReq.Nonces = []string{"n-1"}
	opts := Options{Realm: "api", Algorithms: []string{"ES256", "ES384", "ES512", "EdDSA", "PS256", "RS256"}}
	f.Fuzz(func(t *testing.T, pr string) {
		for _, r := range []Request{testRequest(), req, nonceReq, {Method: "POST", HTU: "https://server.example.com/token", Now: req.Now}} {
			p, f := Verify(pr, r, opts)
			switch {
			case f == FailNone && (p == nil || len(p.Thumbprint) != ThumbprintLen || p.JTI == "" || p.Key == nil):
				t.Fatalf("success without a complete proof: %+v", p)
			case f != FailNone && (p != nil || f.String() == "unknown" || f.Status() != 401):
				t.Fatalf("Verify = %+v, %v: an unknown or server-side failure", p, f)
			case f != FailNone:
				d := opts.Deny(f, "n-2")
				if len(pr) >= 16 && strings.Contains(d.Err.Challenge, pr) {
					t.Fatal("the challenge echoes the proof")
				}
				if FailureOf(d.Err) != f {
					t.Fatalf("FailureOf(Deny(%v)) = %v", f, FailureOf(d.Err))
				}
			}
		}
	})
}

// FuzzHTU: normalization never panics, and a normalized URI normalizes to
// itself.
func FuzzHTU(f *testing.F) {
	f.Add("https", "API.example.com:443", "/a/%7e/../b?q#f")
	f.Add("http", "[::1]:80", "/%2f%zz")
	f.Add("HTTP", "a@b", "*")
	f.Fuzz(func(t *testing.T, scheme, authority, path string) {
		u, err := HTU(scheme, authority, path)
		if err != nil {
			return
		}
		again, err := normalizeURI(u)
		if err != nil || again != u {
			t.Fatalf("HTU(%q, %q, %q) = %q, which normalizes to %q, %v", scheme, authority, path, u, again, err)
		}
	})
}

// FuzzUpdateReplaySet: a shared value is input from other VMs; whatever it
// holds, an update never panics and yields a value that decodes.
func FuzzUpdateReplaySet(f *testing.F) {
	k := ReplayKey("1", rfc9449JKT)
	f.Add([]byte{}, k)
	f.Add(append([]byte{ReplaySetVersion}, entry(k, testNow.Unix()+60)...), k)
	f.Add([]byte{1, 2, 3}, "AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, old []byte, key string) {
		next, replayed, err := UpdateReplaySet(old, key, testNow.Add(time.Minute), testNow, 64)
		switch {
		case err != nil || replayed:
			if next != nil {
				t.Fatal("a value to write with an error or a replay")
			}
		case ReplaySetLen(next) < 1 || ReplaySetLen(next) > 64:
			t.Fatalf("the new value holds %d entries", ReplaySetLen(next))
		default:
			if _, replayed, err := UpdateReplaySet(next, key, testNow.Add(time.Minute), testNow, 64); !replayed || err != nil {
				t.Fatalf("the key is not in the new value: %v, %v", replayed, err)
			}
		}
	})
}
