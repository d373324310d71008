package htpasswd

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt, from Ulrich Drepper's specification "Unix crypt using SHA-256 and
// SHA-512" (https://www.akkadia.org/drepper/SHA-crypt.txt), the algorithm of
// glibc's and libxcrypt's $5$ and $6$ and of `htpasswd -2` and `htpasswd -5`.
// Step numbers below are the specification's. The hash functions are the
// standard library's.

const (
	shaCryptMinRounds     = 1000
	shaCryptMaxRounds     = 999_999_999
	shaCryptDefaultRounds = 5000
	shaCryptMaxSalt       = 16
	shaCryptRoundsPrefix  = "rounds="
)

// shaCryptAlg is one of the two SHA-crypt variants.
type shaCryptAlg struct {
	scheme  scheme
	prefix  string
	newHash func() hash.Hash
	size    int
	order   []uint8 // byte order of step 22
}

var (
	sha256Crypt = &shaCryptAlg{
		scheme:  schemeSHA256Crypt,
		prefix:  "$5$",
		newHash: sha256.New,
		size:    sha256.Size,
		order: []uint8{
			0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15,
			25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29, 31, 30,
		},
	}
	sha512Crypt = &shaCryptAlg{
		scheme:  schemeSHA512Crypt,
		prefix:  "$6$",
		newHash: sha512.New,
		size:    sha512.Size,
		order: []uint8{
			0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47,
			5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51, 31, 52,
			10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57,
			37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41, 63,
		},
	}
)

// shaCrypt is a parsed $5$ or $6$ entry: everything but the password is
// decoded once, at Parse.
type shaCrypt struct {
	alg    *shaCryptAlg
	rounds int
	salt   []byte
	want   []byte // the stored digest, crypt64-encoded
}

// parseSHACrypt parses a stored "$5$[rounds=N$]salt$digest" or the $6$
// equivalent. It is stricter than crypt(3) reading a setting: a stored string
// must be one crypt(3) could have written, since any other could never
// compare equal to its output. So rounds outside [1000, 999999999] (which
// crypt(3) clamps and writes clamped), a salt over 16 characters (which it
// truncates) and digits with leading zeros are errors here.
func parseSHACrypt(alg *shaCryptAlg, s string) (*shaCrypt, error) {
	name := alg.scheme.String()
	rest := strings.TrimPrefix(s, alg.prefix)
	rounds := shaCryptDefaultRounds
	if r, ok := strings.CutPrefix(rest, shaCryptRoundsPrefix); ok {
		digits, after, found := strings.Cut(r, "$")
		if !found {
			return nil, fmt.Errorf("malformed %s hash: %q parameter without a salt", name, "rounds=")
		}
		n, err := parseRounds(digits)
		if err != nil {
			return nil, fmt.Errorf("malformed %s hash: %v", name, err)
		}
		rounds, rest = n, after
	}
	salt, digest, found := strings.Cut(rest, "$")
	switch {
	case !found:
		return nil, fmt.Errorf("malformed %s hash: no '$' between salt and digest", name)
	case len(salt) > shaCryptMaxSalt:
		return nil, fmt.Errorf("malformed %s hash: salt has %d characters, more than %d", name, len(salt), shaCryptMaxSalt)
	case !isCrypt64(salt):
		return nil, fmt.Errorf("malformed %s hash: salt has a character outside [./0-9A-Za-z]", name)
	case len(digest) != crypt64Len(alg.size):
		return nil, fmt.Errorf("malformed %s hash: digest has %d characters, want %d", name, len(digest), crypt64Len(alg.size))
	case !isCrypt64(digest):
		return nil, fmt.Errorf("malformed %s hash: digest has a character outside [./0-9A-Za-z]", name)
	case !crypt64Canonical(digest, alg.size):
		return nil, fmt.Errorf("malformed %s hash: digest's last character has unused bits set", name)
	}
	return &shaCrypt{alg: alg, rounds: rounds, salt: []byte(salt), want: []byte(digest)}, nil
}

// parseRounds parses the N of a stored rounds=N: decimal digits as crypt(3)
// writes them, within the specification's range.
func parseRounds(digits string) (int, error) {
	if digits == "" || (len(digits) > 1 && digits[0] == '0') || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, fmt.Errorf("rounds is not a decimal number without leading zeros")
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > shaCryptMaxRounds {
		return 0, fmt.Errorf("rounds is above the maximum %d", shaCryptMaxRounds)
	}
	if n < shaCryptMinRounds {
		return 0, fmt.Errorf("rounds=%d is below the minimum %d (crypt(3) would have used and written rounds=%d, so this hash cannot verify)",
			n, shaCryptMinRounds, shaCryptMinRounds)
	}
	return n, nil
}

func (c *shaCrypt) verify(password []byte) bool {
	var sum [sha512.Size]byte
	var enc [86]byte // crypt64Len(sha512.Size)
	got := appendCrypt64(enc[:0], shaCryptSum(c.alg, password, c.salt, c.rounds, sum[:0]), c.alg.order)
	return subtle.ConstantTimeCompare(got, c.want) == 1
}

func (c *shaCrypt) work() work { return work{c.alg.scheme, c.rounds} }

func (c *shaCrypt) dummy() verifier {
	return &shaCrypt{
		alg:    c.alg,
		rounds: c.rounds,
		salt:   []byte(strings.Repeat(".", len(c.salt))),
		want:   []byte(strings.Repeat(".", len(c.want))),
	}
}

// shaCryptSum computes steps 1 to 21 of the specification and appends the
// raw digest (before step 22's encoding) to dst. salt is at most 16 bytes.
// The work is about rounds hash calls over len(key) bytes each, plus
// len(key)² bytes at step 14; Verify bounds len(key).
func shaCryptSum(alg *shaCryptAlg, key, salt []byte, rounds int, dst []byte) []byte {
	h := alg.newHash()
	size := alg.size
	var scratch [3 * sha512.Size]byte
	// Steps 4-8: B = H(key salt key).
	h.Write(key)
	h.Write(salt)
	h.Write(key)
	b := h.Sum(scratch[0:0:size])

	// Steps 1-3 and 9-12: A = H(key salt B-repeated-to-len(key) bits-of-len(key)).
	h.Reset()
	h.Write(key)
	h.Write(salt)
	for n := len(key); n > 0; n -= size {
		h.Write(b[:min(n, size)])
	}
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(key)
		}
	}
	a := h.Sum(scratch[size : size : 2*size])

	// Steps 13-16: P = DP repeated to len(key), DP = H(key repeated len(key) times).
	h.Reset()
	for range len(key) {
		h.Write(key)
	}
	dp := h.Sum(scratch[0:0:size]) // B is no longer needed
	p := make([]byte, len(key))
	for i := 0; i < len(p); i += size {
		copy(p[i:], dp)
	}

	// Steps 17-20: S = DS truncated to len(salt), DS = H(salt repeated 16+A[0] times).
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	s := h.Sum(scratch[2*size : 2*size : 3*size])[:len(salt)]

	// Step 21: the rounds, numbered from 0.
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(a)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(a)
		} else {
			h.Write(p)
		}
		a = h.Sum(a[:0])
	}
	return append(dst, a...)
}
