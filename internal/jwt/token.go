package jwt

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync/atomic"
	"unsafe"
)

// header is what parseUnsafe read from a JWS protected header.
type header struct {
	alg    *algorithm
	kid    string
	hasKID bool
	typ    string
	hasTyp bool
}

// unverified is a compact JWS split and decoded, not yet verified.
type unverified struct {
	header
	// input is the JWS signing input: ASCII(header '.' payload), RFC 7515 §5.2.
	input string
	// rawHeader is the decoded protected header, validated as a strict
	// JSON object.
	rawHeader []byte
	// payload is the decoded JWS payload: claims JSON not yet parsed.
	payload []byte
	sig     []byte
}

var b64url = base64.RawURLEncoding.Strict()

// parseUnsafe splits a compact JWS (RFC 7515 §7.1) and checks its protected
// header against the allow-list algs. Nothing it returns is trustworthy
// until the signature has been verified; it does not parse the payload.
//
// It rejects: characters outside base64url and '.', any number of segments
// but three (five is reported as an encrypted token), non-canonical
// base64url, a header that is not a strict JSON object (duplicate member
// names included), "enc" (JWE), "alg" missing, "none" or outside algs,
// "b64": false (RFC 7797), any "crit" (no extension is understood, so
// RFC 7515 §4.1.11 requires rejection), "cty": "JWT" (nested tokens) and
// non-string "kid"/"typ". Key material in the header ("jwk", "jku", "x5u",
// "x5c", "x5t", "x5t#S256") is ignored: keys come only from configuration.
// It returns a value, not a pointer: one allocation fewer per token.
//
// memo, if not nil, holds headers this allow-list accepted before: a
// header segment found there is not decoded and checked again.
func parseUnsafe(token string, algs map[string]*algorithm, memo *headerMemo) (unverified, Failure) {
	// The dots, found with IndexByte (a tight loop in Wasm); the decoder
	// checks every other character (see decodeSegment).
	first := strings.IndexByte(token, '.')
	if first <= 0 {
		return unverified{}, FailMalformed
	}
	k := strings.IndexByte(token[first+1:], '.')
	if k < 0 {
		return unverified{}, FailMalformed
	}
	second := first + 1 + k
	if strings.IndexByte(token[second+1:], '.') >= 0 {
		if strings.Count(token, ".") == 4 {
			return unverified{}, FailJWE
		}
		return unverified{}, FailMalformed
	}
	u := unverified{input: token[:second]}
	h, p, sg := token[:first], token[first+1:second], token[second+1:]
	known := memo.find(h)
	// One buffer for the decoded segments.
	n := b64url.DecodedLen(len(p)) + b64url.DecodedLen(len(sg))
	if known == nil {
		n += b64url.DecodedLen(len(h))
	}
	buf := make([]byte, n)
	if known != nil {
		u.header, u.rawHeader = known.header, known.raw
	} else {
		rawHeader, ok := decodeSegment(&buf, h)
		if !ok {
			return unverified{}, FailMalformed
		}
		var members [8]member
		list, st := scanObject(rawHeader, members[:0])
		switch st {
		case jsonDuplicate:
			return unverified{}, FailDuplicateKey
		case jsonInvalid:
			return unverified{}, FailMalformed
		}
		u.rawHeader = rawHeader
		if f := u.header.read(list, algs); f != FailNone {
			return unverified{}, f
		}
		memo.add(h, u.rawHeader, u.header)
	}
	var ok bool
	if u.payload, ok = decodeSegment(&buf, p); !ok {
		return unverified{}, FailMalformed
	}
	if u.sig, ok = decodeSegment(&buf, sg); !ok || len(u.sig) == 0 {
		return unverified{}, FailMalformed
	}
	return u, FailNone
}

// decodeSegment decodes the base64url segment seg (unpadded, canonical)
// into the front of *buf, which it then advances past the result.
//
// It accepts only the base64url alphabet: the decoder refuses any other
// character but '\r' and '\n', which it skips, and which a short result
// then betrays.
func decodeSegment(buf *[]byte, seg string) ([]byte, bool) {
	// Decode only reads its source: a view of seg's bytes saves a copy.
	n, err := b64url.Decode(*buf, unsafe.Slice(unsafe.StringData(seg), len(seg)))
	if err != nil || n != b64url.DecodedLen(len(seg)) {
		return nil, false
	}
	out := (*buf)[:n:n]
	*buf = (*buf)[n:]
	return out, true
}

func (hd *header) read(members []member, algs map[string]*algorithm) Failure {
	// One pass over the members (duplicates were refused before), then the
	// checks in their fixed order.
	var enc, alg, b64, crit, cty, kid, typ []byte
	for _, m := range members {
		switch string(m.name) {
		case "enc":
			enc = m.value
		case "alg":
			alg = m.value
		case "b64":
			b64 = m.value
		case "crit":
			crit = m.value
		case "cty":
			cty = m.value
		case "kid":
			kid = m.value
		case "typ":
			typ = m.value
		}
	}
	if enc != nil {
		return FailJWE
	}
	name, ok := jsonString(alg)
	if !ok {
		return FailMalformed
	}
	if strings.EqualFold(name, "none") {
		return FailAlgNone
	}
	a := algs[name]
	if a == nil {
		return FailAlgNotAllowed
	}
	hd.alg = a
	if b64 != nil {
		switch string(b64) {
		case "true":
		case "false":
			return FailB64
		default:
			return FailMalformed
		}
	}
	if crit != nil {
		return FailCrit
	}
	if cty != nil {
		v, ok := jsonString(cty)
		if !ok {
			return FailMalformed
		}
		if strings.EqualFold(v, "JWT") || strings.EqualFold(v, "application/jwt") {
			return FailNestedJWT
		}
	}
	if kid != nil {
		if hd.kid, hd.hasKID = jsonString(kid); !hd.hasKID {
			return FailMalformed
		}
	}
	if typ != nil {
		if hd.typ, hd.hasTyp = jsonString(typ); !hd.hasTyp {
			return FailMalformed
		}
	}
	return FailNone
}

// normalizeType lower-cases a "typ" or "cty" value and removes an
// "application/" prefix, as RFC 7515 §4.1.9 allows ("at+jwt" and
// "application/at+jwt" are the same type).
func normalizeType(t string) string {
	t = strings.ToLower(t)
	return strings.TrimPrefix(t, "application/")
}

// headerMemo remembers the protected headers a provider accepted last. An
// issuer signs its tokens under one or a few headers (the same alg, kid
// and typ), so most tokens repeat one byte for byte, and decoding and
// checking it again is a sizeable part of a token's cost in Wasm. Entries
// are keyed by the exact base64url segment and hold only headers that
// passed every check of parseUnsafe under the provider's allow-list, which
// is fixed: a hit gives what parsing the segment again would. It is safe
// for concurrent use; a nil memo remembers nothing.
type headerMemo struct {
	slots [headerMemoSlots]atomic.Pointer[knownHeader]
	next  atomic.Uint32
}

// headerMemoSlots is how many headers a provider remembers: enough for a
// key rotation (two kids) under two token types.
const headerMemoSlots = 4

// maxMemoHeader bounds the segments remembered (headers with certificate
// chains are not worth keeping).
const maxMemoHeader = 512

// knownHeader is an accepted header; all its memory is its own.
type knownHeader struct {
	seg    string
	raw    []byte
	header header
}

func (m *headerMemo) find(seg string) *knownHeader {
	if m == nil {
		return nil
	}
	for i := range m.slots {
		if k := m.slots[i].Load(); k != nil && k.seg == seg {
			return k
		}
	}
	return nil
}

// add remembers seg, decoded as raw and read as h; it copies all three.
func (m *headerMemo) add(seg string, raw []byte, h header) {
	if m == nil || len(seg) > maxMemoHeader {
		return
	}
	h.kid, h.typ = strings.Clone(h.kid), strings.Clone(h.typ)
	k := &knownHeader{seg: strings.Clone(seg), raw: bytes.Clone(raw), header: h}
	m.slots[m.next.Add(1)%headerMemoSlots].Store(k)
}
