package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/wasm-authn/wasm-authn/internal/keyedmac"
)

// Limits on keys.
const (
	// DefaultMinRSABits is the smallest RSA modulus accepted by default.
	DefaultMinRSABits = 2048
	// MaxRSABits is the largest RSA modulus accepted at all: verifying with
	// a larger key costs the worker thread too much.
	MaxRSABits = 8192
	// MaxKeys bounds the number of keys in one set.
	MaxKeys = 100
	// MaxJWKSBytes bounds a JWKS or discovery document body.
	MaxJWKSBytes = 256 << 10
	// MinSecretBytes is the smallest HMAC secret accepted for any HS*.
	MinSecretBytes = 32
)

// Key is one verification key. It is immutable.
type Key struct {
	// ID is the JWK "kid", or "" for none.
	ID string
	// Alg, when set (JWK "alg"), is the only algorithm the key may verify.
	Alg string
	// Type is the key's type.
	Type KeyType
	// Public is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey; nil
	// for a shared secret.
	Public crypto.PublicKey

	secret []byte           // HS*: the shared secret
	macs   [3]*keyedmac.MAC // HS*: keyed HMAC states, see verifyMAC
	spki   []byte           // DER SubjectPublicKeyInfo of Public
	fp     [32]byte         // identity of the key material, see Fingerprint
	bits   int              // RSA modulus size
}

// SPKI returns the key's DER-encoded SubjectPublicKeyInfo (RFC 5280), nil
// for a secret. It is computed once when the key is parsed; a host
// verifier passes it to Envoy's verify_signature. Callers must not modify
// it.
func (k *Key) SPKI() []byte { return k.spki }

// Fingerprint identifies the key material: the SHA-256 of the type and the
// SubjectPublicKeyInfo (for a secret, of a domain-separated hash of it).
// Two keys with the same material have the same fingerprint, whatever
// their kid; the verified-token cache uses it to tell whether the key that
// verified a token is still in the current set.
func (k *Key) Fingerprint() [32]byte { return k.fp }

// Bits is the RSA modulus size in bits, 0 for other keys.
func (k *Key) Bits() int { return k.bits }

// fits reports whether k may verify a token signed with a: same key type,
// the curve a names, and k's own "alg" (if any) naming a's operation (a
// itself, or its other name: EdDSA and Ed25519).
func (k *Key) fits(a *algorithm) bool {
	if k.Type != a.key || k.Alg != "" && k.Alg != a.name && k.Alg != a.sameAs {
		return false
	}
	if a.key == KeyEC {
		return k.Public.(*ecdsa.PublicKey).Curve == a.curve
	}
	return true
}

func newPublicKey(id, alg string, pub crypto.PublicKey) (*Key, error) {
	k := &Key{ID: id, Alg: alg, Public: pub}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k.Type, k.bits = KeyRSA, p.N.BitLen()
		if k.bits > MaxRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is over the maximum of %d", k.bits, MaxRSABits)
		}
		if p.E < 3 || p.E&1 == 0 {
			return nil, errors.New("RSA public exponent is not an odd number of at least 3")
		}
		if hasROCAFingerprint(p.N) {
			return nil, errors.New("RSA key with the ROCA fingerprint (CVE-2017-15361): its private key can be computed from it")
		}
	case *ecdsa.PublicKey:
		k.Type = KeyEC
		switch p.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, errors.New("EC key on a curve other than P-256, P-384 or P-521")
		}
	case ed25519.PublicKey:
		k.Type = KeyOKP
		if len(p) != ed25519.PublicKeySize {
			return nil, errors.New("Ed25519 key of the wrong size")
		}
	default:
		return nil, fmt.Errorf("unsupported public key type %T", pub)
	}
	if alg != "" {
		a := algorithms[alg]
		if a == nil || a.key == KeyOct {
			return nil, fmt.Errorf("unsupported key algorithm %q", alg)
		}
		if !k.fits(a) {
			return nil, fmt.Errorf("key algorithm %q does not match the key", alg)
		}
	}
	der, err := marshalSPKI(pub)
	if err != nil {
		return nil, err
	}
	k.spki = der
	h := sha256.New()
	h.Write([]byte(k.Type.String()))
	h.Write([]byte{0})
	h.Write(der)
	h.Sum(k.fp[:0])
	return k, nil
}

// NewSecretKey returns the key of an explicitly configured HMAC secret
// (RFC 7518 §3.2): at least MinSecretBytes long.
func NewSecretKey(secret []byte) (*Key, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("an HMAC secret must be at least %d bytes", MinSecretBytes)
	}
	k := &Key{Type: KeyOct, secret: append([]byte(nil), secret...)}
	for _, a := range algorithms {
		if a.key == KeyOct {
			k.macs[a.macSlot] = keyedmac.New(a.hash.New, secret)
		}
	}
	inner := sha256.Sum256(secret)
	h := sha256.New()
	h.Write([]byte("oct"))
	h.Write([]byte{0})
	h.Write(inner[:])
	h.Sum(k.fp[:0])
	return k, nil
}

// KeySet is an immutable set of verification keys.
type KeySet struct {
	keys []*Key
	fps  map[[32]byte]bool
	kids map[string]bool
}

// NewKeySet returns a set holding keys.
func NewKeySet(keys ...*Key) *KeySet {
	s := &KeySet{keys: keys, fps: make(map[[32]byte]bool, len(keys)), kids: map[string]bool{}}
	for _, k := range keys {
		s.fps[k.fp] = true
		if k.ID != "" {
			s.kids[k.ID] = true
		}
	}
	return s
}

// Len is the number of keys.
func (s *KeySet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// Keys returns the keys in order. Callers must not modify the slice.
func (s *KeySet) Keys() []*Key {
	if s == nil {
		return nil
	}
	return s.keys
}

// Has reports whether a key with fingerprint fp is in the set.
func (s *KeySet) Has(fp [32]byte) bool { return s != nil && s.fps[fp] }

// HasSymmetric reports whether the set holds an HMAC secret.
func (s *KeySet) HasSymmetric() bool {
	for _, k := range s.Keys() {
		if k.Type == KeyOct {
			return true
		}
	}
	return false
}

// candidates returns the keys that may verify a token signed with a and
// carrying kid, and the failure when there are none. The rule, which never
// tries every key:
//
//   - a token with a kid: the keys with that kid whose type fits a (several
//     keys may share a kid); if no key has that kid, the one key of the
//     set that fits a and has no kid at all (a PEM key, say), if the set
//     has exactly one such key; else FailUnknownKID.
//   - a token without a kid: the key that fits a, if exactly one does;
//     else FailNoKey.
//
// Callers must not modify the slice, which may share the set's array.
func (s *KeySet) candidates(a *algorithm, kid string, hasKID bool) ([]*Key, Failure) {
	if s == nil {
		return nil, FailNoKey
	}
	if hasKID && s.kids[kid] {
		first, n := -1, 0
		for i, k := range s.keys {
			if k.ID == kid && k.fits(a) {
				if first < 0 {
					first = i
				}
				n++
			}
		}
		switch n {
		case 0:
			return nil, FailNoKey // the kid names a key of another type: confusion
		case 1:
			return s.one(first), FailNone
		}
		out := make([]*Key, 0, n)
		for _, k := range s.keys[first:] {
			if k.ID == kid && k.fits(a) {
				out = append(out, k)
			}
		}
		return out, FailNone
	}
	only, n := -1, 0
	for i, k := range s.keys {
		if k.fits(a) && (!hasKID || k.ID == "") {
			only = i
			n++
		}
	}
	switch {
	case n == 1:
		return s.one(only), FailNone
	case hasKID:
		return nil, FailUnknownKID
	}
	return nil, FailNoKey
}

// one returns the set's i-th key as a one-key slice of the set's own
// array, without allocating; callers must not modify it.
func (s *KeySet) one(i int) []*Key { return s.keys[i : i+1 : i+1] }

// ParseJWKS parses a JSON Web Key Set (RFC 7517 §5) for verification. Keys
// this package cannot or must not use are skipped, each with a reason in
// skipped: a kty other than RSA, EC and OKP/Ed25519 (shared secrets come
// only from configuration, never from a key set), "use" other than "sig",
// "key_ops" without "verify", an unsupported "alg", RSA moduli under
// minRSABits or over MaxRSABits or with the ROCA fingerprint, RSA public
// exponents that are not odd and at least 3, EC points that are not on
// their curve (a coordinate shorter than the curve's size, or longer by
// leading zero bytes, is read as the number it encodes; see parseJWK), and
// keys with private members. "x5c", "x5t" and "x5u" are ignored: the key
// is the JWK's own members. A document without "keys" whose members are
// all PEM certificates is read as a map of kid to X.509 certificate
// (Google's format; see isCertificateMap). err is set when the document is
// not a key set at all: not a strict JSON object (no duplicate member
// names), no "keys" array, more than MaxKeys keys, or larger than
// MaxJWKSBytes.
func ParseJWKS(data []byte, minRSABits int) (set *KeySet, skipped []string, err error) {
	set, sk, err := ParseKeySet(data, minRSABits)
	for _, k := range sk {
		skipped = append(skipped, k.String())
	}
	return set, skipped, err
}

// SkippedKey is a key of a set that ParseKeySet did not take.
type SkippedKey struct {
	Index  int    // in the "keys" array
	Reason string // never holds key material
	// Other: the key is meant for something else ("use" other than "sig",
	// "key_ops" without "verify") or is of a type, curve or "alg" this
	// package does not implement (encryption keys, X25519, secp256k1,
	// RSA-OAEP, ...), as identity providers publish next to their signing
	// keys; not a signing key gone wrong.
	Other bool
}

func (k SkippedKey) String() string { return fmt.Sprintf("keys[%d]: %s", k.Index, k.Reason) }

// ParseKeySet is ParseJWKS, with the skipped keys told apart.
func ParseKeySet(data []byte, minRSABits int) (set *KeySet, skipped []SkippedKey, err error) {
	if len(data) > MaxJWKSBytes {
		return nil, nil, fmt.Errorf("the key set is larger than %d bytes", MaxJWKSBytes)
	}
	doc, st := strictObject(data)
	switch st {
	case jsonInvalid:
		return nil, nil, errors.New("the key set is not a JSON object")
	case jsonDuplicate:
		return nil, nil, errors.New("the key set repeats a JSON member name")
	}
	// Entries are the "keys" array's JWKs, or a certificate map's members.
	entries, parse := doc.Get("keys"), func(_, v gjson.Result) (*Key, string, bool) { return parseJWK(v, minRSABits, true) }
	switch {
	case !entries.Exists() && isCertificateMap(doc):
		entries, parse = doc, func(kid, v gjson.Result) (*Key, string, bool) { return certificateKey(kid.Str, v.Str, minRSABits) }
	case !entries.IsArray():
		return nil, nil, errors.New(`the key set has no "keys" array`)
	}
	var keys []*Key
	i := 0
	entries.ForEach(func(name, v gjson.Result) bool {
		if i >= MaxKeys {
			err = fmt.Errorf("the key set has more than %d keys", MaxKeys)
			return false
		}
		k, why, other := parse(name, v)
		if why != "" {
			skipped = append(skipped, SkippedKey{Index: i, Reason: why, Other: other})
		} else {
			keys = append(keys, k)
		}
		i++
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	return NewKeySet(keys...), skipped, nil
}

// isCertificateMap reports whether doc is Google's other key set format:
// an object mapping each kid to a PEM X.509 certificate (what
// www.googleapis.com/oauth2/v1/certs and Firebase's
// robot/v1/metadata/x509/... serve; Envoy's jwt_authn reads it too).
func isCertificateMap(doc gjson.Result) bool {
	n, ok := 0, true
	doc.ForEach(func(_, v gjson.Result) bool {
		n++
		ok = v.Type == gjson.String && strings.HasPrefix(strings.TrimSpace(v.Str), "-----BEGIN CERTIFICATE-----")
		return ok
	})
	return ok && n > 0
}

// certificateKey is the public key of a certificate map's entry, under its
// kid (the certificate itself is not validated: its key is what the
// identity provider publishes), by ParsePEM's rules; an entry that does not
// give one usable key is skipped with the reason why.
func certificateKey(kid, certPEM string, minRSABits int) (*Key, string, bool) {
	ks, err := ParsePEM([]byte(certPEM), kid, minRSABits)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("the certificate of kid %q: %v", kid, err), false
	case len(ks) != 1:
		return nil, fmt.Sprintf("kid %q has %d certificates, not one", kid, len(ks)), false
	}
	return ks[0], "", false
}

var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK parses one key. inSet relaxes one rule for keys of a key set,
// where the key is all that is used: an EC coordinate may be shorter than
// its curve's size, or longer by leading zero bytes (RFC 7518 §6.2.1.2 and
// §6.2.1.3 forbid both, but some identity providers publish them, Keycloak
// before 20 and Java's BigInteger encoding among them); it stands for the
// same point, which must still be on the curve. other is SkippedKey.Other.
func parseJWK(v gjson.Result, minRSABits int, inSet bool) (k *Key, why string, other bool) {
	if !v.IsObject() {
		return nil, "not an object", false
	}
	str := func(name string) (string, bool) {
		m := v.Get(gjson.Escape(name))
		return m.Str, m.Type == gjson.String
	}
	for _, m := range []string{"kty", "kid", "use", "alg", "crv", "n", "e", "x", "y"} {
		if f := v.Get(m); f.Exists() && f.Type != gjson.String {
			return nil, fmt.Sprintf("%q is not a string", m), false
		}
	}
	kty, _ := str("kty")
	if kty == "oct" {
		return nil, "shared secrets are configured explicitly, never in a key set", false
	}
	for _, m := range privateMembers {
		if v.Get(m).Exists() {
			return nil, "the key has private key members", false
		}
	}
	if use, ok := str("use"); ok && use != "sig" {
		return nil, fmt.Sprintf("use %q is not sig", use), true
	}
	if ops := v.Get("key_ops"); ops.Exists() {
		verify := false
		for _, op := range ops.Array() {
			verify = verify || op.Type == gjson.String && op.Str == "verify"
		}
		if !ops.IsArray() || !verify {
			return nil, `key_ops does not include "verify"`, true
		}
	}
	kid, _ := str("kid")
	alg, _ := str("alg")
	if alg != "" && algorithms[alg] == nil {
		return nil, fmt.Sprintf("unsupported key algorithm %q", alg), true
	}
	var pub crypto.PublicKey
	switch kty {
	case "RSA":
		n, err1 := b64(v, "n")
		e, err2 := b64(v, "e")
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, "RSA key without a valid n and e", false
		}
		ev := new(big.Int).SetBytes(e)
		if !ev.IsInt64() || ev.Int64() > 1<<31-1 {
			return nil, "RSA exponent too large", false
		}
		pk := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}
		if bits := pk.N.BitLen(); bits < minRSABits {
			return nil, fmt.Sprintf("RSA key of %d bits is under the minimum of %d", bits, minRSABits), false
		}
		pub = pk
	case "EC":
		crv, _ := str("crv")
		var c elliptic.Curve
		switch crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, fmt.Sprintf("unsupported curve %q", crv), true
		}
		size := (c.Params().BitSize + 7) / 8
		x, err1 := b64(v, "x")
		y, err2 := b64(v, "y")
		if inSet && err1 == nil && err2 == nil {
			x, y = ecCoordinate(x, size), ecCoordinate(y, size)
		}
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, "EC key without x and y of the curve's size", false
		}
		pt := append(append([]byte{4}, x...), y...)
		pk, err := ecdsa.ParseUncompressedPublicKey(c, pt)
		if err != nil {
			return nil, "EC point is not on the curve", false
		}
		pub = pk
	case "OKP":
		if crv, _ := str("crv"); crv != "Ed25519" {
			return nil, fmt.Sprintf("unsupported OKP curve %q", crv), true
		}
		x, err := b64(v, "x")
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, "Ed25519 key without a 32-byte x", false
		}
		pub = ed25519.PublicKey(x)
	default:
		return nil, fmt.Sprintf("unsupported kty %q", kty), true
	}
	k, err := newPublicKey(kid, alg, pub)
	if err != nil {
		return nil, err.Error(), false
	}
	return k, "", false
}

// ecCoordinate returns b as an octet string of size bytes: left-padded with
// zeros if shorter, without its leading zero bytes if longer by them; a
// longer b with a non-zero byte there is returned unchanged (and refused).
func ecCoordinate(b []byte, size int) []byte {
	switch {
	case len(b) == 0 || len(b) == size:
		return b
	case len(b) < size:
		return append(make([]byte, size-len(b), size), b...)
	}
	extra := b[:len(b)-size]
	for _, c := range extra {
		if c != 0 {
			return b
		}
	}
	return b[len(extra):]
}

func b64(v gjson.Result, name string) ([]byte, error) {
	m := v.Get(name)
	if m.Type != gjson.String {
		return nil, errors.New("missing")
	}
	return base64.RawURLEncoding.Strict().DecodeString(m.Str)
}

// ParsePEM parses public keys in PEM: "PUBLIC KEY" (SubjectPublicKeyInfo),
// "RSA PUBLIC KEY" (PKCS #1) or "CERTIFICATE" (its public key only: the
// certificate is not validated). Private keys are an error, so a
// misconfigured secret never becomes a verification key. kid, if not
// empty, is given to every key.
func ParsePEM(data []byte, kid string, minRSABits int) ([]*Key, error) {
	var keys []*Key
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		var pub crypto.PublicKey
		var err error
		switch blk.Type {
		case "PUBLIC KEY":
			pub, err = parseSPKI(blk.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = parsePKCS1(blk.Bytes)
		case "CERTIFICATE":
			var spki []byte
			if spki, err = certificateSPKI(blk.Bytes); err == nil {
				pub, err = parseSPKI(spki)
			}
		default:
			if strings.Contains(blk.Type, "PRIVATE") {
				return nil, fmt.Errorf("PEM block %q is a private key; configure the public key", blk.Type)
			}
			return nil, fmt.Errorf("unsupported PEM block %q", blk.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %v", blk.Type, err)
		}
		k, err := newPublicKey(kid, "", pub)
		if err != nil {
			return nil, err
		}
		if k.Type == KeyRSA && k.bits < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is under the minimum of %d", k.bits, minRSABits)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("data after the last PEM block")
	}
	return keys, nil
}
