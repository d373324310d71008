package jwt

import (
	"crypto/rand"
	"crypto/rsa"
	"math"
	"math/big"
	"strings"
	"testing"
)

// rocaModulus builds a modulus of about bits bits with the structure of the
// vulnerable library's: k·M + (65537^a mod M), with M the product of the
// first rocaPrimeCount(bits) primes and k, a random.
func rocaModulus(t *testing.T, bits int) *big.Int {
	t.Helper()
	m := big.NewInt(1)
	for _, p := range rocaPrimes[:rocaPrimeCount(bits)] {
		m.Mul(m, big.NewInt(int64(p)))
	}
	a, _ := rand.Int(rand.Reader, m)
	n := new(big.Int).Exp(big.NewInt(65537), a, m)
	k, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-m.BitLen())))
	return n.Add(n, k.Mul(k, m))
}

// Moduli with the structure are refused, at every size class; random
// moduli and those of keys made by openssl and crypto/rsa are not.
func TestROCAFingerprint(t *testing.T) {
	for _, bits := range []int{768, 1024, 2048, 3072, 4096} {
		for range 20 {
			if n := rocaModulus(t, bits); !hasROCAFingerprint(n) {
				t.Fatalf("%d-bit modulus with the structure not detected: %x", bits, n)
			}
		}
		for range 200 {
			n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
			n.SetBit(n, 0, 1)
			if hasROCAFingerprint(n) {
				t.Fatalf("random %d-bit modulus detected: %x", bits, n)
			}
		}
	}
	for _, name := range []string{"rsa1024", "rsa2048", "rsa2048b"} { // made by openssl
		if k := publicKey(t, name, "", 1024); hasROCAFingerprint(k.Public.(*rsa.PublicKey).N) {
			t.Fatalf("%s detected", name)
		}
	}
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil || hasROCAFingerprint(k.N) {
			t.Fatalf("a crypto/rsa key detected (%v)", err)
		}
	}
	// The key is refused wherever keys come from.
	pub := &rsa.PublicKey{N: rocaModulus(t, 2048), E: 65537}
	if _, err := newPublicKey("", "", pub); err == nil || !strings.Contains(err.Error(), "ROCA") {
		t.Fatalf("newPublicKey = %v; want the ROCA refusal", err)
	}
}

// The chance that a modulus without the structure passes the test is the
// product, over the primes, of the share of residues that are powers of
// 65537: it must stay negligible at every size the package accepts.
func TestROCAFalsePositiveRate(t *testing.T) {
	// The largest primes of the paper's three M: 167, 353 and 701.
	if rocaPrimes[38] != 167 || rocaPrimes[70] != 353 || rocaPrimes[125] != 701 || len(rocaPrimes) != 126 {
		t.Fatalf("the first primes are wrong: %v", rocaPrimes)
	}
	for _, tc := range []struct{ bits, maxLog2 int }{{768, -27}, {1024, -80}, {2048, -160}} {
		log2 := 0.0
		for _, p := range rocaPrimes[1:rocaPrimeCount(tc.bits)] {
			powers := 0
			for x := 1; x < p; x++ {
				if isPowerOf65537(x, p) {
					powers++
				}
			}
			log2 += math.Log2(float64(powers) / float64(p-1))
		}
		if log2 > float64(tc.maxLog2) {
			t.Errorf("%d bits: false positive rate 2^%.1f; want under 2^%d", tc.bits, log2, tc.maxLog2)
		}
		t.Logf("%d bits: false positive rate 2^%.1f", tc.bits, log2)
	}
}

func BenchmarkROCAFingerprint(b *testing.B) {
	n := publicKey(b, "rsa2048", "", 0).Public.(*rsa.PublicKey).N
	for b.Loop() {
		hasROCAFingerprint(n)
	}
}
