package dpop

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// Defaults for Options fields left zero.
const (
	// DefaultMaxProofBytes bounds a DPoP header value. A proof with a
	// 4096-bit RSA key is about 2.5 KB.
	DefaultMaxProofBytes = 8 << 10
	// DefaultMaxJTIBytes bounds "jti" (a UUID is 36 bytes).
	DefaultMaxJTIBytes = 128
	// DefaultMaxAge is how far in the past "iat" may be.
	DefaultMaxAge = 60 * time.Second
	// DefaultFutureSkew is how far in the future "iat" may be.
	DefaultFutureSkew = 5 * time.Second
	// MinRSABits is the smallest RSA modulus ever accepted (and the
	// default); Options.MinRSABits may only raise it.
	MinRSABits = 2048
	// DefaultMaxRSABits is the largest RSA modulus accepted by default: the
	// client chooses the key, and verifying with a larger one costs the
	// worker thread more.
	DefaultMaxRSABits = 4096
)

// ProofType is the only accepted "typ" (RFC 9449 §4.2).
const ProofType = "dpop+jwt"

// DefaultAlgorithms is the allow-list of Options that set none: ES256
// first (what most clients use), then ES384, EdDSA (and Ed25519, its
// name in RFC 9864), PS256 and RS256.
// ES512 is left out because the client picks the key: without the host's
// native check, each ES512 proof costs about 46 ms of the worker thread in
// Wasm (P-521 has no assembly there); list it explicitly to accept it.
// Symmetric algorithms (HS*) and "none" are never accepted.
var DefaultAlgorithms = []string{"ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256"}

// Options are a deployment's rules for DPoP proofs. They are fixed at
// configure time (proxy_on_configure) and must not change afterwards; the
// zero value is valid and means every default. Validate reports settings
// that Verify would silently ignore or tighten.
type Options struct {
	// Realm, if set, is the realm of the DPoP challenge.
	Realm string
	// Algorithms is the "alg" allow-list; nil means DefaultAlgorithms. Only
	// asymmetric algorithms the jwt package implements count: Verify
	// refuses any other, whatever is listed.
	Algorithms []string
	// MinRSABits is the smallest RSA modulus accepted; values below
	// MinRSABits (the constant) mean MinRSABits.
	MinRSABits int
	// MaxRSABits is the largest RSA modulus accepted; 0 means
	// DefaultMaxRSABits, and it never exceeds jwt.MaxRSABits.
	MaxRSABits int
	// MaxProofBytes bounds the proof; 0 means DefaultMaxProofBytes.
	MaxProofBytes int
	// MaxJTIBytes bounds "jti"; 0 means DefaultMaxJTIBytes.
	MaxJTIBytes int
	// MaxAge is how far in the past "iat" may be; 0 means DefaultMaxAge.
	// It is also how long the replay store keeps a proof's jti.
	MaxAge time.Duration
	// FutureSkew is how far in the future "iat" may be; 0 means
	// DefaultFutureSkew, a negative value none.
	FutureSkew time.Duration
	// Verifier, if not nil, checks signatures with the host's native crypto
	// first (Envoy's verify_signature), exactly as for access tokens: see
	// jwt.SignatureVerifier.
	Verifier jwt.SignatureVerifier
}

func (o *Options) allowed() []string {
	if o.Algorithms == nil {
		return DefaultAlgorithms
	}
	return o.Algorithms
}

// allows reports whether alg is in the allow-list and asymmetric.
func (o *Options) allows(alg string) bool {
	return asymmetric(alg) && slices.Contains(o.allowed(), alg)
}

func asymmetric(alg string) bool {
	t := jwt.AlgorithmKeyType(alg)
	return t != 0 && t != jwt.KeyOct
}

func (o *Options) minRSABits() int { return max(o.MinRSABits, MinRSABits) }

func (o *Options) maxRSABits() int {
	if o.MaxRSABits <= 0 {
		return DefaultMaxRSABits
	}
	return min(o.MaxRSABits, jwt.MaxRSABits)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (o *Options) maxAge() time.Duration { return orDefault(o.MaxAge, DefaultMaxAge) }

func (o *Options) futureSkew() time.Duration {
	if o.FutureSkew < 0 {
		return 0
	}
	return orDefault(o.FutureSkew, DefaultFutureSkew)
}

// Validate reports settings Verify would not apply as written: an empty
// (non-nil) or repeated algorithm list, "none", symmetric or unknown
// algorithms, RSA bounds below MinRSABits, above jwt.MaxRSABits or
// crossed, and negative sizes or ages. The configuration calls it once.
func (o Options) Validate() error {
	var errs []error
	if o.Algorithms != nil && len(o.Algorithms) == 0 {
		errs = append(errs, errors.New("the algorithm list is empty"))
	}
	for i, a := range o.Algorithms {
		switch {
		case strings.EqualFold(a, "none"):
			errs = append(errs, errors.New(`"none" is never accepted`))
		case jwt.AlgorithmKeyType(a) == jwt.KeyOct:
			errs = append(errs, fmt.Errorf("%s is symmetric; a DPoP proof needs an asymmetric algorithm", a))
		case jwt.AlgorithmKeyType(a) == 0:
			errs = append(errs, fmt.Errorf("unsupported algorithm %q", a))
		case slices.Contains(o.Algorithms[:i], a):
			errs = append(errs, fmt.Errorf("%s is listed twice", a))
		}
	}
	if o.MinRSABits != 0 && o.MinRSABits < MinRSABits {
		errs = append(errs, fmt.Errorf("the minimum RSA size cannot be under %d bits", MinRSABits))
	}
	if o.MaxRSABits < 0 || o.MaxRSABits > jwt.MaxRSABits {
		errs = append(errs, fmt.Errorf("the maximum RSA size must be at most %d bits", jwt.MaxRSABits))
	} else if o.minRSABits() > o.maxRSABits() {
		errs = append(errs, errors.New("the minimum RSA size is over the maximum"))
	}
	if o.MaxProofBytes < 0 || o.MaxJTIBytes < 0 || o.MaxAge < 0 {
		errs = append(errs, errors.New("sizes and the maximum age cannot be negative"))
	}
	return errors.Join(errs...)
}

// Request is what Verify checks a proof against, built by the filter in
// proxy_on_request_headers.
type Request struct {
	// Method is :method, compared exactly with "htm" (methods are
	// case-sensitive, RFC 9110 §9.1).
	Method string
	// HTU is the request's URI from HTU(:scheme, :authority, :path); ""
	// (when HTU failed) refuses every proof.
	HTU string
	// AccessToken is the token presented with the DPoP scheme, whose hash
	// "ath" must be (RFC 9449 §4.3 check 12). "" means no token (a token
	// endpoint's request): "ath" is then not checked. A resource server
	// always sets it.
	AccessToken string
	// Nonces, when not empty, are the server nonces currently accepted: the
	// proof's "nonce" must be one of them (RFC 9449 §9); an empty entry
	// matches nothing. Issuing and rotating them is the caller's job.
	Nonces []string
	// Now is the current time.
	Now time.Time
}

// Proof is a verified DPoP proof.
type Proof struct {
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of the proof's key,
	// which a DPoP-bound token names in "cnf"."jkt".
	Thumbprint string
	// JTI is the proof's "jti".
	JTI string
	// IssuedAt is the proof's "iat".
	IssuedAt time.Time
	// Expires is IssuedAt + MaxAge: after it Verify refuses the proof as too
	// old, so a replay store may forget JTI then.
	Expires time.Time
	// Alg is the proof's "alg"; Key its "jwk".
	Alg string
	Key *jwt.Key
}

// ProofHeader returns the one DPoP proof among values, every value of the
// request's DPoP header (RFC 9449 §4.3 check 1): none, or an empty one, is
// FailMissingProof; more than one, or one holding a comma (several values
// folded into one line; a compact JWS has no comma), is
// FailMultipleProofs. Surrounding spaces and tabs are removed.
func ProofHeader(values []string) (string, Failure) {
	switch len(values) {
	case 0:
		return "", FailMissingProof
	case 1:
	default:
		return "", FailMultipleProofs
	}
	v := strings.Trim(values[0], " \t")
	switch {
	case v == "":
		return "", FailMissingProof
	case strings.IndexByte(v, ',') >= 0:
		return "", FailMultipleProofs
	}
	return v, FailNone
}

// privateMembers are JWK members that only private or symmetric keys have
// (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// Verify checks a DPoP proof (from ProofHeader) against req, in this fixed
// order, stopping at the first failure (RFC 9449 §4.3):
//
//  1. size: not empty (FailMissingProof), at most MaxProofBytes.
//  2. structure (jwt.ParseJWSUnsafe): three base64url segments, a strict
//     JSON header (no repeated member), no JWE, "crit", "b64" or nested
//     JWT; "alg" present and not "none".
//  3. "typ" exactly "dpop+jwt".
//  4. "alg" asymmetric and in the allow-list.
//  5. "jwk": present, an object, no private or symmetric members, a public
//     key jwt.ParseJWK accepts with RSA integers in their minimal encoding
//     (RFC 7518 §6.3.1), of the type and curve "alg" needs, RSA moduli
//     within [MinRSABits, MaxRSABits].
//  6. the signature with that key: the host's Verifier first, else Go's
//     crypto.
//  7. the claims, parsed once as a strict JSON object, in order: "jti"
//     (a non-empty string of at most MaxJTIBytes), "htm" (== req.Method),
//     "htu" (normalized as HTU does, == req.HTU), "iat" (within
//     [Now-MaxAge, Now+FutureSkew]), "ath" (when req.AccessToken is set,
//     == base64url(SHA-256(token)), compared in constant time), "nonce"
//     (when req.Nonces is set, one of them).
//
// It does not check the access token's binding (CheckBinding) or replay
// (CheckReplay); the caller does both, in that order, after Verify. It
// runs in proxy_on_request_headers and does not modify the stream.
func Verify(proof string, req Request, opts Options) (*Proof, Failure) {
	switch {
	case proof == "":
		return nil, FailMissingProof
	case len(proof) > orDefault(opts.MaxProofBytes, DefaultMaxProofBytes):
		return nil, FailProofTooLarge
	}
	u, jf := jwt.ParseJWSUnsafe(proof)
	switch jf {
	case jwt.FailNone:
	case jwt.FailDuplicateKey:
		return nil, FailDuplicateMember
	case jwt.FailAlgNone:
		return nil, FailAlgNone
	case jwt.FailAlgNotAllowed:
		return nil, FailAlgNotAllowed
	case jwt.FailJWE, jwt.FailCrit, jwt.FailB64, jwt.FailNestedJWT:
		return nil, FailUnsupportedHeader
	default:
		return nil, FailMalformed
	}
	if !u.HasTyp || u.Typ != ProofType {
		return nil, FailType
	}
	if !opts.allows(u.Alg) {
		return nil, FailAlgNotAllowed
	}
	key, f := proofKey(u, &opts)
	if f != FailNone {
		return nil, f
	}
	if jwt.VerifyJWS(u.Alg, key, u.SigningInput, u.Signature, opts.Verifier) != jwt.FailNone {
		return nil, FailSignature
	}
	c, jf := jwt.StrictJSONObject(u.Payload)
	switch jf {
	case jwt.FailNone:
	case jwt.FailDuplicateKey:
		return nil, FailDuplicateMember
	default:
		return nil, FailMalformed
	}
	p := &Proof{Alg: u.Alg, Key: key}
	if f := checkClaims(c, &req, &opts, p); f != FailNone {
		return nil, f
	}
	var d [sha256.Size]byte
	if !thumbprintDigest(key, &d) {
		return nil, FailBadJWK // unreachable: proofKey accepts only RSA, EC and Ed25519
	}
	p.Thumbprint = b64.EncodeToString(d[:])
	return p, FailNone
}

// proofKey reads and checks the header's "jwk" (Verify step 5).
func proofKey(u *jwt.UnsafeJWS, o *Options) (*jwt.Key, Failure) {
	v := u.Header.Get("jwk")
	switch {
	case !v.Exists():
		return nil, FailMissingJWK
	case !v.IsObject():
		return nil, FailBadJWK
	}
	for _, m := range privateMembers {
		if v.Get(m).Exists() {
			return nil, FailPrivateKey
		}
	}
	if kty := v.Get("kty"); kty.Type == gjson.String && kty.Str == "oct" {
		return nil, FailPrivateKey
	}
	k, err := jwt.ParseJWK(v, 0)
	if err != nil {
		return nil, FailBadJWK
	}
	if pub, ok := k.Public.(*rsa.PublicKey); ok {
		// RFC 7518 §6.3.1: n and e use the minimum number of octets, so
		// that one key has one encoding (and one naive thumbprint).
		if v.Get("n").Str != b64.EncodeToString(pub.N.Bytes()) ||
			v.Get("e").Str != b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()) {
			return nil, FailBadJWK
		}
	}
	if !k.Fits(u.Alg) {
		return nil, FailKeyMismatch
	}
	if k.Type == jwt.KeyRSA {
		switch {
		case k.Bits() < o.minRSABits():
			return nil, FailKeyTooSmall
		case k.Bits() > o.maxRSABits():
			return nil, FailKeyTooLarge
		}
	}
	return k, FailNone
}

// checkClaims is Verify step 7; it fills p's JTI, IssuedAt and Expires.
func checkClaims(c gjson.Result, req *Request, o *Options, p *Proof) Failure {
	jti := c.Get("jti")
	if jti.Type != gjson.String || jti.Str == "" {
		return FailJTI
	}
	if len(jti.Str) > orDefault(o.MaxJTIBytes, DefaultMaxJTIBytes) {
		return FailJTITooLong
	}
	if htm := c.Get("htm"); htm.Type != gjson.String || htm.Str != req.Method || req.Method == "" {
		return FailMethod
	}
	htu := c.Get("htu")
	if htu.Type != gjson.String || req.HTU == "" {
		return FailURI
	}
	if n, err := normalizeURI(htu.Str); err != nil || n != req.HTU {
		return FailURI
	}
	iat, ok := jwt.NumericDate(c.Get("iat"))
	if !ok {
		return FailIssuedAt
	}
	switch {
	case iat.Before(req.Now.Add(-o.maxAge())):
		return FailTooOld
	case iat.After(req.Now.Add(o.futureSkew())):
		return FailIssuedInFuture
	}
	if req.AccessToken != "" {
		ath := c.Get("ath")
		if !ath.Exists() {
			return FailMissingATH
		}
		if ath.Type != gjson.String || !hashMatches(ath.Str, req.AccessToken) {
			return FailATHMismatch
		}
	}
	if len(req.Nonces) > 0 {
		n := c.Get("nonce")
		if !n.Exists() {
			return FailNonceMissing
		}
		if n.Type != gjson.String || !oneOf(n.Str, req.Nonces) {
			return FailNonceMismatch
		}
	}
	p.JTI, p.IssuedAt, p.Expires = jti.Str, iat, iat.Add(o.maxAge())
	return FailNone
}

// ATH returns the "ath" of an access token: base64url(SHA-256(token)),
// RFC 9449 §4.2.
func ATH(accessToken string) string {
	d := sha256.Sum256([]byte(accessToken))
	return b64.EncodeToString(d[:])
}

// hashMatches reports, in constant time over the digests, whether enc is
// the strict base64url encoding of SHA-256(input).
func hashMatches(enc, input string) bool {
	var got [sha256.Size]byte
	if len(enc) != ThumbprintLen {
		return false
	}
	if n, err := b64.Strict().Decode(got[:], []byte(enc)); err != nil || n != sha256.Size {
		return false
	}
	want := sha256.Sum256([]byte(input))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// oneOf reports whether s is a non-empty member of list, comparing each in
// constant time; an empty entry in list never matches.
func oneOf(s string, list []string) bool {
	ok := 0
	for _, x := range list {
		if x != "" {
			ok |= subtle.ConstantTimeCompare([]byte(s), []byte(x))
		}
	}
	return ok == 1
}
