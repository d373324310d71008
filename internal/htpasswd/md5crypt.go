package htpasswd

import (
	"crypto/md5"
	"crypto/subtle"
	"fmt"
	"strings"
)

// md5-crypt, Poul-Henning Kamp's FreeBSD algorithm ($1$), and Apache's apr1
// ($apr1$), which is the same algorithm with "$apr1$" as its magic string
// (APR's apr_md5_encode). Both are legacy: 1000 MD5 iterations are cheap to
// brute-force. Written from the algorithm as FreeBSD's crypt-md5.c defines it;
// the hash function is the standard library's.

const (
	md5CryptMagic   = "$1$"
	apr1Magic       = "$apr1$"
	md5CryptMaxSalt = 8
	md5CryptRounds  = 1000
)

// md5CryptOrder is the byte order of the final encoding.
var md5CryptOrder = []uint8{0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 4, 10, 5, 11}

// md5Crypt is a parsed $1$ or $apr1$ entry.
type md5Crypt struct {
	scheme scheme
	magic  string
	salt   []byte
	want   []byte // the stored digest, crypt64-encoded
}

// parseMD5Crypt parses "<magic>salt$digest". As with SHA-crypt, a salt longer
// than crypt(3) keeps (8) is an error.
func parseMD5Crypt(sc scheme, magic, s string) (*md5Crypt, error) {
	name := sc.String()
	salt, digest, found := strings.Cut(strings.TrimPrefix(s, magic), "$")
	switch {
	case !found:
		return nil, fmt.Errorf("malformed %s hash: no '$' between salt and digest", name)
	case len(salt) > md5CryptMaxSalt:
		return nil, fmt.Errorf("malformed %s hash: salt has %d characters, more than %d", name, len(salt), md5CryptMaxSalt)
	case !isCrypt64(salt):
		return nil, fmt.Errorf("malformed %s hash: salt has a character outside [./0-9A-Za-z]", name)
	case len(digest) != crypt64Len(md5.Size):
		return nil, fmt.Errorf("malformed %s hash: digest has %d characters, want %d", name, len(digest), crypt64Len(md5.Size))
	case !isCrypt64(digest):
		return nil, fmt.Errorf("malformed %s hash: digest has a character outside [./0-9A-Za-z]", name)
	case !crypt64Canonical(digest, md5.Size):
		return nil, fmt.Errorf("malformed %s hash: digest's last character has unused bits set", name)
	}
	return &md5Crypt{scheme: sc, magic: magic, salt: []byte(salt), want: []byte(digest)}, nil
}

func (c *md5Crypt) verify(password []byte) bool {
	var enc [22]byte // crypt64Len(md5.Size)
	sum := md5CryptSum(c.magic, password, c.salt)
	got := appendCrypt64(enc[:0], sum[:], md5CryptOrder)
	return subtle.ConstantTimeCompare(got, c.want) == 1
}

func (c *md5Crypt) work() work { return work{c.scheme, md5CryptRounds} }

func (c *md5Crypt) dummy() verifier {
	return &md5Crypt{
		scheme: c.scheme,
		magic:  c.magic,
		salt:   []byte(strings.Repeat(".", len(c.salt))),
		want:   []byte(strings.Repeat(".", len(c.want))),
	}
}

// md5CryptSum returns the raw md5-crypt digest of key with the given magic
// string and salt (at most 8 bytes).
func md5CryptSum(magic string, key, salt []byte) [md5.Size]byte {
	var fin [md5.Size]byte
	h := md5.New()
	// Alternate sum: MD5(key salt key).
	h.Write(key)
	h.Write(salt)
	h.Write(key)
	h.Sum(fin[:0])

	h.Reset()
	h.Write(key)
	h.Write([]byte(magic))
	h.Write(salt)
	for n := len(key); n > 0; n -= md5.Size {
		h.Write(fin[:min(n, md5.Size)])
	}
	// "Then something really weird": for each bit of len(key), lowest
	// first, a zero byte if it is set, else the key's first byte.
	var zero [1]byte
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(zero[:])
		} else {
			h.Write(key[:1])
		}
	}
	h.Sum(fin[:0])

	for i := range md5CryptRounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(key)
		} else {
			h.Write(fin[:])
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(key)
		}
		if i&1 != 0 {
			h.Write(fin[:])
		} else {
			h.Write(key)
		}
		h.Sum(fin[:0])
	}
	return fin
}
