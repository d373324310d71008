// Package keyedmac computes keyed hashes under one fixed key without
// keying them again every time: HMACs (MAC) and secret-prefix SHA-256
// (Prefix).
//
// Keying an HMAC hashes the key's inner and outer pads: two of the few
// SHA-2 blocks that an HMAC of a short message costs, and in Wasm (where
// Go's SHA-256 runs about 1.7 µs a block) the larger part of verifying an
// HS256 token. A MAC keys one state when first used and then restores it
// with Reset, which Go's HMAC does from saved pad states.
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
	mac []byte   // the latest HMAC, in buf
	buf [64]byte // room for the HMAC of any SHA-2 hash
}

// New returns the MAC of h under key (copied).
func New(h func() hash.Hash, key []byte) *MAC {
	return &MAC{h: h, key: append([]byte(nil), key...)}
}

// Equal reports, in constant time, whether mac is the HMAC of the
// concatenation of parts. It allocates nothing.
func (m *MAC) Equal(mac []byte, parts ...string) bool {
	s := m.take(parts)
	ok := hmac.Equal(s.mac, mac)
	m.put(s)
	return ok
}

// take takes the keyed state out of m (or keys a new one if another
// computation holds it) and computes the HMAC of parts into its buffer,
// which only the caller holds until put.
func (m *MAC) take(parts []string) *keyed {
	s := m.state.Swap(nil)
	if s == nil {
		s = &keyed{h: hmac.New(m.h, m.key)}
	}
	for _, p := range parts {
		// Write only reads its argument: a view of p's bytes saves a copy.
		s.h.Write(unsafe.Slice(unsafe.StringData(p), len(p)))
	}
	s.mac = s.h.Sum(s.buf[:0])
	return s
}

// put resets the state to the keyed one and returns it to m.
func (m *MAC) put(s *keyed) {
	s.h.Reset()
	m.state.Store(s)
}
