package jwt

import (
	"encoding/base64"
	"strings"

	"github.com/tidwall/gjson"
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
	input []byte
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
func parseUnsafe(token string, algs map[string]*algorithm) (*unverified, Failure) {
	dots := 0
	first, second := -1, -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			dots++
			if dots == 1 {
				first = i
			} else if dots == 2 {
				second = i
			}
		default:
			return nil, FailMalformed
		}
	}
	switch {
	case dots == 4:
		return nil, FailJWE
	case dots != 2 || first == 0:
		return nil, FailMalformed
	}
	rawHeader, err := b64url.DecodeString(token[:first])
	if err != nil {
		return nil, FailMalformed
	}
	h, st := strictObject(rawHeader)
	switch st {
	case jsonDuplicate:
		return nil, FailDuplicateKey
	case jsonInvalid:
		return nil, FailMalformed
	}
	u := &unverified{}
	if f := u.header.read(h, algs); f != FailNone {
		return nil, f
	}
	if u.payload, err = b64url.DecodeString(token[first+1 : second]); err != nil {
		return nil, FailMalformed
	}
	if u.sig, err = b64url.DecodeString(token[second+1:]); err != nil || len(u.sig) == 0 {
		return nil, FailMalformed
	}
	u.input = []byte(token[:second])
	return u, FailNone
}

func (hd *header) read(h gjson.Result, algs map[string]*algorithm) Failure {
	// One pass over the members (duplicates were refused before), then the
	// checks in their fixed order.
	var enc, alg, b64, crit, cty, kid, typ gjson.Result
	h.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "enc":
			enc = v
		case "alg":
			alg = v
		case "b64":
			b64 = v
		case "crit":
			crit = v
		case "cty":
			cty = v
		case "kid":
			kid = v
		case "typ":
			typ = v
		}
		return true
	})
	if enc.Exists() {
		return FailJWE
	}
	if alg.Type != gjson.String {
		return FailMalformed
	}
	if strings.EqualFold(alg.Str, "none") {
		return FailAlgNone
	}
	a := algs[alg.Str]
	if a == nil {
		return FailAlgNotAllowed
	}
	hd.alg = a
	if b64.Exists() {
		if !b64.IsBool() {
			return FailMalformed
		}
		if !b64.Bool() {
			return FailB64
		}
	}
	if crit.Exists() {
		return FailCrit
	}
	if cty.Exists() {
		if cty.Type != gjson.String {
			return FailMalformed
		}
		if strings.EqualFold(cty.Str, "JWT") || strings.EqualFold(cty.Str, "application/jwt") {
			return FailNestedJWT
		}
	}
	if kid.Exists() {
		if kid.Type != gjson.String {
			return FailMalformed
		}
		hd.kid, hd.hasKID = kid.Str, true
	}
	if typ.Exists() {
		if typ.Type != gjson.String {
			return FailMalformed
		}
		hd.typ, hd.hasTyp = typ.Str, true
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
