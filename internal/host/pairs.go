package host

import (
	"encoding/binary"
	"strings"
)

// Host-side limits on parsing a serialized pairs map (proxy-wasm-cpp-host limits.h).
const (
	maxPairsBytes = 1 << 20 // PROXY_WASM_HOST_PAIRS_MAX_BYTES
	maxPairsCount = 1024    // PROXY_WASM_HOST_PAIRS_MAX_COUNT
)

// marshalPairs serializes pairs in the proxy-wasm map format: u32 N, N × (u32 key_len,
// u32 value_len), then each key and value followed by a NUL byte; all little-endian
// (PairsUtil::marshalPairs).
func marshalPairs(pairs [][2]string) []byte {
	size := 4
	for _, p := range pairs {
		size += 8 + len(p[0]) + 1 + len(p[1]) + 1
	}
	b := make([]byte, 4, size)
	binary.LittleEndian.PutUint32(b, uint32(len(pairs)))
	for _, p := range pairs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[0])))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[1])))
	}
	for _, p := range pairs {
		b = append(b, p[0]...)
		b = append(b, 0)
		b = append(b, p[1]...)
		b = append(b, 0)
	}
	return b
}

// unmarshalPairs parses the proxy-wasm map format the way PairsUtil::toPairs does: input over
// 1 MiB, more than 1024 pairs, a missing NUL terminator, a short buffer or trailing bytes all
// yield an empty list, silently.
func unmarshalPairs(b []byte) [][2]string {
	if len(b) > maxPairsBytes || len(b) < 4 {
		return nil
	}
	n := binary.LittleEndian.Uint32(b)
	if n > maxPairsCount {
		return nil
	}
	pos := 4
	if pos+int(n)*8 > len(b) {
		return nil
	}
	sizes := make([][2]int, n)
	for i := range sizes {
		sizes[i][0] = int(binary.LittleEndian.Uint32(b[pos:]))
		sizes[i][1] = int(binary.LittleEndian.Uint32(b[pos+4:]))
		pos += 8
	}
	pairs := make([][2]string, n)
	for i, s := range sizes {
		for j := 0; j < 2; j++ {
			if s[j] < 0 || pos+s[j]+1 > len(b) {
				return nil
			}
			pairs[i][j] = string(b[pos : pos+s[j]])
			pos += s[j]
			if b[pos] != 0 {
				return nil
			}
			pos++
		}
	}
	if pos != len(b) {
		return nil
	}
	return pairs
}

// headerMap is an ordered header map with Envoy HeaderMap semantics as far as a Wasm filter can
// observe them: keys are stored lower-cased by every mutation, iteration is insertion order,
// duplicates are kept.
type headerMap struct {
	entries [][2]string
}

// newHeaderMap builds a map from headers as a codec delivers them: keys lower-cased (Envoy's
// HTTP/1 codec lower-cases header names, HTTP/2 and HTTP/3 require lower case) and
// pseudo-headers in front.
func newHeaderMap(h [][2]string) *headerMap {
	m := &headerMap{entries: make([][2]string, 0, len(h))}
	for _, p := range h {
		m.add(p[0], p[1])
	}
	return m
}

func (m *headerMap) pairs() [][2]string {
	out := make([][2]string, len(m.entries))
	copy(out, m.entries)
	return out
}

// get returns every value of key, in order.
func (m *headerMap) get(key string) []string {
	key = strings.ToLower(key)
	var vs []string
	for _, p := range m.entries {
		if p[0] == key {
			vs = append(vs, p[1])
		}
	}
	return vs
}

// add appends key: value (HeaderMap::addCopy). Like Envoy's HeaderList, pseudo-headers (":x")
// are kept in front of regular headers: a new pseudo-header goes after the last pseudo-header.
func (m *headerMap) add(key, value string) {
	key = strings.ToLower(key)
	e := [2]string{key, value}
	if !strings.HasPrefix(key, ":") {
		m.entries = append(m.entries, e)
		return
	}
	i := 0
	for i < len(m.entries) && strings.HasPrefix(m.entries[i][0], ":") {
		i++
	}
	m.entries = append(m.entries, [2]string{})
	copy(m.entries[i+1:], m.entries[i:])
	m.entries[i] = e
}

// remove deletes every value of key (HeaderMap::remove).
func (m *headerMap) remove(key string) {
	key = strings.ToLower(key)
	out := m.entries[:0]
	for _, p := range m.entries {
		if p[0] != key {
			out = append(out, p)
		}
	}
	m.entries = out
}

// set removes every value of key and adds key: value (HeaderMap::setCopy in current Envoy:
// "remove(key); addCopy(key, value)"). Older Envoy releases replaced only the first value in
// place (runtime flag envoy.reloadable_features.http_set_copy_replace_all_headers); this models
// the current code.
func (m *headerMap) set(key, value string) {
	m.remove(key)
	m.add(key, value)
}

// replaceAll removes every entry and adds pairs (Context::setHeaderMapPairs).
func (m *headerMap) replaceAll(pairs [][2]string) {
	m.entries = m.entries[:0]
	for _, p := range pairs {
		m.add(p[0], p[1])
	}
}

// byteSize is the sum of key and value lengths (HeaderMap::byteSize), which is what
// proxy_get_header_map_size returns.
func (m *headerMap) byteSize() int {
	n := 0
	for _, p := range m.entries {
		n += len(p[0]) + len(p[1])
	}
	return n
}

// joined returns the values of key joined with "," (HeaderUtility::getAllOfHeaderAsString), and
// whether the key is present.
func (m *headerMap) joined(key string) (string, bool) {
	vs := m.get(key)
	if len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ","), true
}
