package jwt

import (
	"crypto/sha512"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/ttlcache"
)

// cache remembers verified tokens, per provider per VM. It is keyed by the
// SHA-512/256 of the token, bounded in entries (the oldest is evicted first),
// and an entry is used only
//
//   - before the earlier of the token's exp (plus the clock skew the full
//     check allows) and the insertion time plus the TTL, and
//   - while the key that verified the token is in the current key set.
//
// Failures are never cached. Rule constraints are not part of an entry:
// the policy checks them on every request against the cached claims.
type cache struct {
	ttl     time.Duration
	entries *ttlcache.Cache[*cacheEntry]
}

type cacheEntry struct {
	key      [32]byte // Fingerprint of the verifying key
	identity authn.Identity
}

func newCache(max int, ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: ttlcache.New[*cacheEntry](max)}
}

func (c *cache) get(k [sha512.Size256]byte, now time.Time, set *KeySet) *cacheEntry {
	e, _ := c.entries.Get(k, now, func(e *cacheEntry) bool { return set.Has(e.key) })
	return e
}

func (c *cache) put(k [sha512.Size256]byte, until time.Time, e *cacheEntry) {
	c.entries.Put(k, e, until)
}

// Len is the number of cached entries.
func (c *cache) len() int { return c.entries.Len() }
