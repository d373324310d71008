package config

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/dpop"
	"github.com/wasm-authn/wasm-authn/internal/dpopauth"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
	"github.com/wasm-authn/wasm-authn/internal/policy"
)

// cookieName is an RFC 6265 cookie-name (an RFC 9110 token).
var cookieName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]+$`)

// jwtProvider compiles a "jwt" provider and remembers it (even when it has
// errors) so that rules referring to it may carry jwt constraints.
func (c *compiler) jwtProvider(o *object, name string, p *policy.Policy) authn.Provider {
	if c.jwts == nil {
		c.jwts = map[int]*jwt.Provider{}
	}
	c.dpop = nil
	jp := c.jwt(o, name, p)
	c.jwts[len(p.Providers)] = jp
	if jp == nil {
		return nil
	}
	if d := c.dpop; d != nil {
		var store *dpop.SharedStore
		if c.env.Shared != nil {
			// 64 shards of 2048 entries hold the proofs of about 2,000
			// requests per second for the replay window (60 s + 5 s skew).
			store = &dpop.SharedStore{Data: c.env.Shared, Prefix: c.env.SharedPrefix + "dpop.jti.v1." + name + ".", Shards: 64}
		}
		var nonces *dpop.SharedNonces
		if d.nonceLifetime > 0 {
			// Without shared data (validation) the source fails, and so
			// would any request: never "no nonce required".
			nonces = &dpop.SharedNonces{Data: c.env.Shared, Key: c.env.SharedPrefix + "dpop.nonce.v1." + name, Lifetime: d.nonceLifetime}
		}
		return dpopauth.New(jp, d.opts, d.required, store, nonces)
	}
	return jp
}

// dpopSpec is a jwt provider's "dpop" object.
type dpopSpec struct {
	opts          dpop.Options
	required      bool
	nonceLifetime time.Duration // 0: no server nonces
}

// dpopConfig reads {"required": bool, "algorithms": [...],
// "max_age_seconds": n, "nonce_lifetime_seconds": n} into c.dpop.
func (c *compiler) dpopConfig(o *object, realm string) {
	d := o.obj("dpop", false)
	if d == nil {
		return
	}
	defer d.close()
	spec := &dpopSpec{opts: dpop.Options{Realm: realm}}
	spec.required = d.boolean("required")
	if d.has("algorithms") {
		spec.opts.Algorithms, _ = d.strings("algorithms")
	}
	spec.opts.MaxAge = time.Duration(d.integer("max_age_seconds", int64(dpop.DefaultMaxAge/time.Second), 1, 3600)) * time.Second
	if d.has("nonce_lifetime_seconds") {
		spec.nonceLifetime = time.Duration(d.integer("nonce_lifetime_seconds", 0, 10, 86400)) * time.Second
	}
	if err := spec.opts.Validate(); err != nil {
		c.ps.add(d.path, "%v", err)
		return
	}
	c.dpop = spec
}

// ruleConstraints reads the constraint fields of a rule's reference to
// provider i; only jwt providers have any (other providers' references
// reject them as unknown fields).
func (c *compiler) ruleConstraints(o *object, i int) []authn.Constraint {
	jp, ok := c.jwts[i]
	if !ok {
		return nil
	}
	return c.jwtConstraints(o, jp)
}

// jwt compiles a "jwt" provider. Header names it sends upstream (claim
// headers, the payload header) are added to p.Strip so that a client can
// never send them itself.
func (c *compiler) jwt(o *object, name string, p *policy.Policy) *jwt.Provider {
	if o == nil {
		return nil
	}
	defer o.close()
	bad := len(c.ps.list)
	opts := jwt.Options{Name: name, Realm: p.Realm}
	if o.has("realm") {
		opts.Realm = o.str("realm", true)
		c.realm(o.field("realm"), opts.Realm)
	}

	// Issuers and audiences.
	iss, ip := o.strings("issuers")
	if !o.has("issuers") {
		c.ps.add(ip, "is required")
	} else if len(iss) == 0 {
		c.ps.add(ip, "must not be empty")
	}
	for i, s := range iss {
		if s == "" || authn.CleanValue(s) != s || slices.Contains(iss[:i], s) {
			c.ps.add(index(ip, i), "must be a non-empty issuer without control characters, listed once")
		}
	}
	opts.Issuers = iss
	aud, ap := o.strings("audiences")
	if o.has("audiences") && len(aud) == 0 {
		c.ps.add(ap, "must not be empty (omit it to accept every audience)")
	}
	for i, s := range aud {
		if s == "" {
			c.ps.add(index(ap, i), "must not be empty")
		}
	}
	if len(aud) == 0 {
		c.warn(o.path, "no audiences: tokens the issuers minted for any other service are accepted too")
	}
	opts.Audiences = aud

	// Keys.
	opts.MinRSABits = int(o.integer("min_rsa_bits", jwt.DefaultMinRSABits, 1024, jwt.MaxRSABits))
	if opts.MinRSABits < jwt.DefaultMinRSABits {
		c.warn(o.field("min_rsa_bits"), "RSA keys under %d bits are accepted", jwt.DefaultMinRSABits)
	}
	secretLen := c.jwtKeys(o, &opts)
	if algs, alp := o.strings("algorithms"); o.has("algorithms") {
		if len(algs) == 0 {
			c.ps.add(alp, "must not be empty (omit it for the default asymmetric algorithms)")
		}
		for i, a := range algs {
			switch kt := jwt.AlgorithmKeyType(a); {
			case kt == 0:
				c.ps.add(index(alp, i), "unsupported algorithm %q; supported: %s", a, strings.Join(jwt.SupportedAlgorithms(), ", "))
			case kt == jwt.KeyOct && !o.has("hmac_secret"):
				c.ps.add(index(alp, i), "%s needs hmac_secret", a)
			case kt != jwt.KeyOct && o.has("hmac_secret"):
				c.ps.add(index(alp, i), "%s cannot be used with hmac_secret", a)
			case slices.Contains(algs[:i], a):
				c.ps.add(index(alp, i), "duplicate algorithm %q", a)
			case secretLen > 0 && secretLen < jwt.MinSecretLength(a):
				c.ps.add(index(alp, i), "%s needs a secret of at least %d bytes", a, jwt.MinSecretLength(a))
			}
		}
		opts.Algorithms = algs
	}

	// Token sources.
	opts.Sources = c.jwtSources(o)
	opts.MaxTokenBytes = int(o.integer("max_token_bytes", jwt.DefaultMaxTokenBytes, 256, 64<<10))
	opts.KeepToken = o.boolean("keep_credential")

	// Claims.
	if o.has("require_expiration") {
		opts.AllowMissingExpiry = !o.boolean("require_expiration")
		if opts.AllowMissingExpiry {
			c.warn(o.field("require_expiration"), "tokens without exp are accepted and never expire")
		}
	}
	opts.ClockSkew = time.Duration(o.integer("clock_skew_seconds", int64(jwt.DefaultClockSkew/time.Second), 0, 600)) * time.Second
	opts.MaxLifetime = time.Duration(o.integer("max_lifetime_seconds", 0, 1, 366*86400)) * time.Second
	if o.has("typ") {
		opts.Type = o.str("typ", true)
		if opts.Type == "" || strings.ContainsAny(opts.Type, " \t\r\n") {
			c.ps.add(o.field("typ"), `must be a media type such as "at+jwt"`)
		}
	}
	opts.Claims = c.claimMatchers(o, "claims")

	// Upstream headers.
	hl, hp := o.array("claim_headers", false)
	for i, hv := range hl {
		h := asObject(hv, index(hp, i), &c.ps)
		if h == nil {
			continue
		}
		var ch jwt.ClaimHeader
		if path, err := jwt.ParseClaimPath(h.str("claim", true)); err != nil && h.has("claim") {
			c.ps.add(h.field("claim"), "%v", err)
		} else {
			ch.Path = path
		}
		ch.Header = h.str("header", true)
		if c.header(h.field("header"), ch.Header) {
			c.upstreamHeader(h.field("header"), ch.Header, p, &opts)
		}
		h.close()
		opts.ClaimHeaders = append(opts.ClaimHeaders, ch)
	}
	opts.MaxClaimHeaderBytes = int(o.integer("max_claim_header_bytes", jwt.DefaultMaxClaimHeaderBytes, 64, 64<<10))
	if o.has("payload_header") {
		opts.PayloadHeader = o.str("payload_header", true)
		if c.header(o.field("payload_header"), opts.PayloadHeader) {
			c.upstreamHeader(o.field("payload_header"), opts.PayloadHeader, p, &opts)
		}
	}

	// Cache.
	opts.CacheEntries, opts.CacheTTL = DefaultCacheEntries, DefaultCacheTTLSecond*time.Second
	if co := o.obj("cache", false); co != nil {
		opts.CacheEntries = int(co.integer("max_entries", DefaultCacheEntries, 0, 1_000_000))
		opts.CacheTTL = time.Duration(co.integer("ttl_seconds", DefaultCacheTTLSecond, 1, 86400)) * time.Second
		co.close()
	}

	if len(c.ps.list) > bad {
		return nil
	}
	// An issuer is either symmetric or asymmetric across all providers: an
	// HMAC secret must never verify tokens of an issuer that signs with
	// public keys (RFC 8725 §3.1, algorithm confusion).
	for _, prev := range p.Providers {
		jp, ok := prev.(*jwt.Provider)
		if !ok || jp.Symmetric() == (opts.Keys != nil && opts.Keys.HasSymmetric()) {
			continue
		}
		for _, s := range opts.Issuers {
			if slices.Contains(jp.Issuers(), s) {
				c.ps.add(o.field("issuers"), "issuer %q is verified with an HMAC secret by one provider and public keys by another (%q)", s, jp.Name())
				return nil
			}
		}
	}
	c.dpopConfig(o, opts.Realm)
	if o.has("certificate_bound") {
		switch v := o.str("certificate_bound", true); v {
		case "required":
			opts.CertBinding = jwt.CertBindingRequired
		case "if_present":
			opts.CertBinding = jwt.CertBindingIfPresent
		default:
			c.ps.add(o.field("certificate_bound"), `must be "required" or "if_present"`)
		}
		if peer := c.env.Peer; peer != nil {
			opts.Peer = func(req *authn.Request) (string, bool, error) {
				p, err := peer(req)
				if err != nil {
					return "", false, err
				}
				return p.SHA256Hex, p.Presented && p.SHA256Hex != "", nil
			}
		}
	}
	prov, err := jwt.New(opts)
	if err != nil {
		c.ps.add(o.path, "%v", err)
		return nil
	}
	if slow := prov.SlowAlgorithms(); len(slow) > 0 && (o.has("algorithms") || opts.Remote == nil) {
		c.warn(o.path, "%s signatures take tens of milliseconds to check in Wasm when the host cannot; list only the algorithms the issuer uses", strings.Join(slow, ", "))
	}
	return prov
}

// upstreamHeader reserves name for the provider's identity headers.
func (c *compiler) upstreamHeader(path, name string, p *policy.Policy, opts *jwt.Options) {
	reserved := []string{p.Identity.Method, p.Identity.Provider, p.Identity.Principal}
	if slices.Contains(reserved, name) || strings.HasPrefix(name, p.Identity.MetadataPrefix) {
		c.ps.add(path, "%q is one of the identity headers", name)
		return
	}
	for _, h := range opts.ClaimHeaders {
		if h.Header == name {
			c.ps.add(path, "header %q is already used", name)
			return
		}
	}
	if !slices.Contains(p.Strip, name) {
		p.Strip = append(p.Strip, name)
	}
}

// jwtKeys reads the key source; secretLen is the HMAC secret's length.
func (c *compiler) jwtKeys(o *object, opts *jwt.Options) (secretLen int) {
	kinds := 0
	for _, k := range []string{"jwks", "public_keys", "hmac_secret", "remote_jwks", "oidc_discovery"} {
		if o.has(k) {
			kinds++
		}
	}
	static := o.has("jwks") || o.has("public_keys")
	switch {
	case kinds == 0:
		c.ps.add(o.path, "needs keys: jwks, public_keys, hmac_secret, remote_jwks or oidc_discovery")
		return 0
	case kinds > 1 && !(kinds == 2 && o.has("jwks") && o.has("public_keys")):
		c.ps.add(o.path, "set one key source (jwks and public_keys may be combined)")
		return 0
	}
	var keys []*jwt.Key
	if static {
		if v, ok := o.get("jwks"); ok {
			var data []byte
			switch t := v.(type) {
			case string:
				data = []byte(t)
			case map[string]any:
				data, _ = json.Marshal(t)
			default:
				c.ps.add(o.field("jwks"), "must be a JWKS object or its JSON text, not %s", typeName(v))
			}
			if data != nil {
				set, skipped, err := jwt.ParseKeySet(data, opts.MinRSABits)
				bad := false
				for _, s := range skipped {
					// Keys for something else (encryption keys, other curves,
					// as in a key set copied from an identity provider) are
					// skipped; a signing key that cannot be used is an error.
					if s.Other {
						c.warn(o.field("jwks"), "%s; the key is skipped", s)
					} else {
						c.ps.add(o.field("jwks"), "%s", s)
						bad = true
					}
				}
				switch {
				case err != nil:
					c.ps.add(o.field("jwks"), "%v", err)
				case bad: // each unusable signing key is reported above
				case set.Len() == 0:
					c.ps.add(o.field("jwks"), "has no keys")
				default:
					keys = append(keys, set.Keys()...)
				}
			}
		}
		pl, pp := o.array("public_keys", false)
		if o.has("public_keys") && len(pl) == 0 {
			c.ps.add(pp, "must not be empty")
		}
		for i, kv := range pl {
			k := asObject(kv, index(pp, i), &c.ps)
			if k == nil {
				continue
			}
			kid := k.str("kid", false)
			ks, err := jwt.ParsePEM([]byte(k.str("pem", true)), kid, opts.MinRSABits)
			if err != nil && k.has("pem") {
				c.ps.add(k.field("pem"), "%v", err)
			}
			keys = append(keys, ks...)
			k.close()
		}
		opts.Keys = jwt.NewKeySet(keys...)
		return 0
	}
	if o.has("hmac_secret") {
		s := o.str("hmac_secret", true)
		secret, err := decodeBase64(s)
		switch {
		case err != nil:
			c.ps.add(o.field("hmac_secret"), "must be base64 (standard or URL alphabet)")
		case len(secret) < jwt.MinSecretBytes:
			c.ps.add(o.field("hmac_secret"), "must decode to at least %d bytes", jwt.MinSecretBytes)
		default:
			k, _ := jwt.NewSecretKey(secret)
			opts.Keys = jwt.NewKeySet(k)
			secretLen = len(secret)
		}
		c.warn(o.field("hmac_secret"), "a shared secret lets every holder mint tokens; prefer public keys")
		return secretLen
	}
	key := "remote_jwks"
	if o.has("oidc_discovery") {
		key = "oidc_discovery"
	}
	r := o.obj(key, true)
	if r == nil {
		return 0
	}
	defer r.close()
	spec := &jwt.RemoteSpec{Discovery: key == "oidc_discovery"}
	spec.Cluster = r.str("cluster", true)
	if r.has("cluster") && (spec.Cluster == "" || authn.CleanValue(spec.Cluster) != spec.Cluster) {
		c.ps.add(r.field("cluster"), "must be an Envoy cluster name")
	}
	if r.has("jwks_cluster") {
		spec.JWKSCluster = r.str("jwks_cluster", false)
		switch {
		case !spec.Discovery:
			c.ps.add(r.field("jwks_cluster"), "only with oidc_discovery (remote_jwks has one cluster)")
		case spec.JWKSCluster == "" || authn.CleanValue(spec.JWKSCluster) != spec.JWKSCluster:
			c.ps.add(r.field("jwks_cluster"), "must be an Envoy cluster name")
		}
	}
	iss, _ := o.strings("issuers")
	if spec.Discovery {
		if len(iss) != 1 {
			c.ps.add(r.path, "needs exactly one issuer (the discovery document's)")
		} else {
			spec.Issuer = iss[0]
			spec.URI = strings.TrimSuffix(iss[0], "/") + "/.well-known/openid-configuration"
		}
	}
	if r.has("uri") || !spec.Discovery {
		spec.URI = r.str("uri", true)
	}
	if spec.URI != "" {
		var err error
		if spec.Authority, spec.Path, err = jwt.SplitURI(spec.URI); err != nil {
			c.ps.add(r.field("uri"), "%v", err)
		}
	}
	spec.Timeout = time.Duration(r.integer("timeout_ms", int64(jwt.DefaultFetchTimeout/time.Millisecond), 100, 60_000)) * time.Millisecond
	spec.Refresh = time.Duration(r.integer("refresh_seconds", int64(jwt.DefaultRefreshInterval/time.Second), 10, 86400)) * time.Second
	spec.UnknownKIDInterval = time.Duration(r.integer("unknown_kid_refetch_seconds", int64(jwt.DefaultUnknownKIDInterval/time.Second), 1, 3600)) * time.Second
	spec.MaxWait = time.Duration(r.integer("max_wait_ms", int64(jwt.DefaultMaxWait/time.Millisecond), 0, 60_000)) * time.Millisecond
	opts.Remote = spec
	return 0
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

func (c *compiler) jwtSources(o *object) []jwt.Source {
	list, sp := o.array("sources", false)
	if list == nil {
		return nil
	}
	if len(list) == 0 {
		c.ps.add(sp, "must not be empty")
	}
	var out []jwt.Source
	for i, sv := range list {
		s := asObject(sv, index(sp, i), &c.ps)
		if s == nil {
			continue
		}
		var src jwt.Source
		n := 0
		for _, k := range []string{"header", "query", "cookie"} {
			if s.has(k) {
				n++
			}
		}
		switch {
		case n != 1:
			c.ps.add(s.path, "must set exactly one of header, query and cookie")
		case s.has("header"):
			src.Header = s.str("header", true)
			if strings.HasPrefix(src.Header, ":") || !headerName.MatchString(src.Header) || src.Header == "cookie" {
				c.ps.add(s.field("header"), "must be a lower-case HTTP header name (not cookie)")
			}
			if s.has("prefix") {
				src.Prefix = s.str("prefix", true)
				if src.Prefix == "" || authn.CleanValue(src.Prefix) != src.Prefix {
					c.ps.add(s.field("prefix"), "must not be empty or have control characters")
				}
			}
		case s.has("query"):
			src.Query = s.str("query", true)
			if src.Query == "" {
				c.ps.add(s.field("query"), "must not be empty")
			}
		default:
			src.Cookie = s.str("cookie", true)
			if !cookieName.MatchString(src.Cookie) {
				c.ps.add(s.field("cookie"), "must be a cookie name")
			}
		}
		if n == 1 && !s.has("header") && s.has("prefix") {
			c.ps.add(s.field("prefix"), "applies only to header sources")
		}
		if slices.Contains(out, src) {
			c.ps.add(s.path, "duplicate source")
		}
		s.close()
		out = append(out, src)
	}
	return out
}

// claimMatchers reads an array of {"path", one of "equals", "one_of",
// "contains", "prefix"} objects.
func (c *compiler) claimMatchers(o *object, key string) []jwt.ClaimMatcher {
	list, lp := o.array(key, false)
	if o.has(key) && list != nil && len(list) == 0 {
		c.ps.add(lp, "must not be empty")
	}
	var out []jwt.ClaimMatcher
	for i, mv := range list {
		m := asObject(mv, index(lp, i), &c.ps)
		if m == nil {
			continue
		}
		var cm jwt.ClaimMatcher
		if path, err := jwt.ParseClaimPath(m.str("path", true)); err != nil && m.has("path") {
			c.ps.add(m.field("path"), "%v", err)
		} else {
			cm.Path = path
		}
		n := 0
		for _, k := range []string{"equals", "one_of", "contains", "prefix"} {
			if !m.has(k) {
				continue
			}
			n++
			switch k {
			case "one_of":
				vals, vp := m.strings(k)
				if len(vals) == 0 {
					c.ps.add(vp, "must not be empty")
				}
				cm.Kind, cm.Values = jwt.MatchOneOf, vals
			default:
				cm.Values = []string{m.str(k, true)}
				cm.Kind = map[string]jwt.MatchKind{"equals": jwt.MatchExact, "contains": jwt.MatchContains, "prefix": jwt.MatchPrefix}[k]
				if k == "prefix" && cm.Values[0] == "" {
					c.ps.add(m.field(k), "must not be empty")
				}
			}
		}
		if n != 1 {
			c.ps.add(m.path, "must set exactly one of equals, one_of, contains and prefix")
		}
		m.close()
		out = append(out, cm)
	}
	return out
}

// jwtConstraints reads the per-rule fields next to "provider" naming a jwt
// provider: scopes, claims, acr_values, max_age_seconds and resource.
func (c *compiler) jwtConstraints(o *object, prov *jwt.Provider) []authn.Constraint {
	var r jwt.Requirement
	scopes, sp := o.strings("scopes")
	if o.has("scopes") && len(scopes) == 0 {
		c.ps.add(sp, "must not be empty")
	}
	for i, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") || authn.CleanValue(s) != s {
			c.ps.add(index(sp, i), "must be a scope token (no spaces, quotes or backslashes)")
		}
	}
	r.Scopes = scopes
	r.Claims = c.claimMatchers(o, "claims")
	acr, acp := o.strings("acr_values")
	if o.has("acr_values") && len(acr) == 0 {
		c.ps.add(acp, "must not be empty")
	}
	for i, s := range acr {
		if s == "" || strings.ContainsAny(s, " \"\\") || authn.CleanValue(s) != s {
			c.ps.add(index(acp, i), "must be an ACR value (no spaces, quotes or backslashes)")
		}
	}
	r.ACRValues = acr
	r.MaxAge = time.Duration(o.integer("max_age_seconds", 0, 0, 366*86400)) * time.Second
	if o.has("resource") {
		r.Resource = o.str("resource", true)
		if u, err := url.Parse(r.Resource); err != nil || !u.IsAbs() || u.Fragment != "" || authn.CleanValue(r.Resource) != r.Resource {
			c.ps.add(o.field("resource"), "must be an absolute URI without a fragment (RFC 8707 §2)")
		}
	}
	if prov == nil {
		return nil
	}
	return prov.Constraints(r)
}
