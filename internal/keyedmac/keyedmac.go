// Package keyedmac computes HMACs under one fixed key without keying a new
// HMAC every time.
//
// Keying an HMAC hashes the key's inner and outer pads: two of the few
// SHA-2 blocks that an HMAC of a short message costs, and in Wasm (where
// Go's SHA-256 runs about 1.7 µs a block) the larger part of verifying an
// HS256 token or deriving a cache key. A MAC keys one state when first
// used and then restores it with Reset, which Go's HMAC does from saved
// pad states.
package keyedmac

import (
	"crypto/hmac"
	"hash"
	"sync/atomic"
	"unsafe"
)

// MAC is HMAC with hash h under one key. It is safe for concurrent use: a
// computation takes the keyed state out and puts it back, and one that
// finds it taken keys its own.
type MAC struct {
	h     func() hash.Hash
	key   []byte
	state atomic.Pointer[keyed]
}

type keyed struct {
	h   hash.Hash
	sum [64]byte // room for the HMAC of any SHA-2 hash, see Equal
}

// New returns the MAC of h under key (copied).
func New(h func() hash.Hash, key []byte) *MAC {
	return &MAC{h: h, key: append([]byte(nil), key...)}
}

// Sum appends to dst the HMAC of the concatenation of parts.
func (m *MAC) Sum(dst []byte, parts ...string) []byte {
	s := m.state.Swap(nil)
	if s == nil {
		s = &keyed{h: hmac.New(m.h, m.key)}
	}
	for _, p := range parts {
		// Write only reads its argument: a view of p's bytes saves a copy.
		s.h.Write(unsafe.Slice(unsafe.StringData(p), len(p)))
	}
	dst = s.h.Sum(dst)
	s.h.Reset()
	m.state.Store(s)
	return dst
}

// Equal reports, in constant time, whether mac is the HMAC of the
// concatenation of parts. Unlike Sum it allocates nothing: the HMAC is
// written to the keyed state's own buffer, which only this call holds.
func (m *MAC) Equal(mac []byte, parts ...string) bool {
	s := m.state.Swap(nil)
	if s == nil {
		s = &keyed{h: hmac.New(m.h, m.key)}
	}
	for _, p := range parts {
		s.h.Write(unsafe.Slice(unsafe.StringData(p), len(p)))
	}
	ok := hmac.Equal(s.h.Sum(s.sum[:0]), mac)
	s.h.Reset()
	m.state.Store(s)
	return ok
}
