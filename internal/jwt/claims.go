package jwt

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Claims is a verified token's claim set, parsed once (strictly, see
// strictObject) after the signature was verified. Validation, per-rule
// constraints and the headers sent upstream all read this one parse. It is
// immutable and may be shared by cached verdicts.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	// Expiry, NotBefore, IssuedAt and AuthTime are zero when absent.
	// NumericDates outside 1970..9999 are clamped to that range.
	Expiry, NotBefore, IssuedAt, AuthTime time.Time
	// ACR is the "acr" claim (RFC 9470 §4 / OIDC Core §2).
	ACR string
	// Scopes holds the space-delimited "scope" (RFC 8693 §4.2, RFC 9068
	// §2.2.3) and the "scp" array (or space-delimited string) used by some
	// issuers, in order.
	Scopes []string

	raw     []byte
	members []claimMember // the top-level members, in order
	escaped []member      // names with escapes, decoded: claimMember.escaped indexes them

	audBuf    [1]string                 // Audience of a single-string "aud"
	memberBuf [claimMembers]claimMember // members' storage for most payloads
}

// claimMembers is how many top-level members a Claims holds without a
// second allocation; access tokens commonly have 8 to 15.
const claimMembers = 16

// claimMember is a top-level member as offsets into Claims.raw: a quarter
// of a member's size, which keeps a Claims (allocated for every verified
// token) small. A name with escapes is decoded in Claims.escaped instead.
type claimMember struct {
	name, nameEnd   uint32
	value, valueEnd uint32
	escaped         int32 // index in Claims.escaped, or -1
}

// nameOf returns m's decoded name.
func (c *Claims) nameOf(m claimMember) string {
	if m.escaped >= 0 {
		return view(c.escaped[m.escaped].name)
	}
	return view(c.raw[m.name:m.nameEnd])
}

// Raw returns the claims JSON as signed. Callers must not modify it.
func (c *Claims) Raw() []byte { return c.raw }

// Lookup returns the value at path.
func (c *Claims) Lookup(path ClaimPath) gjson.Result {
	if path.hasTop && c.members != nil {
		for _, m := range c.members {
			if c.nameOf(m) == path.top {
				return gjson.Parse(view(c.raw[m.value:m.valueEnd]))
			}
		}
		return gjson.Result{}
	}
	return gjson.Get(view(c.raw), path.gjson)
}

// HasScope reports whether the token grants scope s.
func (c *Claims) HasScope(s string) bool {
	for _, x := range c.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

const maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z

// parseClaims reads the registered claims of a verified payload; it fails
// with FailDuplicateKey for a payload that repeats a member name, with
// FailClaimsNotObject for one that is otherwise not a strict JSON object,
// and with FailClaimType for a registered claim of the wrong JSON type.
func parseClaims(payload []byte) (*Claims, Failure) {
	// One pass validates the payload and lists its members, instead of one
	// scan of the payload per registered claim: in Wasm the scans are a
	// large part of a token's cost.
	var buf [claimMembers]member
	members, st := scanObject(payload, buf[:0])
	switch st {
	case jsonDuplicate:
		return nil, FailDuplicateKey
	case jsonInvalid:
		return nil, FailClaimsNotObject
	}
	c := &Claims{raw: payload}
	c.setMembers(members)
	ok := true
	str := func(raw []byte, dst *string) {
		v, good := jsonString(raw)
		ok = ok && good
		*dst = v
	}
	date := func(raw []byte, dst *time.Time) {
		f, good := jsonNumber(raw)
		t, good2 := numericDateOf(f)
		ok = ok && good && good2
		*dst = t
	}
	var scp []byte
	for _, m := range members {
		switch claimName(m.name) {
		case claimIss:
			str(m.value, &c.Issuer)
		case claimSub:
			str(m.value, &c.Subject)
		case claimAcr:
			str(m.value, &c.ACR)
		case claimExp:
			date(m.value, &c.Expiry)
		case claimNbf:
			date(m.value, &c.NotBefore)
		case claimIat:
			date(m.value, &c.IssuedAt)
		case claimAuthTime:
			date(m.value, &c.AuthTime)
		case claimAud:
			if v, good := jsonString(m.value); good {
				c.audBuf[0] = v
				c.Audience = c.audBuf[:]
				break
			}
			list, good := stringOrList(m.value, false)
			ok = ok && good
			c.Audience = list
		case claimScope:
			v, good := jsonString(m.value)
			ok = ok && good
			c.Scopes = append(strings.Fields(v), c.Scopes...)
		case claimScp:
			scp = m.value
		}
	}
	if scp != nil {
		list, good := stringOrList(scp, true)
		ok = ok && good
		c.Scopes = append(c.Scopes, list...)
	}
	if !ok {
		return nil, FailClaimType
	}
	return c, FailNone
}

// setMembers stores members, scanned from c.raw by scanObject.
func (c *Claims) setMembers(members []member) {
	c.members = c.memberBuf[:0]
	for _, m := range members {
		cm := claimMember{value: offset(c.raw, m.value), escaped: -1}
		cm.valueEnd = cm.value + uint32(len(m.value))
		if within(c.raw, m.name) {
			cm.name = offset(c.raw, m.name)
			cm.nameEnd = cm.name + uint32(len(m.name))
		} else {
			cm.escaped = int32(len(c.escaped))
			c.escaped = append(c.escaped, m)
		}
		c.members = append(c.members, cm)
	}
}

// within reports whether sub lies in b's memory.
func within(b, sub []byte) bool {
	if len(b) == 0 || len(sub) == 0 {
		return len(sub) == 0
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return p >= start && p+uintptr(len(sub)) <= start+uintptr(len(b))
}

// offset is where sub, which lies in b's memory, starts in b.
func offset(b, sub []byte) uint32 {
	if len(sub) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(sub))) - uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// The registered claims parseClaims reads, as claimName gives them.
const (
	claimOther = iota
	claimIss
	claimSub
	claimAcr
	claimExp
	claimNbf
	claimIat
	claimAud
	claimScp
	claimScope
	claimAuthTime
)

// claimName tells which registered claim a name is: the three-letter names
// are told apart as one packed integer, which in Wasm costs less than the
// string comparisons a switch over the names makes.
func claimName(name []byte) int {
	switch len(name) {
	case 3:
		switch uint32(name[0])<<16 | uint32(name[1])<<8 | uint32(name[2]) {
		case 'i'<<16 | 's'<<8 | 's':
			return claimIss
		case 's'<<16 | 'u'<<8 | 'b':
			return claimSub
		case 'a'<<16 | 'c'<<8 | 'r':
			return claimAcr
		case 'e'<<16 | 'x'<<8 | 'p':
			return claimExp
		case 'n'<<16 | 'b'<<8 | 'f':
			return claimNbf
		case 'i'<<16 | 'a'<<8 | 't':
			return claimIat
		case 'a'<<16 | 'u'<<8 | 'd':
			return claimAud
		case 's'<<16 | 'c'<<8 | 'p':
			return claimScp
		}
	case len("scope"):
		if string(name) == "scope" {
			return claimScope
		}
	case len("auth_time"):
		if string(name) == "auth_time" {
			return claimAuthTime
		}
	}
	return claimOther
}

// jsonString reads raw, a valid JSON value, as a string. Without escapes
// the string shares raw's memory (see view).
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return view(raw[1 : len(raw)-1]), true
	}
	return gjson.ParseBytes(raw).Str, true
}

// view returns b's bytes as a string without copying them. It is used only
// on decoded token segments, which are never written after decoding (see
// Claims.Raw): a string must not change.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// jsonNumber reads raw, a valid JSON value, as a number.
func jsonNumber(raw []byte) (float64, bool) {
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, false
	}
	// Dates are almost always plain integers: up to 15 digits they are
	// exact in a float64, and reading them here costs a fraction of
	// ParseFloat in Wasm.
	if len(raw) <= 15 {
		n := int64(0)
		for _, c := range raw {
			if c < '0' || c > '9' {
				goto general
			}
			n = n*10 + int64(c-'0')
		}
		return float64(n), true
	}
general:
	f, err := strconv.ParseFloat(view(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// stringOrList reads raw, a valid JSON value: a string or an array of
// strings; split splits a string at spaces.
func stringOrList(raw []byte, split bool) ([]string, bool) {
	if v, ok := jsonString(raw); ok {
		if split {
			return strings.Fields(v), true
		}
		return []string{v}, true
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var out []string
	ok := true
	gjson.ParseBytes(raw).ForEach(func(_, e gjson.Result) bool {
		if e.Type != gjson.String {
			ok = false
			return false
		}
		out = append(out, e.Str)
		return true
	})
	return out, ok
}

// numericDate reads an RFC 7519 §2 NumericDate: a JSON number of seconds,
// possibly fractional.
func numericDate(v gjson.Result) (time.Time, bool) {
	if v.Type != gjson.Number {
		return time.Time{}, false
	}
	return numericDateOf(v.Num)
}

// numericDateOf turns a NumericDate's value into a time, clamped to
// 1970..9999; NaN and infinities are refused.
func numericDateOf(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	f = min(max(f, 0), maxNumericDate)
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), true
}

// ClaimPath is a compiled path to a claim: member names separated by '.',
// with '\.' for a dot inside a name ("realm_access.roles",
// "https://example\.com/roles") and a decimal segment for an array index
// ("groups.0"). No wildcards, queries or modifiers.
type ClaimPath struct {
	text  string
	gjson string
	// top is the member name of a one-segment path, read from the claims'
	// top-level members without scanning the payload again.
	top    string
	hasTop bool
}

// ParseClaimPath compiles a claim path.
func ParseClaimPath(s string) (ClaimPath, error) {
	if s == "" {
		return ClaimPath{}, errors.New("the claim path is empty")
	}
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || s[i+1] != '.' && s[i+1] != '\\' {
				return ClaimPath{}, errors.New(`in a claim path, '\' may only escape '.' or '\'`)
			}
			i++
			cur.WriteByte(s[i])
		case c == '.':
			segs = append(segs, cur.String())
			cur.Reset()
		case c < 0x20 || c == 0x7f:
			return ClaimPath{}, errors.New("the claim path has control characters")
		default:
			cur.WriteByte(c)
		}
	}
	segs = append(segs, cur.String())
	esc := make([]string, len(segs))
	for i, seg := range segs {
		if seg == "" {
			return ClaimPath{}, errors.New("the claim path has an empty segment")
		}
		esc[i] = gjson.Escape(seg)
	}
	p := ClaimPath{text: s, gjson: strings.Join(esc, ".")}
	if len(segs) == 1 {
		p.top, p.hasTop = segs[0], true
	}
	return p, nil
}

// String returns the path as configured.
func (p ClaimPath) String() string { return p.text }

// MatchKind is how a ClaimMatcher compares a claim.
type MatchKind int

// The match kinds.
const (
	// MatchExact: the claim is a string equal to Values[0], or a number or
	// boolean whose JSON text is Values[0].
	MatchExact MatchKind = iota + 1
	// MatchOneOf: the claim is a string (or number or boolean, as text)
	// equal to one of Values.
	MatchOneOf
	// MatchContains: the claim is an array holding every one of Values
	// (as strings).
	MatchContains
	// MatchPrefix: the claim is a string starting with one of Values.
	MatchPrefix
)

// ClaimMatcher is a requirement on one claim. A missing claim never
// matches.
type ClaimMatcher struct {
	Path   ClaimPath
	Kind   MatchKind
	Values []string
}

// Match reports whether c satisfies m.
func (m *ClaimMatcher) Match(c *Claims) bool {
	v := c.Lookup(m.Path)
	if !v.Exists() {
		return false
	}
	switch m.Kind {
	case MatchExact, MatchOneOf:
		s, ok := scalarText(v)
		if !ok {
			return false
		}
		for _, want := range m.Values {
			if s == want {
				return true
			}
		}
	case MatchContains:
		if !v.IsArray() {
			return false
		}
		elems := v.Array()
		for _, want := range m.Values {
			found := false
			for _, e := range elems {
				if s, ok := scalarText(e); ok && s == want {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case MatchPrefix:
		if v.Type != gjson.String {
			return false
		}
		for _, want := range m.Values {
			if strings.HasPrefix(v.Str, want) {
				return true
			}
		}
	}
	return false
}

// scalarText is a string's value, or a number's or boolean's JSON text.
func scalarText(v gjson.Result) (string, bool) {
	switch v.Type {
	case gjson.String:
		return v.Str, true
	case gjson.Number, gjson.True, gjson.False:
		return v.Raw, true
	}
	return "", false
}
