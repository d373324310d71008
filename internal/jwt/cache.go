package jwt

import (
	"crypto/sha256"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// cache remembers verified tokens, per provider per VM. It is keyed by the
// SHA-256 of the token, bounded in entries (the oldest is evicted first),
// and an entry is used only
//
//   - before the earlier of the token's exp (plus the clock skew the full
//     check allows) and the insertion time plus the TTL, and
//   - while the key that verified the token is in the current key set.
//
// Failures are never cached. Rule constraints are not part of an entry:
// the policy checks them on every request against the cached claims.
type cache struct {
	max     int
	ttl     time.Duration
	entries map[[sha256.Size]byte]*cacheEntry
	order   [][sha256.Size]byte // insertion order, for eviction
}

type cacheEntry struct {
	until    time.Time
	key      [32]byte // Fingerprint of the verifying key
	identity authn.Identity
}

func newCache(max int, ttl time.Duration) *cache {
	return &cache{max: max, ttl: ttl, entries: make(map[[sha256.Size]byte]*cacheEntry, min(max, 1024))}
}

func (c *cache) get(k [sha256.Size]byte, now time.Time, set *KeySet) *cacheEntry {
	e := c.entries[k]
	if e == nil {
		return nil
	}
	if !now.Before(e.until) || !set.Has(e.key) {
		delete(c.entries, k)
		return nil
	}
	return e
}

func (c *cache) put(k [sha256.Size]byte, e *cacheEntry) {
	if _, ok := c.entries[k]; !ok {
		for len(c.entries) >= c.max && len(c.order) > 0 {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, k)
	}
	c.entries[k] = e
	if len(c.order) > 2*c.max {
		live := c.order[:0]
		for _, o := range c.order {
			if _, ok := c.entries[o]; ok {
				live = append(live, o)
			}
		}
		c.order = live
	}
}

// Len is the number of cached entries.
func (c *cache) len() int { return len(c.entries) }
