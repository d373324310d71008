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

// {SSHA}: the standard base64 of SHA-1(password || salt) followed by the
// salt (RFC 2307 style, as OpenLDAP's slappasswd writes it with a 4-byte
// salt and nginx reads it). Legacy: salted, but still one fast hash.

const sshaPrefix = "{SSHA}"

// Salt lengths accepted in {SSHA} entries: OpenLDAP writes 4 bytes, other
// tools 8 or 16.
const (
	minSSHASalt = 1
	maxSSHASalt = 64
)

// sshaHash is a parsed {SSHA} entry.
type sshaHash struct {
	sum  [sha1.Size]byte
	salt []byte
}

func parseSSHA(s string) (*sshaHash, error) {
	enc := strings.TrimPrefix(s, sshaPrefix)
	raw, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("malformed {SSHA} hash: not canonical base64")
	}
	if n := len(raw) - sha1.Size; n < minSSHASalt || n > maxSSHASalt {
		return nil, fmt.Errorf("malformed {SSHA} hash: %d bytes after decoding, want a 20-byte digest and a salt of %d to %d bytes",
			len(raw), minSSHASalt, maxSSHASalt)
	}
	h := &sshaHash{salt: raw[sha1.Size:]}
	copy(h.sum[:], raw)
	return h, nil
}

func (h *sshaHash) verify(password []byte) bool {
	d := sha1.New()
	d.Write(password)
	d.Write(h.salt)
	var sum [sha1.Size]byte
	return subtle.ConstantTimeCompare(d.Sum(sum[:0]), h.sum[:]) == 1
}

func (h *sshaHash) work() work { return work{schemeSSHA, 1} }

func (h *sshaHash) dummy() verifier { return &sshaHash{salt: make([]byte, len(h.salt))} }
