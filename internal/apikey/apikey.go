// Package apikey authenticates requests by an API key carried in a header
// (optionally after a scheme, as in "Authorization: ApiKey <key>") or in a
// query parameter. Keys are configured as SHA-256 digests; a presented key
// is hashed once and looked up in a map, so the cost does not grow with the
// number of keys. The map compares digests, never keys: what its timing
// could reveal is a prefix of the SHA-256 of a configured key, which does
// not help to find the key.
package apikey

import (
	"crypto/sha256"
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Source is one place a key may be found. Exactly one of Header and Query is
// set.
type Source struct {
	Header string // lower-case header name
	Scheme string // optional auth scheme before the key, matched case-insensitively
	Query  string // query parameter name
}

// Consumer is who a key belongs to.
type Consumer struct {
	Name     string
	Metadata map[string]string
}

// MaxKeyLength bounds a presented key.
const MaxKeyLength = 1024

// Provider is a compiled api_key provider. It is immutable.
type Provider struct {
	name      string
	realm     string
	sources   []Source
	names     []authn.Names // per source, its header or query parameter
	keys      map[[sha256.Size]byte]*Consumer
	keep      bool
	challenge string
}

// New returns a provider. keys maps SHA-256 digests to consumers.
func New(name, realm string, sources []Source, keys map[[sha256.Size]byte]*Consumer, keep bool) *Provider {
	p := &Provider{name: name, realm: realm, sources: sources, keys: keys, keep: keep}
	for _, s := range sources {
		n := s.Header
		if s.Query != "" {
			n = s.Query
		}
		p.names = append(p.names, authn.Name(n))
	}
	scheme := "ApiKey"
	for _, s := range sources {
		if s.Scheme != "" {
			scheme = s.Scheme
			break
		}
	}
	p.challenge = scheme + ` realm="` + realm + `"`
	return p
}

func (p *Provider) Name() string      { return p.name }
func (p *Provider) Method() string    { return "api_key" }
func (p *Provider) Challenge() string { return p.challenge }

// Authenticate finds the key, rejects it if it appears in more than one
// place, and looks up its digest.
func (p *Provider) Authenticate(req *authn.Request) authn.Verdict {
	var (
		key   string
		found int
		strip authn.Edit
	)
	for i, s := range p.sources {
		n := found
		if s.Query != "" {
			vs, ok := authn.QueryValues(req.RawQuery(), s.Query)
			if !ok {
				return invalid(authn.ReasonMalformedCredential, "the query string cannot be decoded")
			}
			for _, v := range vs {
				found++
				key = v
			}
			if found > n {
				strip.RemoveQuery = authn.AppendName(strip.RemoveQuery, p.names[i])
			}
			continue
		}
		for v := range req.Each(s.Header) {
			if s.Scheme != "" {
				k, ok := cutScheme(v, s.Scheme)
				if !ok {
					continue // another scheme, e.g. Basic on Authorization
				}
				v = k
			}
			found++
			key = v
		}
		if found > n {
			strip.RemoveHeaders = authn.AppendName(strip.RemoveHeaders, p.names[i])
		}
	}
	switch {
	case found == 0:
		return authn.Verdict{Outcome: authn.Absent}
	case found > 1:
		return invalid(authn.ReasonMultipleCredentials, "more than one API key in the request")
	}
	if len(key) > MaxKeyLength {
		return invalid(authn.ReasonCredentialTooLarge, "the API key is too long")
	}
	if key == "" || !visibleASCII(key) {
		return invalid(authn.ReasonMalformedCredential, "the API key is empty or has characters that are not allowed")
	}
	sum := sha256.Sum256([]byte(key))
	c, ok := p.keys[sum]
	if !ok {
		return invalid(authn.ReasonInvalidCredential, "the API key is not valid")
	}
	v := authn.Verdict{Outcome: authn.Valid, Identity: authn.Identity{Principal: c.Name, Metadata: c.Metadata}}
	if !p.keep {
		v.Strip = strip
	}
	return v
}

func invalid(r authn.Reason, desc string) authn.Verdict {
	return authn.Verdict{Outcome: authn.Invalid, Err: authn.Deny(r, desc)}
}

// cutScheme returns the credential after "<scheme> " in v, matching the
// scheme case-insensitively (RFC 9110 §11.1).
func cutScheme(v, scheme string) (string, bool) {
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) || v[len(scheme)] != ' ' {
		return "", false
	}
	return strings.TrimLeft(v[len(scheme):], " "), true
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
