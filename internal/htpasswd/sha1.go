package htpasswd

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// {SHA}: the standard base64 of one unsalted SHA-1 of the password, as
// `htpasswd -s` writes it. Legacy: it is a single fast hash, so precomputed
// tables and GPUs make short work of it.

const sha1Prefix = "{SHA}"

// sha1Hash is a parsed {SHA} entry.
type sha1Hash struct {
	sum [sha1.Size]byte
}

func parseSHA1(s string) (*sha1Hash, error) {
	enc := strings.TrimPrefix(s, sha1Prefix)
	if len(enc) != base64.StdEncoding.EncodedLen(sha1.Size) {
		return nil, fmt.Errorf("malformed {SHA} hash: %d characters after {SHA}, want %d", len(enc), base64.StdEncoding.EncodedLen(sha1.Size))
	}
	var buf [sha1.Size + 1]byte // room for 28 characters without padding
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(enc))
	if err != nil || n != sha1.Size {
		return nil, fmt.Errorf("malformed {SHA} hash: not canonical base64 of a 20-byte digest")
	}
	var h sha1Hash
	copy(h.sum[:], buf[:n])
	return &h, nil
}

func (h *sha1Hash) verify(password []byte) bool {
	sum := sha1.Sum(password)
	return subtle.ConstantTimeCompare(sum[:], h.sum[:]) == 1
}

func (h *sha1Hash) work() work { return work{schemeSHA1, 1} }

func (h *sha1Hash) dummy() verifier { return &sha1Hash{} }
