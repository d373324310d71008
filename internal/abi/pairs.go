package abi

import (
	"encoding/binary"
	"errors"
	"unsafe"
)

// Header is one header map entry. Keys are lower case on the host side.
type Header struct {
	Key, Value string
}

// EncodePairs serializes headers in the proxy-wasm pair format: a u32 count,
// count (key length, value length) u32 pairs, then every key and value
// followed by a NUL byte. All integers are little-endian.
func EncodePairs(hs []Header) []byte {
	size := 4
	for _, h := range hs {
		size += 8 + len(h.Key) + 1 + len(h.Value) + 1
	}
	buf := make([]byte, size)
	binary.LittleEndian.PutUint32(buf, uint32(len(hs)))
	p := 4
	for _, h := range hs {
		binary.LittleEndian.PutUint32(buf[p:], uint32(len(h.Key)))
		binary.LittleEndian.PutUint32(buf[p+4:], uint32(len(h.Value)))
		p += 8
	}
	for _, h := range hs {
		p += copy(buf[p:], h.Key)
		buf[p] = 0
		p++
		p += copy(buf[p:], h.Value)
		buf[p] = 0
		p++
	}
	return buf
}

var errPairs = errors.New("malformed header pairs")

// VisitPairs parses the pair format and calls f with each entry in order,
// after calling count, if not nil, with the number of entries.
// An empty input (the host's encoding of an empty map, also a single NUL
// byte per the spec) is an empty map. On malformed input it returns an
// error, possibly after f has seen the entries before the fault.
//
// The keys and values share b's memory instead of copying it, two
// allocations fewer per header on every request: b must never change
// afterwards. VisitHeaders passes the buffer the host filled, which nothing
// writes again, and which the strings keep alive.
func VisitPairs(b []byte, count func(n int), f func(key, value string)) error {
	if len(b) == 0 || (len(b) == 1 && b[0] == 0) {
		return nil
	}
	if len(b) < 4 {
		return errPairs
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n)*8 > uint64(len(b)-4) {
		return errPairs
	}
	sizes := b[4 : 4+8*n]
	data := b[4+8*n:]
	if count != nil {
		count(int(n))
	}
	for i := uint32(0); i < n; i++ {
		kl := uint64(binary.LittleEndian.Uint32(sizes[8*i:]))
		vl := uint64(binary.LittleEndian.Uint32(sizes[8*i+4:]))
		if kl+1+vl+1 > uint64(len(data)) {
			return errPairs
		}
		if data[kl] != 0 || data[kl+1+vl] != 0 {
			return errPairs
		}
		f(view(data[:kl]), view(data[kl+1:kl+1+vl]))
		data = data[kl+1+vl+1:]
	}
	return nil
}

// view returns b's bytes as a string without copying them (see VisitPairs).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
