package jwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// checkMembers is the reference for duplicate names: the rule over gjson's
// parse (slower in Wasm, simpler to read).
func checkMembers(r gjson.Result) jsonStatus {
	st := jsonOK
	if r.IsObject() {
		seen := map[string]bool{}
		r.ForEach(func(k, v gjson.Result) bool {
			if seen[k.Str] {
				st = jsonDuplicate
				return false
			}
			seen[k.Str] = true
			if v.IsObject() || v.IsArray() {
				st = checkMembers(v)
			}
			return st == jsonOK
		})
		return st
	}
	r.ForEach(func(_, v gjson.Result) bool {
		if v.IsObject() || v.IsArray() {
			st = checkMembers(v)
		}
		return st == jsonOK
	})
	return st
}

// depth is the deepest nesting of valid JSON text data.
func depth(data []byte) int {
	d, most, in := 0, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case in:
		case c == '{' || c == '[':
			d++
			most = max(most, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return most
}

// referenceStatus is strictObject's verdict computed from independent
// parts: encoding/json for the grammar, utf8.Valid, a depth count and
// checkMembers.
func referenceStatus(data []byte) jsonStatus {
	if !utf8.Valid(data) || !json.Valid(data) || !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) || depth(data) > maxJSONDepth {
		return jsonInvalid
	}
	return checkMembers(gjson.ParseBytes(data))
}

func TestScanObject(t *testing.T) {
	many := func(dup bool) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 40; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%02d":{"x":1}`, i)
		}
		if dup {
			b.WriteString(`,"k33":2`)
		}
		return b.String() + "}"
	}
	for _, c := range []struct {
		in   string
		want jsonStatus
	}{
		{`{}`, jsonOK},
		{` {"a" : [1, -0.5e+3, true, false, null, "x", {}, []] } `, jsonOK},
		{`{"a":1,"b":{"a":2}}`, jsonOK},
		{`{"a":1,"a":2}`, jsonDuplicate},
		{`{"a":1,"\u0061":2}`, jsonDuplicate},
		{`{"a":[{"b":1,"b":2}]}`, jsonDuplicate},
		{`{"s":"{\"a\":1,\"a\":2}"}`, jsonOK},
		{many(false), jsonOK},
		{many(true), jsonDuplicate},
		{`{"a":1,"a":2,"b":01}`, jsonInvalid}, // malformed wins over duplicate
		{`[]`, jsonInvalid},
		{`"x"`, jsonInvalid},
		{`{"a":01}`, jsonInvalid},
		{`{"a":1.}`, jsonInvalid},
		{`{"a":-}`, jsonInvalid},
		{`{"a":1e}`, jsonInvalid},
		{`{"a":tru}`, jsonInvalid},
		{`{"a":1,}`, jsonInvalid},
		{`{"a":[1,]}`, jsonInvalid},
		{`{"a":"\x"}`, jsonInvalid},
		{`{"a":"\u12g4"}`, jsonInvalid},
		{"{\"a\":\"\x01\"}", jsonInvalid},
		{"{\"a\":\"\xff\"}", jsonInvalid},
		{"{\"a\":\"\xed\xa0\x80\"}", jsonInvalid}, // a UTF-8-encoded surrogate
		{`{"a":1}x`, jsonInvalid},
		{`{"a":1}{}`, jsonInvalid},
		{`{"a" 1}`, jsonInvalid},
		{`{a:1}`, jsonInvalid},
		{strings.Repeat(`{"a":`, 32) + "1" + strings.Repeat("}", 32), jsonOK},
		{strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33), jsonInvalid},
		{`{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + "}", jsonOK},
		{`{"a":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + "}", jsonInvalid},
	} {
		if ref := referenceStatus([]byte(c.in)); ref != c.want {
			t.Fatalf("reference(%q) = %v; the table says %v", c.in, ref, c.want)
		}
		if _, got := scanObject([]byte(c.in), nil); got != c.want {
			t.Errorf("scanObject(%q) = %v; want %v", c.in, got, c.want)
		}
	}
}

// scanObject agrees with the reference on every input, and its top-level
// members are gjson's.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":{"a":2,"c":[{"a":1,"a":2}]}}`, `{"a":1,"\u0061":2}`, `{"x":"a\"b","y":"\\"}`,
		`{"a":[1,{"b":1,"b":2}]}`, `{"s":"{\"a\":1,\"a\":2}"}`, `{"a":{},"b":[],"c":""}`, `{"n":-1.5E+10,"t":true,"f":false,"z":null}`,
		`{"\ud83d\ude00":"é","\ud800":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, got := scanObject(data, nil)
		if want := referenceStatus(data); got != want {
			t.Fatalf("scanObject(%q) = %v; the reference says %v", data, got, want)
		}
		if got != jsonOK {
			return
		}
		i := 0
		gjson.ParseBytes(data).ForEach(func(k, v gjson.Result) bool {
			if i >= len(members) || string(members[i].name) != k.Str || string(members[i].value) != v.Raw {
				t.Fatalf("member %d of %q: %q = %q; gjson reads %q = %q", i, data, members[i].name, members[i].value, k.Str, v.Raw)
			}
			i++
			return true
		})
		if i != len(members) {
			t.Fatalf("%q: %d members; gjson reads %d", data, len(members), i)
		}
		// Claims.Lookup reads a one-segment path from the members; it
		// agrees with gjson's path query over the whole payload.
		c := &Claims{raw: data}
		c.setMembers(members)
		for _, m := range members {
			if len(m.name) == 0 {
				continue
			}
			p := ClaimPath{gjson: gjson.Escape(string(m.name)), top: string(m.name), hasTop: true}
			fast, slow := c.Lookup(p), gjson.GetBytes(data, p.gjson)
			if fast.Type != slow.Type || fast.Raw != slow.Raw || fast.Str != slow.Str {
				t.Fatalf("%q: Lookup(%q) = %v %q; gjson reads %v %q", data, m.name, fast.Type, fast.Raw, slow.Type, slow.Raw)
			}
		}
	})
}
