package keyedmac

import (
	"crypto/sha256"
	"encoding"
	"errors"
	"hash"
	"sync/atomic"
	"unsafe"
)

// Prefix is SHA-256 keyed by a secret block: Sum32(parts...) is
// SHA-256(key || parts...), where key is exactly one SHA-256 block (64
// bytes) of random secret. The state after the key block is computed once,
// so an input of up to 55 bytes costs one compression, where an HMAC costs
// two and a re-keyed HMAC four; in Wasm that is most of a cache lookup.
//
// With a random key it is a pseudorandom function for callers that never
// disclose its outputs: SHA-256's length extension lets whoever knows
// Sum32(m) compute Sum32 of m followed by its padding and more, so it is
// no MAC for values an attacker sees. It suits keys of in-memory caches,
// which never leave the VM, where it keeps a credential's hash from being
// checkable offline by someone who reads the memory without the key.
type Prefix struct {
	state []byte // the marshaled SHA-256 state after the key block
	free  atomic.Pointer[prefixState]
}

type prefixState struct {
	h   hash.Hash
	buf [sha256.Size]byte
}

// NewPrefix returns the Prefix hash under key, which must be sha256.BlockSize
// bytes of random secret.
func NewPrefix(key []byte) (*Prefix, error) {
	if len(key) != sha256.BlockSize {
		return nil, errors.New("keyedmac: a prefix key is one SHA-256 block")
	}
	h := sha256.New()
	h.Write(key)
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &Prefix{state: state}, nil
}

// Sum32 returns SHA-256(key || the concatenation of parts). It allocates
// nothing once warm and is safe for concurrent use.
func (p *Prefix) Sum32(parts ...string) (out [32]byte) {
	s := p.free.Swap(nil)
	if s == nil {
		s = &prefixState{h: sha256.New()}
	}
	if err := s.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(p.state); err != nil {
		panic(err) // a state sha256 marshaled itself
	}
	for _, part := range parts {
		// Write only reads its argument: a view of part's bytes saves a copy.
		s.h.Write(unsafe.Slice(unsafe.StringData(part), len(part)))
	}
	copy(out[:], s.h.Sum(s.buf[:0]))
	p.free.Store(s)
	return out
}
