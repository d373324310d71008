package htpasswd_test

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/htpasswd"
	"golang.org/x/crypto/bcrypt"
)

// perOp times n calls of fn, in nanoseconds per call. Benchmarks call it
// after their loop to measure a floor in the same run and report a ratio.
func perOp(n int, fn func()) float64 {
	n = max(n, 1)
	start := time.Now()
	for range n {
		fn()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkVerify measures Verify with the correct password on each format,
// using the htpasswd-made fixtures, and reports "x-floor": the ratio to the
// bare primitive work (the bcrypt library call, or the SHA-crypt or md5-crypt
// rounds as single hash calls over the same bytes).
func BenchmarkVerify(b *testing.B) {
	text, fixtures := loadFixtures(b)
	f, _, err := htpasswd.Parse(text, htpasswd.Options{AllowLegacy: true})
	if err != nil {
		b.Fatal(err)
	}
	hashOf := make(map[string]string)
	for _, fx := range fixtures {
		hashOf[fx.user] = fx.hash
	}
	const password = "correct horse battery staple"
	pwb := []byte(password)
	roundsFloor := func(rounds int, sum func([]byte)) func() {
		// A round hashes the previous digest, the salt and the password
		// about twice; see step 21 of the SHA-crypt specification.
		buf := make([]byte, 64+16+2*len(password))
		return func() {
			for range rounds {
				sum(buf)
			}
		}
	}
	for _, bm := range []struct {
		name, user string
		floor      func()
	}{
		{"bcrypt-cost4", "bcrypt4-ascii", func() { _ = bcrypt.CompareHashAndPassword([]byte(hashOf["bcrypt4-ascii"]), pwb) }},
		{"bcrypt-cost10", "bcrypt10-ascii", func() { _ = bcrypt.CompareHashAndPassword([]byte(hashOf["bcrypt10-ascii"]), pwb) }},
		{"sha256-crypt-5000", "sha256-ascii", roundsFloor(5000, func(p []byte) { sha256.Sum256(p[:32+16+2*len(password)]) })},
		{"sha512-crypt-5000", "sha512-ascii", roundsFloor(5000, func(p []byte) { sha512.Sum512(p) })},
		{"sha512-crypt-1000", "sha512-r1000", roundsFloor(1000, func(p []byte) { sha512.Sum512(p) })},
		{"apr1", "apr1-ascii", roundsFloor(1000, func(p []byte) { md5.Sum(p[:16+8+2*len(password)]) })},
		{"md5-crypt", "md5crypt-ascii", roundsFloor(1000, func(p []byte) { md5.Sum(p[:16+8+2*len(password)]) })},
		{"sha1", "sha1-ascii", func() { sha1.Sum(pwb) }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			if !f.Verify(bm.user, password) {
				b.Fatalf("Verify(%q) = false", bm.user)
			}
			b.ReportAllocs()
			for b.Loop() {
				f.Verify(bm.user, password)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/perOp(b.N, bm.floor), "x-floor")
		})
	}
}

// BenchmarkVerifyUnknownUser measures Verify for a user that is not in the
// file and reports "x-known": the ratio to the same call for a user that is.
// It should be close to 1: an unknown user costs the same work.
func BenchmarkVerifyUnknownUser(b *testing.B) {
	text, _ := loadFixtures(b)
	for _, bm := range []struct{ name, known string }{
		{"bcrypt-cost4", "bcrypt4-ascii"},
		{"sha512-crypt-5000", "sha512-ascii"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			// A file whose entries all have the kind and cost of bm.known,
			// so that the stand-in has them too.
			all := mustParse(b, text, htpasswd.Options{AllowLegacy: true})
			want, _ := all.Cost(bm.known)
			var kept []string
			for line := range strings.SplitSeq(text, "\n") {
				if u, _, ok := strings.Cut(line, ":"); ok && line[0] != '#' {
					if c, _ := all.Cost(u); c == want {
						kept = append(kept, line)
					}
				}
			}
			f := mustParse(b, strings.Join(kept, "\n"), htpasswd.Options{})
			const password = "correct horse battery staple"
			b.ReportAllocs()
			for b.Loop() {
				f.Verify("nobody", password)
			}
			known := perOp(b.N, func() { f.Verify(bm.known, password) })
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/known, "x-known")
		})
	}
}

// BenchmarkParse measures parsing the fixture file (all formats, 42 entries).
func BenchmarkParse(b *testing.B) {
	text, _ := loadFixtures(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := htpasswd.Parse(text, htpasswd.Options{AllowLegacy: true}); err != nil {
			b.Fatal(err)
		}
	}
}
