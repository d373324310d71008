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
// later cannot disagree with what was validated here.
//
// The result is the one parse of data that every later step reads.
func strictObject(data []byte) (gjson.Result, jsonStatus) {
	if !utf8.Valid(data) || !gjson.ValidBytes(data) {
		return gjson.Result{}, jsonInvalid
	}
	r := gjson.ParseBytes(data)
	if !r.IsObject() {
		return gjson.Result{}, jsonInvalid
	}
	if st := checkMembers(r, 1); st != jsonOK {
		return gjson.Result{}, st
	}
	return r, jsonOK
}

func checkMembers(r gjson.Result, depth int) jsonStatus {
	if depth > maxJSONDepth {
		return jsonInvalid
	}
	st := jsonOK
	if r.IsObject() {
		// Objects are small; a linear scan beats a map below a few dozen
		// members, and a map takes over above.
		var names []string
		var seen map[string]struct{}
		r.ForEach(func(k, v gjson.Result) bool {
			name := k.Str
			if seen == nil && len(names) >= 16 {
				seen = make(map[string]struct{}, 2*len(names))
				for _, n := range names {
					seen[n] = struct{}{}
				}
			}
			if seen != nil {
				if _, dup := seen[name]; dup {
					st = jsonDuplicate
					return false
				}
				seen[name] = struct{}{}
			} else {
				for _, n := range names {
					if n == name {
						st = jsonDuplicate
						return false
					}
				}
				names = append(names, name)
			}
			if v.IsObject() || v.IsArray() {
				st = checkMembers(v, depth+1)
			}
			return st == jsonOK
		})
		return st
	}
	r.ForEach(func(_, v gjson.Result) bool {
		if v.IsObject() || v.IsArray() {
			st = checkMembers(v, depth+1)
		}
		return st == jsonOK
	})
	return st
}
