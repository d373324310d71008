package jwt

import (
	"slices"
	"time"
)

// validator holds one provider's verification rules, fixed at configure
// time. It is immutable but for its memo of accepted headers.
type validator struct {
	algs        map[string]*algorithm
	issuers     stringSet
	audiences   stringSet // empty: "aud" is not checked
	requireExp  bool
	skew        time.Duration
	maxLifetime time.Duration
	typ         string // normalized; "" for any
	minRSABits  int
	claims      []ClaimMatcher
	headers     *headerMemo // the one mutable part: see headerMemo
}

// verified is the result of a successful verification.
type verified struct {
	claims *Claims
	key    *Key
}

// verify checks token against set at time now. The order is fixed:
//
//  1. parseUnsafe: structure, header, algorithm allow-list (no "none").
//  2. key choice by kid and by key type (KeySet.candidates).
//  3. the signature, with each candidate key (several keys may share a
//     kid), by the host if it can, else in Wasm.
//  4. the claims, parsed once, then in order: typ, iss, aud, exp, nbf,
//     iat, lifetime, the provider's claim matchers.
func (v *validator) verify(token string, now time.Time, set *KeySet, host SignatureVerifier) (verified, Failure) {
	u, f := parseUnsafe(token, v.algs, v.headers)
	if f != FailNone {
		return verified{}, f
	}
	keys, f := set.candidates(u.alg, u.kid, u.hasKID)
	if f != FailNone {
		return verified{}, f
	}
	var key *Key
	f = FailSignature
	for _, k := range keys {
		if k.Type == KeyRSA && k.bits < v.minRSABits {
			f = FailKeyTooSmall
			continue
		}
		if g := verifySignature(u.alg, k, u.input, u.sig, host); g == FailNone {
			key = k
			break
		} else if f != FailKeyTooSmall {
			f = g
		}
	}
	if key == nil {
		return verified{}, f
	}
	c, f := parseClaims(u.payload)
	if f != FailNone {
		return verified{}, f
	}
	if f := v.checkClaims(c, &u.header, now); f != FailNone {
		return verified{}, f
	}
	return verified{claims: c, key: key}, FailNone
}

func (v *validator) checkClaims(c *Claims, h *header, now time.Time) Failure {
	if v.typ != "" && (!h.hasTyp || normalizeType(h.typ) != v.typ) {
		return FailType
	}
	if !v.issuers.has(c.Issuer) {
		return FailIssuer
	}
	if v.audiences.len() > 0 {
		ok := false
		for _, a := range c.Audience {
			if v.audiences.has(a) {
				ok = true
				break
			}
		}
		if !ok {
			return FailAudience
		}
	}
	// RFC 7519 §4.1.4: the current time must be before exp; the skew
	// allows for clocks that differ by at most v.skew.
	if c.Expiry.IsZero() {
		if v.requireExp {
			return FailNoExpiry
		}
	} else if !now.Before(c.Expiry.Add(v.skew)) {
		return FailExpired
	}
	if !c.NotBefore.IsZero() && now.Add(v.skew).Before(c.NotBefore) {
		return FailNotYetValid
	}
	if !c.IssuedAt.IsZero() && now.Add(v.skew).Before(c.IssuedAt) {
		return FailIssuedInFuture
	}
	if v.maxLifetime > 0 && (c.IssuedAt.IsZero() || c.Expiry.IsZero() || c.Expiry.Sub(c.IssuedAt) > v.maxLifetime) {
		return FailLifetime
	}
	for i := range v.claims {
		if !v.claims[i].Match(c) {
			return FailClaim
		}
	}
	return FailNone
}

// stringSet is a set of strings: a list while it is short, where comparing
// a few strings costs less than hashing one (in Wasm especially), a map
// beyond.
type stringSet struct {
	list []string
	m    map[string]bool
}

// maxListSet is the size up to which a stringSet is a list.
const maxListSet = 8

func newStringSet(items []string) stringSet {
	if len(items) <= maxListSet {
		return stringSet{list: slices.Clone(items)}
	}
	return stringSet{m: set(items)}
}

func (s stringSet) has(x string) bool {
	if s.m != nil {
		return s.m[x]
	}
	return slices.Contains(s.list, x)
}

func (s stringSet) len() int { return len(s.list) + len(s.m) }
