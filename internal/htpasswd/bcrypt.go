package htpasswd

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt entries are checked by golang.org/x/crypto/bcrypt. That package
// treats the minor version letter as opaque (it hashes the same way for
// $2a$, $2b$ and $2y$ and writes the stored letter back before comparing), so
// $2y$ from Apache's htpasswd needs no rewriting. It does not check the
// letter, the cost digits or the length as strictly as a configuration
// should, so parseBcrypt does.

const (
	bcryptLen        = 60 // "$2y$" + "NN$" + 22 salt + 31 digest
	bcryptSaltLen    = 22
	bcryptDigestLen  = 31
	bcryptAlphabet   = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	bcryptWarnCost   = 10
	bcryptPrefixSize = 4
)

// bcryptHash is a parsed bcrypt entry.
type bcryptHash struct {
	hash []byte // the whole stored string, as bcrypt.CompareHashAndPassword takes it
	cost int
}

// isBcrypt reports whether s has a bcrypt prefix this package accepts.
func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// parseBcrypt parses "$2a$", "$2b$" or "$2y$" followed by a two-digit cost in
// 4..31, '$', a 22-character salt and a 31-character digest.
func parseBcrypt(s string) (*bcryptHash, error) {
	if len(s) != bcryptLen {
		return nil, fmt.Errorf("malformed bcrypt hash: %d characters, want %d", len(s), bcryptLen)
	}
	c := s[bcryptPrefixSize:]
	if c[0] < '0' || c[0] > '9' || c[1] < '0' || c[1] > '9' || c[2] != '$' {
		return nil, fmt.Errorf("malformed bcrypt hash: cost is not two decimal digits followed by '$'")
	}
	cost := int(c[0]-'0')*10 + int(c[1]-'0')
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("malformed bcrypt hash: cost %d is outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	salt, digest := c[3:3+bcryptSaltLen], c[3+bcryptSaltLen:]
	switch {
	case !isCrypt64(salt):
		return nil, fmt.Errorf("malformed bcrypt hash: salt has a character outside [./0-9A-Za-z]")
	case !isCrypt64(digest):
		return nil, fmt.Errorf("malformed bcrypt hash: digest has a character outside [./0-9A-Za-z]")
	case strings.IndexByte(bcryptAlphabet, digest[bcryptDigestLen-1])%4 != 0:
		// 31 characters carry 186 bits for a 184-bit digest. (The salt's
		// spare bits are ignored by every implementation, so they are
		// accepted.)
		return nil, fmt.Errorf("malformed bcrypt hash: digest's last character has unused bits set")
	}
	return &bcryptHash{hash: []byte(s), cost: cost}, nil
}

func (b *bcryptHash) verify(password []byte) bool {
	return bcrypt.CompareHashAndPassword(b.hash, password) == nil
}

func (b *bcryptHash) work() work { return work{schemeBcrypt, b.cost} }

func (b *bcryptHash) dummy() verifier {
	h := fmt.Sprintf("$2y$%02d$%s", b.cost, strings.Repeat(".", bcryptSaltLen+bcryptDigestLen))
	return &bcryptHash{hash: []byte(h), cost: b.cost}
}
