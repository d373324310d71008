package jwt

import (
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Defaults for Options fields left zero (the configuration applies the
// same ones).
const (
	DefaultMaxTokenBytes       = 8 << 10
	DefaultClockSkew           = 60 * time.Second
	DefaultMaxClaimHeaderBytes = 4 << 10
	DefaultCacheEntries        = 1024
	DefaultCacheTTL            = 5 * time.Minute
)

// Source is one place a token may be found. Exactly one of Header, Query
// and Cookie is set.
type Source struct {
	// Header is a lower-case header name. "authorization" means the
	// Bearer scheme (RFC 6750 §2.1, case-insensitive); other headers carry
	// the token after Prefix (matched case-insensitively), or alone.
	Header string
	Prefix string
	// Query is a query parameter name (RFC 6750 §2.3).
	Query string
	// Cookie is a cookie name.
	Cookie string
}

// ClaimHeader sends the claim at Path upstream in Header.
type ClaimHeader struct {
	Path   ClaimPath
	Header string
}

// Options configure a Provider; New copies what it keeps.
type Options struct {
	Name  string
	Realm string
	// Sources in the order they are looked at; nil means the
	// Authorization Bearer header only.
	Sources []Source
	// MaxTokenBytes bounds a token; 0 means DefaultMaxTokenBytes.
	MaxTokenBytes int
	// KeepToken forwards the token upstream; by default it is removed.
	KeepToken bool

	// Issuers are the accepted "iss" values (at least one, exact match).
	Issuers []string
	// Audiences, if any, must include one of the token's "aud" values;
	// with none, "aud" is not checked.
	Audiences []string
	// Algorithms is the allow-list; nil means DefaultAlgorithms (HS*
	// needs a secret key in Keys).
	Algorithms []string
	// Keys are static keys; nil with Remote.
	Keys *KeySet
	// Remote, if set, is where keys are fetched from.
	Remote *RemoteSpec
	// MinRSABits is the smallest RSA modulus accepted; 0 means
	// DefaultMinRSABits.
	MinRSABits int

	// AllowMissingExpiry accepts tokens without "exp".
	AllowMissingExpiry bool
	// ClockSkew is the leeway for exp, nbf, iat and max_age.
	ClockSkew time.Duration
	// MaxLifetime, if positive, bounds exp - iat (iat is then required).
	MaxLifetime time.Duration
	// Type, if set, is the required "typ" header (e.g. "at+jwt",
	// RFC 9068 §2.1), compared case-insensitively with or without
	// "application/".
	Type string
	// Claims are further requirements on every token (sub, azp, ...).
	Claims []ClaimMatcher

	// ClaimHeaders are sent upstream on success; a value longer than
	// MaxClaimHeaderBytes (0: DefaultMaxClaimHeaderBytes) is not sent.
	ClaimHeaders        []ClaimHeader
	MaxClaimHeaderBytes int
	// PayloadHeader, if set, carries the claims JSON upstream, base64url.
	PayloadHeader string

	// CacheEntries bounds the verified-token cache; 0 disables it.
	CacheEntries int
	// CacheTTL bounds how long an entry is used (never past exp).
	CacheTTL time.Duration

	// CertBinding requires certificate-bound tokens (RFC 8705); Peer
	// reads the client certificate's digest for it.
	CertBinding CertBinding
	Peer        PeerDigest
}

// Provider is a compiled jwt provider. Its configuration is immutable; its
// key store and cache are per VM and used from one thread.
type Provider struct {
	name, realm   string
	sources       []Source
	stripNames    []authn.Names // per source, its header, query or cookie name
	maxToken      int
	keep          bool
	v             validator
	issuers       []string
	symmetric     bool
	headers       []ClaimHeader
	maxHeader     int
	payloadHeader string
	challenge     string
	remote        *RemoteSpec
	store         *KeyStore
	cache         *cache
	host          SignatureVerifier
	binding       CertBinding
	peer          PeerDigest
}

// New compiles o into a provider. It checks what the configuration layer
// cannot express: algorithms against the keys (HS* only with a secret key,
// a secret key only alone and only with HS*), an issuer, and key sources.
func New(o Options) (*Provider, error) {
	p := &Provider{
		name: o.Name, realm: o.Realm, sources: slices.Clone(o.Sources), maxToken: o.MaxTokenBytes,
		keep: o.KeepToken, issuers: slices.Clone(o.Issuers), headers: slices.Clone(o.ClaimHeaders),
		maxHeader: o.MaxClaimHeaderBytes, payloadHeader: o.PayloadHeader, remote: o.Remote,
		binding: o.CertBinding, peer: o.Peer,
	}
	if len(p.sources) == 0 {
		p.sources = []Source{{Header: "authorization"}}
	}
	for _, s := range p.sources {
		name := s.Header
		switch {
		case s.Query != "":
			name = s.Query
		case s.Cookie != "":
			name = s.Cookie
		}
		p.stripNames = append(p.stripNames, authn.Name(name))
	}
	if p.maxToken <= 0 {
		p.maxToken = DefaultMaxTokenBytes
	}
	if p.maxHeader <= 0 {
		p.maxHeader = DefaultMaxClaimHeaderBytes
	}
	if len(o.Issuers) == 0 {
		return nil, errors.New("at least one issuer is required")
	}
	if (o.Keys == nil) == (o.Remote == nil) {
		return nil, errors.New("exactly one of static keys and remote keys is required")
	}
	minBits := o.MinRSABits
	if minBits <= 0 {
		minBits = DefaultMinRSABits
	}
	p.symmetric = o.Keys.HasSymmetric()
	if p.symmetric && o.Keys.Len() != 1 {
		return nil, errors.New("an HMAC secret cannot be combined with other keys")
	}
	algs := o.Algorithms
	if algs == nil {
		algs = DefaultAlgorithms
		if p.symmetric {
			algs = []string{"HS256"}
		}
	}
	p.v = validator{
		algs: map[string]*algorithm{}, issuers: newStringSet(o.Issuers), audiences: newStringSet(o.Audiences),
		requireExp: !o.AllowMissingExpiry, skew: max(o.ClockSkew, 0), maxLifetime: o.MaxLifetime,
		typ: normalizeType(o.Type), minRSABits: minBits, claims: slices.Clone(o.Claims),
		headers: &headerMemo{},
	}
	for _, name := range algs {
		a := algorithms[name]
		switch {
		case a == nil:
			return nil, fmt.Errorf("unsupported algorithm %q", name)
		case a.key == KeyOct && !p.symmetric:
			return nil, fmt.Errorf("%s needs an explicitly configured HMAC secret", name)
		case a.key != KeyOct && p.symmetric:
			return nil, fmt.Errorf("%s cannot be used with an HMAC secret", name)
		case a.key == KeyOct && len(o.Keys.Keys()[0].secret) < a.minSecret:
			return nil, fmt.Errorf("%s needs a secret of at least %d bytes", name, a.minSecret)
		}
		p.v.algs[name] = a
	}
	if len(p.v.algs) == 0 {
		return nil, errors.New("the algorithm list is empty")
	}
	if o.Remote != nil {
		p.store = NewKeyStore(o.Remote, minBits)
	} else {
		p.store = NewStaticKeyStore(o.Keys)
	}
	if o.CacheEntries > 0 {
		ttl := o.CacheTTL
		if ttl <= 0 {
			ttl = DefaultCacheTTL
		}
		p.cache = newCache(o.CacheEntries, ttl)
	}
	p.challenge = challenge(p.realm)
	return p, nil
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// Name is the configured provider name.
func (p *Provider) Name() string { return p.name }

// Method is "jwt".
func (p *Provider) Method() string { return "jwt" }

// Challenge is the plain RFC 6750 §3 challenge, `Bearer realm="..."`, sent
// with a 401 when no token was presented.
func (p *Provider) Challenge() string { return p.challenge }

// Issuers returns the accepted issuers. Callers must not modify the slice.
func (p *Provider) Issuers() []string { return p.issuers }

// Symmetric reports whether the provider verifies with an HMAC secret.
func (p *Provider) Symmetric() bool { return p.symmetric }

// Remote returns where keys are fetched from, or nil for static keys.
func (p *Provider) Remote() *RemoteSpec { return p.remote }

// KeyStore returns the provider's key store (per VM), which the filter
// drives for remote keys.
func (p *Provider) KeyStore() *KeyStore { return p.store }

// SetSignatureVerifier makes the provider try v for signatures first (see
// SignatureVerifier); nil verifies everything in Wasm. The filter calls it
// per VM in proxy_on_configure, before any request.
func (p *Provider) SetSignatureVerifier(v SignatureVerifier) { p.host = v }

// CacheLen is the number of cached verified tokens (for a gauge).
func (p *Provider) CacheLen() int {
	if p.cache == nil {
		return 0
	}
	return p.cache.len()
}

// SlowAlgorithms lists the allowed algorithms whose in-Wasm verification
// costs tens of milliseconds (ES512: about 46 ms per signature, P-521 has
// no assembly in Wasm) and for which the provider has, or may fetch, a
// key: each forged token naming such a key costs that much of the worker
// thread unless the host verifies it natively. The configuration warns
// about them.
func (p *Provider) SlowAlgorithms() []string {
	a := p.v.algs["ES512"]
	if a == nil {
		return nil
	}
	if p.remote != nil {
		return []string{"ES512"}
	}
	set, _ := p.store.Keys()
	for _, k := range set.Keys() {
		if k.fits(a) {
			return []string{"ES512"}
		}
	}
	return nil
}

// Unavailable is the error for a request that waited MaxWait for remote
// keys in vain: 401 invalid_token, counted as internal_error.
func (p *Provider) Unavailable() *authn.Error { return deny(FailKeysUnavailable, p.realm) }

// Authenticate judges req's bearer token; it runs in
// proxy_on_request_headers, and again for a request it paused.
//
//   - Absent: no token in any source (a DPoP-scheme Authorization is not a
//     bearer token).
//   - Invalid: two tokens (400 invalid_request), a token over the size
//     limit (400), or a token that fails verification (401 invalid_token
//     with its Bearer challenge); keys unavailable (401).
//   - Pending: remote keys have not arrived yet, or a refetch for an
//     unknown kid is under way. The filter pauses the request (at most
//     RemoteSpec.MaxWait, then Unavailable), fetches, and asks again.
//   - Valid: Identity.Principal is "iss/sub" (Istio's request.auth.principal
//     form; "iss/" for a token without sub), Identity.Claims the *Claims, Identity.Headers the configured
//     claim headers; Strip removes the token unless KeepToken.
//
// CacheHit/CacheMiss report the verified-token cache when it is enabled.
func (p *Provider) Authenticate(req *authn.Request) authn.Verdict {
	tok, strip, f := p.extract(req)
	switch {
	case f != FailNone:
		return p.invalid(f)
	case tok == "":
		return authn.Verdict{Outcome: authn.Absent}
	}
	if p.keep {
		strip = authn.Edit{}
	}
	set, _ := p.store.Keys()
	var ck [sha512.Size256]byte
	if p.cache != nil {
		// SHA-512/256: as strong a key as SHA-256, and about a third
		// faster on a token's few hundred bytes in Wasm, whose 64-bit
		// arithmetic SHA-512 uses natively.
		ck = sha512.Sum512_256([]byte(tok))
		if e := p.cache.get(ck, req.Now, set); e != nil {
			id := e.identity
			if c, ok := id.Claims.(*Claims); ok {
				// The binding is to this connection, never cached.
				if f := p.checkBinding(c, req); f != FailNone {
					return p.invalid(f)
				}
			}
			id.Headers = slices.Clone(id.Headers)
			return authn.Verdict{Outcome: authn.Valid, Identity: id, Strip: strip, CacheHit: true}
		}
	}
	if !p.store.Ready() {
		if p.store.Failing() {
			return p.invalid(FailKeysUnavailable)
		}
		return authn.Verdict{Outcome: authn.Pending}
	}
	res, f := p.v.verify(tok, req.Now, set, p.host)
	if f == FailUnknownKID && p.store.OnUnknownKID(req.Now) {
		return authn.Verdict{Outcome: authn.Pending}
	}
	if f == FailNone {
		f = p.checkBinding(res.claims, req)
	}
	if f != FailNone {
		v := p.invalid(f)
		v.CacheMiss = p.cache != nil
		return v
	}
	id := authn.Identity{
		Principal: res.claims.Issuer + "/" + res.claims.Subject,
		Headers:   p.identityHeaders(res.claims),
		Claims:    res.claims,
	}
	v := authn.Verdict{Outcome: authn.Valid, Identity: id, Strip: strip}
	if p.cache != nil {
		until := req.Now.Add(p.cache.ttl)
		if !res.claims.Expiry.IsZero() {
			until = minTime(until, res.claims.Expiry.Add(p.v.skew))
		}
		p.cache.put(ck, until, &cacheEntry{key: res.key.Fingerprint(), identity: id})
		v.Identity.Headers = slices.Clone(id.Headers)
		v.CacheMiss = true
	}
	return v
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (p *Provider) invalid(f Failure) authn.Verdict {
	return authn.Verdict{Outcome: authn.Invalid, Err: deny(f, p.realm)}
}

// extract finds the one token in req. It returns "" with FailNone when
// there is none.
func (p *Provider) extract(req *authn.Request) (string, authn.Edit, Failure) {
	var (
		tok   string
		found int
		strip authn.Edit
	)
	add := func(v string) {
		found++
		tok = v
	}
	for i, s := range p.sources {
		n := found
		switch {
		case s.Query != "":
			vals, ok := authn.QueryValues(req.RawQuery(), s.Query)
			if !ok {
				return "", strip, FailUndecodableQuery
			}
			for _, v := range vals {
				add(v)
			}
			if found > n {
				strip.RemoveQuery = authn.AppendName(strip.RemoveQuery, p.stripNames[i])
			}
		case s.Cookie != "":
			for h := range req.Each("cookie") {
				for _, v := range cookieValues(h, s.Cookie) {
					add(v)
				}
			}
			if found > n {
				strip.RemoveCookies = authn.AppendName(strip.RemoveCookies, p.stripNames[i])
			}
		case s.Header == "authorization" && s.Prefix == "":
			for v := range req.Each("authorization") {
				if t, ok := cutBearer(v); ok {
					add(t)
				}
			}
			if found > n {
				strip.RemoveHeaders = authn.AppendName(strip.RemoveHeaders, p.stripNames[i])
			}
		default:
			for v := range req.Each(s.Header) {
				if s.Prefix != "" {
					if len(v) < len(s.Prefix) || !strings.EqualFold(v[:len(s.Prefix)], s.Prefix) {
						continue
					}
					v = v[len(s.Prefix):]
				}
				add(strings.Trim(v, " \t"))
			}
			if found > n {
				strip.RemoveHeaders = authn.AppendName(strip.RemoveHeaders, p.stripNames[i])
			}
		}
	}
	switch {
	case found == 0:
		return "", strip, FailNone
	case found > 1:
		return "", strip, FailMultipleTokens
	case len(tok) > p.maxToken:
		return "", strip, FailTokenTooLarge
	case tok == "":
		return "", strip, FailEmptyToken
	}
	return tok, strip, FailNone
}

// cutBearer returns the token68 after a case-insensitive "Bearer" scheme
// (RFC 6750 §2.1, RFC 9110 §11.1). Other schemes (Basic, DPoP, ...) are not
// bearer tokens. "Bearer" alone yields an empty token.
func cutBearer(v string) (string, bool) {
	const scheme = "bearer"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	rest := v[len(scheme):]
	if rest == "" {
		return "", true
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return "", false // e.g. "Bearerx"
	}
	return strings.Trim(rest, " \t"), true
}

// cookieValues returns the values of every cookie called name in one Cookie
// header (RFC 6265 §5.4; HTTP/2 may split cookies over several headers),
// without the optional double quotes.
func cookieValues(header, name string) []string {
	var out []string
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(k) != name {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out = append(out, v)
	}
	return out
}

// RemoveCookies returns a Cookie header value without the cookies in names,
// the others kept in order and as received; "" when none is left (the
// filter then removes the header). It implements authn.Edit.RemoveCookies.
func RemoveCookies(header string, names []string) string {
	var kept []string
	for _, part := range strings.Split(header, ";") {
		k, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.TrimSpace(part) == "" || slices.Contains(names, strings.TrimSpace(k)) {
			continue
		}
		kept = append(kept, strings.TrimSpace(part))
	}
	return strings.Join(kept, "; ")
}

// identityHeaders renders the configured claim headers: strings as they
// are, numbers and booleans as JSON text, arrays as their elements (each
// rendered the same way, objects as JSON) joined with ",", objects as
// compact JSON. A value with control characters has them replaced by
// spaces; a missing claim, or a value over the size cap, sends no header.
func (p *Provider) identityHeaders(c *Claims) []authn.Header {
	var hs []authn.Header
	for _, ch := range p.headers {
		v := c.Lookup(ch.Path)
		if !v.Exists() || v.Type == gjson.Null {
			continue
		}
		s := renderClaim(v)
		if len(s) > p.maxHeader {
			continue
		}
		hs = append(hs, authn.Header{Key: ch.Header, Value: authn.CleanValue(s)})
	}
	if p.payloadHeader != "" {
		hs = append(hs, authn.Header{Key: p.payloadHeader, Value: base64.RawURLEncoding.EncodeToString(c.raw)})
	}
	return hs
}

func renderClaim(v gjson.Result) string {
	switch {
	case v.Type == gjson.String:
		return v.Str
	case v.IsArray():
		var parts []string
		v.ForEach(func(_, e gjson.Result) bool {
			if e.Type == gjson.String {
				parts = append(parts, e.Str)
			} else {
				parts = append(parts, compact(e.Raw))
			}
			return true
		})
		return strings.Join(parts, ",")
	}
	return compact(v.Raw)
}

// compact removes insignificant whitespace from valid JSON.
func compact(raw string) string {
	var b strings.Builder
	inStr, esc := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// JWT returns p itself; wrappers (DPoP) return the provider they wrap, so
// that the filter finds the keys and the verifier either way.
func (p *Provider) JWT() *Provider { return p }
