package mtls

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// CertThumbprintMatches implements the check of RFC 8705 §3 for a
// certificate-bound access token: x5tS256 is the token's cnf["x5t#S256"],
// the base64url encoding without padding of the SHA-256 of the DER client
// certificate (§3.1), and hostHexDigest is Envoy's
// connection.sha256_peer_certificate_digest, the hex of the same digest. It
// reports whether both name the same certificate, comparing the digests in
// constant time.
//
// It rejects (returns false for) anything malformed: x5tS256 that is not
// exactly 43 characters of the base64url alphabet with zero trailing bits
// (padding, '+', '/', whitespace and non-canonical encodings are refused),
// and hostHexDigest that is not 64 hex digits (either case). An empty
// digest, from a connection without a client certificate, never matches.
func CertThumbprintMatches(x5tS256, hostHexDigest string) bool {
	var want, got [sha256.Size]byte
	if len(x5tS256) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	n, err := base64.RawURLEncoding.Strict().Decode(want[:], []byte(x5tS256))
	if err != nil || n != sha256.Size {
		return false
	}
	if !decodeHexDigest(hostHexDigest, &got) {
		return false
	}
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}
