// Package basic authenticates requests with HTTP Basic credentials
// (RFC 7617) against htpasswd content, and caches successful verifications
// per VM: bcrypt at cost 10 takes about 95 ms in a Go Wasm VM, on the
// proxy's worker thread.
package basic

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/keyedmac"
	"github.com/wasm-authn/wasm-authn/internal/ttlcache"
)

// Verifier checks a user's password (an *htpasswd.File).
type Verifier interface {
	Verify(user, password string) bool
}

// MaxHeaderLength bounds the Authorization value this provider decodes.
const MaxHeaderLength = 4096

// Provider is a compiled basic provider. Its configuration is immutable;
// the cache is per VM.
type Provider struct {
	name      string
	users     Verifier
	keep      bool
	challenge string
	cache     *Cache
}

// New returns a provider. cache may be nil to disable caching.
func New(name, realm string, users Verifier, keep bool, cache *Cache) *Provider {
	return &Provider{
		name:      name,
		users:     users,
		keep:      keep,
		challenge: `Basic realm="` + realm + `", charset="UTF-8"`,
		cache:     cache,
	}
}

func (p *Provider) Name() string      { return p.name }
func (p *Provider) Method() string    { return "basic" }
func (p *Provider) Challenge() string { return p.challenge }

// Authenticate reads "Authorization: Basic <base64(user:password)>".
// Other schemes on Authorization are not this provider's credential.
func (p *Provider) Authenticate(req *authn.Request) authn.Verdict {
	var cred string
	found := 0
	for v := range req.Each("authorization") {
		if c, ok := cutBasic(v); ok {
			cred = c
			found++
		}
	}
	switch {
	case found == 0:
		return authn.Verdict{Outcome: authn.Absent}
	case found > 1:
		return invalid(authn.ReasonMultipleCredentials, "more than one Basic credential in the request")
	}
	if len(cred) > MaxHeaderLength {
		return invalid(authn.ReasonCredentialTooLarge, "the Basic credential is too long")
	}
	valid := func(user string) authn.Verdict {
		v := authn.Verdict{Outcome: authn.Valid, Identity: authn.Identity{Principal: user}}
		if !p.keep {
			v.Strip.RemoveHeaders = authn.AppendName(nil, authorization)
		}
		return v
	}
	// The cache is keyed by the credential as sent: strict base64 has one
	// spelling per user and password, and an entry is made only after the
	// credential decoded and verified, so a hit needs neither again.
	var k ttlcache.Key
	if p.cache != nil {
		k = p.cache.key(p.name, cred)
		if user, ok := p.cache.get(k, req.Now); ok {
			v := valid(user)
			v.CacheHit = true
			return v
		}
	}
	user, pass, err := Decode(cred)
	if err != nil {
		return authn.Verdict{Outcome: authn.Invalid, Err: err}
	}
	if !p.users.Verify(user, pass) {
		bad := invalid(authn.ReasonInvalidCredential, "the user name or password is not valid")
		bad.CacheMiss = p.cache != nil
		return bad
	}
	v := valid(user)
	if p.cache != nil {
		p.cache.put(k, user, req.Now)
		v.CacheMiss = true
	}
	return v
}

// authorization is the header a Basic credential is removed from.
var authorization = authn.Name("authorization")

func invalid(r authn.Reason, desc string) authn.Verdict {
	return authn.Verdict{Outcome: authn.Invalid, Err: authn.Deny(r, desc)}
}

// cutBasic returns the token68 after a case-insensitive "Basic" scheme.
func cutBasic(v string) (string, bool) {
	const scheme = "basic"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	rest := v[len(scheme):]
	if rest == "" {
		return "", true // "Basic" with nothing: malformed, but ours
	}
	if rest[0] != ' ' {
		return "", false // e.g. "Basically"
	}
	return strings.Trim(rest, " "), true
}

// Decode parses the base64 token of a Basic credential into user and
// password (RFC 7617 §2): the user-id is everything before the first colon
// and must not be empty; the password may contain colons; both must be
// valid UTF-8 without control characters.
func Decode(token string) (user, pass string, err *authn.Error) {
	// Go's decoder skips CR and LF even in strict mode: accept only the
	// base64 alphabet, so that one credential has one spelling.
	for i := 0; i < len(token); i++ {
		if c := token[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return "", "", authn.Deny(authn.ReasonMalformedCredential, "the Basic credential is not valid base64")
		}
	}
	raw, e := base64.StdEncoding.Strict().DecodeString(token)
	if e != nil || token == "" {
		return "", "", authn.Deny(authn.ReasonMalformedCredential, "the Basic credential is not valid base64")
	}
	// raw is this call's own buffer and is never written again: the
	// strings may share it instead of copying it.
	s := unsafe.String(unsafe.SliceData(raw), len(raw))
	if !utf8.ValidString(s) {
		return "", "", authn.Deny(authn.ReasonMalformedCredential, "the Basic credential is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", "", authn.Deny(authn.ReasonMalformedCredential, "the Basic credential contains control characters")
		}
	}
	user, pass, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", authn.Deny(authn.ReasonMalformedCredential, "the Basic credential has no colon")
	}
	if user == "" {
		return "", "", authn.Deny(authn.ReasonMalformedCredential, "the Basic user name is empty")
	}
	return user, pass, nil
}

// Cache remembers successful verifications for a bounded time and number of
// entries, with the user name each verified. It is keyed by SHA-256 of the
// credential (the base64 token as sent) after a per-VM random secret block
// (keyedmac.Prefix: one compression for a short credential, half an
// HMAC's), so the cache never holds a password or an offline-checkable
// hash of one; its keys never leave the VM. Failures are never cached.
type Cache struct {
	hash    *keyedmac.Prefix
	ttl     time.Duration
	entries *ttlcache.Cache[string]
}

// NewCache returns a cache; key must be sha256.BlockSize (64) random,
// secret bytes.
func NewCache(key []byte, maxEntries int, ttl time.Duration) (*Cache, error) {
	h, err := keyedmac.NewPrefix(key)
	if err != nil {
		return nil, err
	}
	return &Cache{hash: h, ttl: ttl, entries: ttlcache.New[string](maxEntries)}, nil
}

// key is SHA-256(secret block || provider 0x00 token): a provider name and
// a base64 token hold no NUL, so the parts cannot shift.
func (c *Cache) key(provider, token string) ttlcache.Key {
	return c.hash.Sum32(provider, "\x00", token)
}

// get returns the user whose credential k is, if it verified within the TTL.
func (c *Cache) get(k ttlcache.Key, now time.Time) (string, bool) {
	return c.entries.Get(k, now, nil)
}

func (c *Cache) put(k ttlcache.Key, user string, now time.Time) {
	c.entries.Put(k, user, now.Add(c.ttl))
}

// Len is the number of cached entries.
func (c *Cache) Len() int { return c.entries.Len() }
