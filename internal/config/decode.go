package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Problem is one configuration error at a JSON path such as
// $.providers[0].api_key.keys[2].sha256.
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) Error() string { return p.Path + ": " + p.Msg }

// problems collects every Problem found while decoding and compiling.
type problems struct {
	list []Problem
}

func (ps *problems) add(path, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	errs := make([]error, len(ps.list))
	for i, p := range ps.list {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// parseJSON decodes data into plain values (map[string]any, []any, string,
// json.Number, bool, nil), rejecting duplicate object keys, which
// encoding/json would silently resolve to the last one.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, "$")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the top-level value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, jsonErr(err)
				}
				k := kt.(string)
				if _, dup := m[k]; dup {
					return nil, Problem{Path: joinKey(path, k), Msg: fmt.Sprintf("duplicate key %q", k)}
				}
				v, err := parseValue(dec, joinKey(path, k))
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonErr(err)
			}
			return m, nil
		case '[':
			var a []any
			for i := 0; dec.More(); i++ {
				v, err := parseValue(dec, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonErr(err)
			}
			if a == nil {
				a = []any{}
			}
			return a, nil
		}
	}
	return tok, nil
}

func jsonErr(err error) error {
	if err == io.EOF {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func joinKey(path, key string) string {
	if isIdent(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '-') {
			continue
		}
		return false
	}
	return true
}

// object reads the fields of one JSON object and reports, when closed, every
// field it was not asked about.
type object struct {
	path string
	m    map[string]any
	seen map[string]bool
	ps   *problems
}

func asObject(v any, path string, ps *problems) *object {
	m, ok := v.(map[string]any)
	if !ok {
		ps.add(path, "must be an object, not %s", typeName(v))
		return nil
	}
	return &object{path: path, m: m, seen: map[string]bool{}, ps: ps}
}

func (o *object) field(key string) string { return joinKey(o.path, key) }

func (o *object) get(key string) (any, bool) {
	o.seen[key] = true
	v, ok := o.m[key]
	return v, ok
}

// has reports whether key is present (and marks it known).
func (o *object) has(key string) bool {
	_, ok := o.get(key)
	return ok
}

func (o *object) close() {
	var unknown []string
	for k := range o.m {
		if !o.seen[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		o.ps.add(o.field(k), "unknown field")
	}
}

func (o *object) str(key string, required bool) string {
	v, ok := o.get(key)
	if !ok {
		if required {
			o.ps.add(o.field(key), "is required")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		o.ps.add(o.field(key), "must be a string, not %s", typeName(v))
	}
	return s
}

func (o *object) boolean(key string) bool {
	v, ok := o.get(key)
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		o.ps.add(o.field(key), "must be a boolean, not %s", typeName(v))
	}
	return b
}

// integer reads a whole number in [min, max]. Istio delivers Struct numbers
// as floats, so 300.0 and 3e2 are accepted as 300.
func (o *object) integer(key string, def, min, max int64) int64 {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	n, ok := v.(json.Number)
	if !ok {
		o.ps.add(o.field(key), "must be a number, not %s", typeName(v))
		return def
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
		o.ps.add(o.field(key), "must be a whole number")
		return def
	}
	if f < float64(min) || f > float64(max) {
		o.ps.add(o.field(key), "must be between %d and %d", min, max)
		return def
	}
	return int64(f)
}

func (o *object) obj(key string, required bool) *object {
	v, ok := o.get(key)
	if !ok {
		if required {
			o.ps.add(o.field(key), "is required")
		}
		return nil
	}
	return asObject(v, o.field(key), o.ps)
}

func (o *object) array(key string, required bool) ([]any, string) {
	v, ok := o.get(key)
	p := o.field(key)
	if !ok {
		if required {
			o.ps.add(p, "is required")
		}
		return nil, p
	}
	a, ok := v.([]any)
	if !ok {
		o.ps.add(p, "must be an array, not %s", typeName(v))
		return nil, p
	}
	return a, p
}

func (o *object) strings(key string) ([]string, string) {
	a, p := o.array(key, false)
	out := make([]string, 0, len(a))
	for i, v := range a {
		s, ok := v.(string)
		if !ok {
			o.ps.add(fmt.Sprintf("%s[%d]", p, i), "must be a string, not %s", typeName(v))
			continue
		}
		out = append(out, s)
	}
	return out, p
}

func (o *object) stringMap(key string) (map[string]string, string) {
	v, ok := o.get(key)
	p := o.field(key)
	if !ok {
		return nil, p
	}
	m, ok := v.(map[string]any)
	if !ok {
		o.ps.add(p, "must be an object, not %s", typeName(v))
		return nil, p
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			o.ps.add(joinKey(p, k), "must be a string, not %s", typeName(v))
			continue
		}
		out[k] = s
	}
	return out, p
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// lowerASCII reports whether s has no upper-case ASCII letter.
func lowerASCII(s string) bool { return strings.ToLower(s) == s }

// oneOf returns the one key of keys the object has, or "" after reporting
// that exactly one of them must be set.
func (o *object) oneOf(keys ...string) string {
	found := ""
	n := 0
	for _, k := range keys {
		if o.has(k) {
			found = k
			n++
		}
	}
	if n == 1 {
		return found
	}
	list := strings.Join(keys[:len(keys)-1], ", ") + " and " + keys[len(keys)-1]
	o.ps.add(o.path, "must set exactly one of %s", list)
	return ""
}
