package jwt

import (
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// maxJSONDepth bounds the nesting of a token's header and claims.
const maxJSONDepth = 32

// jsonStatus is the verdict of strictObject on a JSON text.
type jsonStatus int

const (
	jsonOK        jsonStatus = iota
	jsonInvalid              // not a JSON object, invalid UTF-8 or too deep
	jsonDuplicate            // a member name repeats within one object
)

// strictObject parses data as one JSON object under the rules every token
// and key set must meet: valid JSON (RFC 8259) in valid UTF-8, an object at
// the top, nested at most maxJSONDepth deep, and no object (at any depth)
// repeating a member name once escapes are decoded ("iss" and "\u0069ss"
// are the same name). encoding/json and most JOSE libraries keep the last
// duplicate while other parsers keep the first; rejecting duplicates means
// that every parser reads these bytes the same way, so gjson paths read
// later cannot disagree with what was validated here. A text that breaks
// any other rule is jsonInvalid even if it also repeats a name.
//
// The result is the one parse of data that every later step reads.
func strictObject(data []byte) (gjson.Result, jsonStatus) {
	if _, st := scanObject(data, nil); st != jsonOK {
		return gjson.Result{}, st
	}
	return gjson.ParseBytes(data), jsonOK
}

// member is one member of the top-level object scanned by scanObject.
type member struct {
	name  []byte // decoded: a sub-slice of the text unless it has escapes
	value []byte // the value's JSON text, a sub-slice of the text
}

// scanObject checks data by strictObject's rules in one pass and appends
// the top-level object's members to top, in order. The slices it returns
// point into data, which must not change while they are in use.
//
// One pass replaces four: utf8.Valid, gjson.ValidBytes, a duplicate-name
// check and gjson's ForEach over the members, which together were most of
// a token's parsing cost in Wasm. FuzzScanObject checks it against
// encoding/json's grammar, utf8.Valid, a depth count and a duplicate-name
// walk over gjson's parse, and its members against gjson's.
func scanObject(data []byte, top []member) ([]member, jsonStatus) {
	s := jsonScanner{data: data}
	s.space()
	if s.i >= len(data) || data[s.i] != '{' {
		return top, jsonInvalid
	}
	top, ok := s.object(1, top, true)
	s.space()
	switch {
	case !ok || s.i != len(data):
		return top, jsonInvalid
	case s.dup:
		return top, jsonDuplicate
	}
	return top, jsonOK
}

// jsonScanner is a recursive-descent validator for RFC 8259 JSON (depth is
// bounded, so is the recursion). It lives on the caller's stack: the names
// of the open objects go to a fixed array first.
type jsonScanner struct {
	data  []byte
	i     int
	dup   bool       // some object repeats a name
	n     int        // names of the objects open at i, innermost last
	names [24][]byte // the first names
	spill [][]byte   // the others
}

func (s *jsonScanner) name(k int) []byte {
	if k < len(s.names) {
		return s.names[k]
	}
	return s.spill[k-len(s.names)]
}

func (s *jsonScanner) push(name []byte) {
	if s.n < len(s.names) {
		s.names[s.n] = name
	} else {
		s.spill = append(s.spill[:s.n-len(s.names)], name)
	}
	s.n++
}

func (s *jsonScanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans the value at s.i, inside a container at depth.
func (s *jsonScanner) value(depth int) bool {
	if s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '{':
		_, ok := s.object(depth+1, nil, false)
		return ok
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

// object scans the object at s.i ('{'), at depth; when keep is set, it
// appends the object's members to top.
func (s *jsonScanner) object(depth int, top []member, keep bool) ([]member, bool) {
	if depth > maxJSONDepth {
		return top, false
	}
	s.i++
	start := s.n
	var seen map[string]struct{} // for objects with many members
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return top, true
	}
	for {
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return top, false
		}
		name, ok := s.str()
		if !ok {
			return top, false
		}
		switch {
		case seen != nil:
			if _, dup := seen[string(name)]; dup {
				s.dup = true
			}
			seen[string(name)] = struct{}{}
		case s.n-start >= 16:
			seen = make(map[string]struct{}, 64)
			for k := start; k < s.n; k++ {
				seen[string(s.name(k))] = struct{}{}
			}
			if _, dup := seen[string(name)]; dup {
				s.dup = true
			}
			seen[string(name)] = struct{}{}
		default:
			for k := start; k < s.n; k++ {
				if string(s.name(k)) == string(name) {
					s.dup = true
				}
			}
			s.push(name)
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return top, false
		}
		s.i++
		s.space()
		v := s.i
		if !s.value(depth) {
			return top, false
		}
		if keep {
			top = append(top, member{name: name, value: s.data[v:s.i]})
		}
		s.space()
		if s.i >= len(s.data) {
			return top, false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.n = start
			return top, true
		default:
			return top, false
		}
	}
}

// array scans the array at s.i ('['), at depth.
func (s *jsonScanner) array(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	s.i++
	s.space()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return true
	}
	for {
		s.space()
		if !s.value(depth) {
			return false
		}
		s.space()
		if s.i >= len(s.data) {
			return false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// plain marks the bytes a string holds as themselves: printable ASCII but
// the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans the string at s.i ('"') and returns its decoded text: a
// sub-slice of data when it has no escapes.
func (s *jsonScanner) str() ([]byte, bool) {
	d := s.data
	start, escaped := s.i, false
	i := start + 1
	for {
		for i < len(d) && plain[d[i]] {
			i++
		}
		if i >= len(d) {
			return nil, false
		}
		switch c := d[i]; {
		case c == '"':
			s.i = i + 1
			if escaped {
				return []byte(gjson.ParseBytes(d[start:s.i]).Str), true
			}
			return d[start+1 : i], true
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				return nil, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return nil, false
				}
				i += 6
			default:
				return nil, false
			}
		case c < 0x20:
			return nil, false
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			i += size
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans an RFC 8259 §6 number at s.i.
func (s *jsonScanner) number() bool {
	d, i := s.data, s.i
	if d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		return false
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.i = i
	return true
}

// literal scans true, false or null at s.i.
func (s *jsonScanner) literal(lit string) bool {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}
