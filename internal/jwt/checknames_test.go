package jwt

import (
	"testing"

	"github.com/tidwall/gjson"
)

// checkMembers is the reference for checkNames: the same rules over
// gjson's parse (slower in Wasm, simpler to read).
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

// checkNames agrees with checkMembers on every valid JSON text.
func FuzzCheckNames(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":{"a":2,"c":[{"a":1,"a":2}]}}`, `{"a":1,"\u0061":2}`, `{"x":"a\"b","y":"\\"}`,
		`{"a":[1,{"b":1,"b":2}]}`, `{"s":"{\"a\":1,\"a\":2}"}`, `{"a":{},"b":[],"c":""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !gjson.ValidBytes(data) {
			return
		}
		r := gjson.ParseBytes(data)
		if !r.IsObject() {
			return
		}
		if got, want := checkNames(data), checkMembers(r, 1); got != want {
			t.Fatalf("checkNames(%q) = %v; checkMembers says %v", data, got, want)
		}
	})
}
