package jwt

import "math/big"

// RSA moduli made by the Infineon RSA library before its 2017 fix have a
// structure from which the private key can be computed (ROCA,
// CVE-2017-15361; Nemec et al., "The Return of Coppersmith's Attack", CCS
// 2017): such a modulus N is k·M + (65537^a mod M), where M is the product
// of the first 39 primes for keys under 992 bits, of the first 71 under
// 1984 bits and of the first 126 (or more) above. So for every odd prime p
// dividing M, N mod p is a power of 65537 modulo p. Any other modulus
// passes that test for all those primes only by chance: with probability
// about 2^-28, 2^-83 and 2^-167 for the three sizes
// (TestROCAFalsePositiveRate computes them).

// rocaPrimes are the first 126 primes, the most the fingerprint involves.
var rocaPrimes = firstPrimes(126)

// rocaPrimeCount is how many of the first primes the fingerprint of an
// RSA modulus of bits bits involves.
func rocaPrimeCount(bits int) int {
	switch {
	case bits < 992:
		return 39
	case bits < 1984:
		return 71
	}
	return 126
}

// firstPrimes returns the first n primes.
func firstPrimes(n int) []int {
	out := make([]int, 0, n)
	for k := 2; len(out) < n; k++ {
		prime := true
		for _, q := range out {
			if q*q > k {
				break
			}
			if k%q == 0 {
				prime = false
				break
			}
		}
		if prime {
			out = append(out, k)
		}
	}
	return out
}

// isPowerOf65537 reports whether x is a power of 65537 modulo the prime p.
func isPowerOf65537(x, p int) bool {
	g, y := 65537%p, 1
	for range p - 1 {
		if y == x {
			return true
		}
		y = y * g % p
	}
	return false
}

// hasROCAFingerprint reports whether n has the structure of a modulus made
// by the vulnerable Infineon library.
func hasROCAFingerprint(n *big.Int) bool {
	var r, q big.Int
	for _, p := range rocaPrimes[1:rocaPrimeCount(n.BitLen())] { // N is odd: 2 tells nothing
		q.SetInt64(int64(p))
		if !isPowerOf65537(int(r.Mod(n, &q).Int64()), p) {
			return false
		}
	}
	return true
}
