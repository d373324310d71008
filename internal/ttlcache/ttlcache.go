// Package ttlcache is the bounded, expiring cache behind the per-VM caches
// of verified credentials (Basic passwords, JWTs). It is used from one
// thread (a proxy-wasm VM is single-threaded) and is not safe for
// concurrent use.
package ttlcache

import "time"

// Key is a cache key: a hash of the credential, never the credential.
type Key = [32]byte

// Cache holds at most max entries; when full, the oldest insertion is
// evicted first. An entry is served only before its expiry.
type Cache[V any] struct {
	max     int
	entries map[Key]entry[V]
	order   []Key // insertion order, for eviction
}

type entry[V any] struct {
	until time.Time
	value V
}

// New returns a cache of at most max entries (max > 0).
func New[V any](max int) *Cache[V] {
	return &Cache[V]{max: max, entries: make(map[Key]entry[V], min(max, 1024))}
}

// Get returns k's value if it has not expired at now and keep (if not nil)
// accepts it; otherwise it drops the entry.
func (c *Cache[V]) Get(k Key, now time.Time, keep func(V) bool) (V, bool) {
	e, ok := c.entries[k]
	if ok && now.Before(e.until) && (keep == nil || keep(e.value)) {
		return e.value, true
	}
	if ok {
		delete(c.entries, k)
	}
	var zero V
	return zero, false
}

// Put stores v under k until the given time.
func (c *Cache[V]) Put(k Key, v V, until time.Time) {
	if _, ok := c.entries[k]; !ok {
		for len(c.entries) >= c.max && len(c.order) > 0 {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, k)
	}
	c.entries[k] = entry[V]{until: until, value: v}
	if len(c.order) > 2*c.max {
		// Forget keys that Get already dropped.
		live := c.order[:0]
		for _, o := range c.order {
			if _, ok := c.entries[o]; ok {
				live = append(live, o)
			}
		}
		c.order = live
	}
}

// Len is the number of entries (expired ones included until touched).
func (c *Cache[V]) Len() int { return len(c.entries) }
