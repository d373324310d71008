// Package htpasswd parses htpasswd files and verifies HTTP Basic passwords
// (RFC 7617) against them.
//
// Parse runs once, when the plugin is configured (proxy_on_configure): it
// checks every line, reports every problem by line number, and decodes
// everything a later check needs. The resulting File is immutable. Verify
// runs per request and touches no host API; it is the only code here on the
// request path. It does not panic, and it allocates a fixed handful of
// buffers per call whatever the number of rounds (bcrypt's cipher state, about
// 5 KB, is the largest).
//
// # Formats
//
// Accepted: bcrypt ($2y$ as Apache's htpasswd -B writes it, $2b$, $2a$),
// checked by golang.org/x/crypto/bcrypt; SHA-256-crypt ($5$) and
// SHA-512-crypt ($6$), implemented in this package from Ulrich Drepper's
// specification "Unix crypt using SHA-256 and SHA-512" on the standard
// library's hashes (the one maintained Go module that has them allocates on
// every round, and none has apr1).
//
// Accepted only with Options.AllowLegacy: {SHA} (unsalted SHA-1), {SSHA}
// (one salted SHA-1, RFC 2307 style, from OpenLDAP's slappasswd or nginx's
// documentation), Apache's
// $apr1$ and md5-crypt $1$ (Poul-Henning Kamp's algorithm, which $apr1$ only
// renames, so supporting both costs nothing; $1$ is what openssl passwd -1
// writes and nginx reads).
//
// Never accepted: plaintext, traditional DES crypt, and anything else.
//
// # Security
//
// Verify spends about the same time on an unknown user as on a known one
// (it checks a stand-in hash of the file's most common kind and cost),
// compares digests in constant time, and refuses passwords over
// MaxPasswordLength bytes, whose cost SHA-crypt would multiply. Error messages
// and warnings name lines, formats and numeric parameters, never a hash or a
// password.
package htpasswd
