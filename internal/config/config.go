// Package config parses, validates and compiles a wasm-authn configuration.
//
// The configuration is JSON, as Envoy delivers it (the `configuration`
// StringValue) and as Istio delivers `pluginConfig` (compact JSON whose
// numbers may be floats). Decoding is strict: unknown fields, duplicate keys
// and wrong types are errors. Every problem is reported with its JSON path,
// all at once, and the result is an immutable *policy.Policy. The same code
// runs in proxy_on_configure and in the `wasm-authn validate` command.
package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/apikey"
	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/basic"
	"github.com/wasm-authn/wasm-authn/internal/dpop"
	"github.com/wasm-authn/wasm-authn/internal/htpasswd"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
	"github.com/wasm-authn/wasm-authn/internal/mtls"
	"github.com/wasm-authn/wasm-authn/internal/policy"
)

// Defaults.
const (
	DefaultRealm          = "wasm-authn"
	DefaultMetricPrefix   = "wasm_authn"
	DefaultCacheEntries   = 1024
	DefaultCacheTTLSecond = 300
	maxExprDepth          = 8
)

// Validate parses, validates and compiles a plugin configuration exactly as
// proxy_on_configure does, and returns its warnings.
func Validate(data []byte) (warnings []string, err error) {
	_, warnings, err = Load(data)
	return warnings, err
}

// Env is what a compiled policy needs from its host at request time.
type Env struct {
	// Peer reads the connection's peer certificate for mtls providers; nil
	// where no request is ever judged (validation).
	Peer mtls.PeerSource
	// Shared is proxy-wasm shared data (DPoP replay protection across
	// worker VMs); SharedPrefix starts every key (plugin-specific, since
	// Istio shares one namespace between plugins). nil in validation.
	Shared       dpop.SharedData
	SharedPrefix string
}

// Load parses, validates and compiles a configuration. The error joins one
// Problem per mistake, each naming its JSON path.
func Load(data []byte) (*policy.Policy, []string, error) { return LoadWith(data, Env{}) }

// LoadWith is Load with the host's Env.
func LoadWith(data []byte, env Env) (*policy.Policy, []string, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, nil, Problem{Path: "$", Msg: "the configuration is empty; it needs at least one rule"}
	}
	v, err := parseJSON(data)
	if err != nil {
		if p, ok := err.(Problem); ok {
			return nil, nil, p
		}
		return nil, nil, Problem{Path: "$", Msg: err.Error()}
	}
	c := &compiler{env: env, mtlses: map[int]*mtls.Provider{}}
	p := c.policy(v)
	if err := c.ps.err(); err != nil {
		return nil, nil, err
	}
	return p, c.warnings, nil
}

type compiler struct {
	ps        problems
	warnings  []string
	providers map[string]int
	used      map[int]bool
	jwts      map[int]*jwt.Provider // jwt providers by index (nil if invalid)
	mtlses    map[int]*mtls.Provider
	dpop      *dpopSpec // the "dpop" object of the jwt provider being compiled
	env       Env
}

func (c *compiler) warn(path, format string, args ...any) {
	c.warnings = append(c.warnings, path+": "+fmt.Sprintf(format, args...))
}

var (
	headerName   = regexp.MustCompile(`^[a-z0-9!#$%&'*+.^_` + "`" + `|~-]+$`)
	providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	metricPrefix = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	methodName   = regexp.MustCompile(`^[A-Z]+$`)
	authScheme   = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`)
	hostPattern  = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$`)
)

// protectedHeaders may not be used as identity or strip headers: removing
// or forging them would break the request or the authentication itself.
var protectedHeaders = map[string]bool{
	"host": true, "authorization": true, "content-length": true, "transfer-encoding": true,
	"connection": true, "te": true, "upgrade": true, "cookie": true, "content-type": true,
}

func (c *compiler) header(path, name string) bool {
	switch {
	case name == "":
		c.ps.add(path, "must not be empty")
	case strings.HasPrefix(name, ":"):
		c.ps.add(path, "must not be a pseudo-header")
	case !headerName.MatchString(name):
		c.ps.add(path, "must be a lower-case HTTP header name")
	case protectedHeaders[name]:
		c.ps.add(path, "%q cannot be used here", name)
	default:
		return true
	}
	return false
}

// realm checks a realm for use inside a quoted-string.
func (c *compiler) realm(path, r string) {
	if r == "" {
		c.ps.add(path, "must not be empty")
		return
	}
	for _, ch := range r {
		if ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' {
			c.ps.add(path, "must not contain quotes, backslashes or control characters")
			return
		}
	}
}

func (c *compiler) policy(v any) *policy.Policy {
	o := asObject(v, "$", &c.ps)
	if o == nil {
		return nil
	}
	p := &policy.Policy{Realm: DefaultRealm, MetricPrefix: DefaultMetricPrefix}
	if o.has("realm") {
		p.Realm = o.str("realm", true)
		c.realm(o.field("realm"), p.Realm)
	}
	if o.has("metric_prefix") {
		p.MetricPrefix = o.str("metric_prefix", true)
		if !metricPrefix.MatchString(p.MetricPrefix) {
			c.ps.add(o.field("metric_prefix"), "must be dot-separated lower-case words, like wasm_authn")
		}
	}
	p.Identity = policy.IdentityHeaders{
		Method: "x-authn-method", Provider: "x-authn-provider",
		Principal: "x-authn-principal", MetadataPrefix: "x-authn-meta-",
	}
	if ih := o.obj("identity_headers", false); ih != nil {
		for _, f := range []struct {
			key string
			dst *string
		}{{"method", &p.Identity.Method}, {"provider", &p.Identity.Provider}, {"principal", &p.Identity.Principal}, {"metadata_prefix", &p.Identity.MetadataPrefix}} {
			if ih.has(f.key) {
				*f.dst = ih.str(f.key, true)
				c.header(ih.field(f.key), *f.dst)
			}
		}
		ih.close()
	}
	p.Strip = append(p.Strip, p.Identity.Method, p.Identity.Provider, p.Identity.Principal)
	extra, ep := o.strings("strip_request_headers")
	for i, h := range extra {
		if c.header(index(ep, i), h) {
			p.Strip = append(p.Strip, h)
		}
	}

	c.providers = map[string]int{}
	c.used = map[int]bool{}
	list, lp := o.array("providers", false)
	for i, pv := range list {
		if prov := c.provider(pv, index(lp, i), p); prov != nil {
			p.Providers = append(p.Providers, prov)
		} else {
			p.Providers = append(p.Providers, nil)
		}
	}
	rules, rp := o.array("rules", true)
	if rules != nil && len(rules) == 0 {
		c.ps.add(rp, "must have at least one rule (requests no rule matches are denied)")
	}
	names := map[string]bool{}
	for i, rv := range rules {
		if r := c.rule(rv, index(rp, i)); r != nil {
			if names[r.Name] {
				c.ps.add(index(rp, i)+".name", "duplicate rule name %q", r.Name)
			}
			names[r.Name] = true
			r.Index = len(p.Rules)
			p.Rules = append(p.Rules, r)
		}
	}
	for i := range p.Providers {
		if !c.used[i] {
			c.warn(index(lp, i), "provider is not used by any rule")
		}
	}
	o.close()
	return p
}

func (c *compiler) provider(v any, path string, p *policy.Policy) authn.Provider {
	o := asObject(v, path, &c.ps)
	if o == nil {
		return nil
	}
	defer o.close()
	name := o.str("name", true)
	if name != "" {
		if !providerName.MatchString(name) {
			c.ps.add(o.field("name"), "must be lower-case letters, digits, '-' or '_' (at most 63)")
		} else if _, dup := c.providers[name]; dup {
			c.ps.add(o.field("name"), "duplicate provider name %q", name)
		}
		c.providers[name] = len(p.Providers)
	}
	switch o.oneOf("api_key", "basic", "jwt", "mtls") {
	case "api_key":
		return c.apiKey(o.obj("api_key", true), name, p.Realm, p.Identity.MetadataPrefix)
	case "basic":
		return c.basic(o.obj("basic", true), name, p.Realm)
	case "jwt":
		return c.jwtProvider(o.obj("jwt", true), name, p)
	case "mtls":
		return c.mtlsProvider(o.obj("mtls", true), name, p)
	}
	return nil
}

func (c *compiler) apiKey(o *object, name, realm, metaPrefix string) authn.Provider {
	if o == nil {
		return nil
	}
	defer o.close()
	if o.has("realm") {
		realm = o.str("realm", true)
		c.realm(o.field("realm"), realm)
	}
	var sources []apikey.Source
	list, sp := o.array("sources", false)
	if list == nil {
		sources = []apikey.Source{{Header: "x-api-key"}}
	} else if len(list) == 0 {
		c.ps.add(sp, "must not be empty")
	}
	for i, sv := range list {
		s := asObject(sv, index(sp, i), &c.ps)
		if s == nil {
			continue
		}
		var src apikey.Source
		switch {
		case s.has("header") && s.has("query"):
			c.ps.add(s.path, "must set header or query, not both")
		case s.has("header"):
			src.Header = s.str("header", true)
			if src.Header == "authorization" {
				if !s.has("scheme") {
					c.ps.add(s.path, `an "authorization" source needs a scheme, e.g. "ApiKey"`)
				}
			} else if strings.HasPrefix(src.Header, ":") || !headerName.MatchString(src.Header) {
				c.ps.add(s.field("header"), "must be a lower-case HTTP header name")
			}
			if s.has("scheme") {
				src.Scheme = s.str("scheme", true)
				if !authScheme.MatchString(src.Scheme) || strings.EqualFold(src.Scheme, "basic") || strings.EqualFold(src.Scheme, "bearer") {
					c.ps.add(s.field("scheme"), "must be an auth-scheme token other than Basic or Bearer")
				}
			}
		case s.has("query"):
			src.Query = s.str("query", true)
			if src.Query == "" {
				c.ps.add(s.field("query"), "must not be empty")
			}
			if s.has("scheme") {
				c.ps.add(s.field("scheme"), "applies only to header sources")
			}
		default:
			c.ps.add(s.path, "must set header or query")
		}
		s.close()
		sources = append(sources, src)
	}
	keys := map[[sha256.Size]byte]*apikey.Consumer{}
	// consumer reads the consumer and metadata of a key entry.
	consumer := func(kp *object) *apikey.Consumer {
		name := kp.str("consumer", true)
		if name != "" && !validPrincipal(name) {
			c.ps.add(kp.field("consumer"), "must be printable ASCII without spaces (it is sent upstream in a header)")
		}
		meta, mp := kp.stringMap("metadata")
		for k, v := range meta {
			if !headerName.MatchString(metaPrefix + k) {
				c.ps.add(joinKey(mp, k), "metadata keys must be lower-case header-name characters")
			}
			if authn.CleanValue(v) != v {
				c.ps.add(joinKey(mp, k), "metadata values must not contain control characters")
			}
		}
		return &apikey.Consumer{Name: name, Metadata: meta}
	}
	add := func(path string, sum [sha256.Size]byte, cons *apikey.Consumer) {
		if _, dup := keys[sum]; dup {
			c.ps.add(path, "duplicate key")
			return
		}
		keys[sum] = cons
	}
	kl, kp := o.array("keys", false)
	for i, kv := range kl {
		k := asObject(kv, index(kp, i), &c.ps)
		if k == nil {
			continue
		}
		cons := consumer(k)
		h := strings.ToLower(k.str("sha256", true))
		raw, err := hex.DecodeString(h)
		if err != nil || len(raw) != sha256.Size {
			c.ps.add(k.field("sha256"), "must be 64 hexadecimal digits (the SHA-256 of the key)")
		} else {
			add(k.path, [sha256.Size]byte(raw), cons)
		}
		k.close()
	}
	allowPlain := o.boolean("allow_plaintext_keys")
	pl, pp := o.array("plaintext_keys", false)
	if len(pl) > 0 && !allowPlain {
		c.ps.add(pp, `plaintext keys need "allow_plaintext_keys": true; configure SHA-256 digests instead`)
	} else if len(pl) > 0 {
		c.warn(pp, "keys are configured in plaintext; prefer their SHA-256 digests")
	}
	for i, kv := range pl {
		k := asObject(kv, index(pp, i), &c.ps)
		if k == nil {
			continue
		}
		cons := consumer(k)
		key := k.str("key", true)
		if len(key) < 16 || len(key) > apikey.MaxKeyLength || !validPrincipal(key) {
			c.ps.add(k.field("key"), "must be 16 to %d printable ASCII characters without spaces", apikey.MaxKeyLength)
		} else if allowPlain {
			add(k.path, sha256.Sum256([]byte(key)), cons)
		}
		k.close()
	}
	if len(kl)+len(pl) == 0 {
		c.ps.add(o.path, "needs at least one key in keys")
	}
	keep := o.boolean("keep_credential")
	return apikey.New(name, realm, sources, keys, keep)
}

func (c *compiler) basic(o *object, name, realm string) authn.Provider {
	if o == nil {
		return nil
	}
	defer o.close()
	if o.has("realm") {
		realm = o.str("realm", true)
		c.realm(o.field("realm"), realm)
	}
	legacy := o.boolean("allow_legacy_hashes")
	text := o.str("htpasswd", true)
	hp := o.field("htpasswd")
	file, warns, err := htpasswd.Parse(text, htpasswd.Options{AllowLegacy: legacy})
	if err != nil {
		for _, e := range unjoin(err) {
			c.ps.add(hp, "%v", e)
		}
	}
	for _, w := range warns {
		c.warn(hp, "%s", w)
	}
	if err == nil && file.Len() == 0 {
		c.ps.add(hp, "has no users")
	}
	entries, ttl := int64(DefaultCacheEntries), int64(DefaultCacheTTLSecond)
	if co := o.obj("cache", false); co != nil {
		entries = co.integer("max_entries", entries, 0, 1_000_000)
		ttl = co.integer("ttl_seconds", ttl, 1, 86400)
		co.close()
	}
	keep := o.boolean("keep_credential")
	if err != nil {
		return nil
	}
	var cache *basic.Cache
	if entries > 0 {
		key := make([]byte, sha256.BlockSize)
		if _, err := rand.Read(key); err != nil {
			c.ps.add(o.path, "cannot seed the credential cache: %v", err)
			return nil
		}
		if cache, err = basic.NewCache(key, int(entries), time.Duration(ttl)*time.Second); err != nil {
			c.ps.add(o.path, "cannot make the credential cache: %v", err)
			return nil
		}
	}
	return basic.New(name, realm, file, keep, cache)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func validPrincipal(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func (c *compiler) rule(v any, path string) *policy.Rule {
	o := asObject(v, path, &c.ps)
	if o == nil {
		return nil
	}
	defer o.close()
	r := &policy.Rule{Name: o.str("name", true)}
	if m := o.obj("match", false); m != nil {
		c.match(m, &r.Match)
		m.close()
	}
	anon := o.has("allow_anonymous")
	if anon {
		r.Anonymous = o.boolean("allow_anonymous")
		if !r.Anonymous {
			c.ps.add(o.field("allow_anonymous"), "can only be true; omit it and set require instead")
		}
	}
	if o.has("require") == anon {
		c.ps.add(path, "must set exactly one of require and allow_anonymous")
		return r
	}
	if !anon {
		if e, _ := o.get("require"); e != nil {
			r.Require = c.expr(e, o.field("require"), 1)
		} else {
			c.ps.add(o.field("require"), "must be an object")
		}
		if r.Require != nil {
			r.Uses = r.Require.Providers()
		}
	}
	return r
}

func (c *compiler) match(o *object, m *policy.Match) {
	hosts, hp := o.strings("hosts")
	for i, h := range hosts {
		if !hostPattern.MatchString(h) {
			c.ps.add(index(hp, i), "must be a lower-case host name, optionally *.domain and :port")
			continue
		}
		pat := policy.HostPattern{WithPort: strings.Contains(h, ":")}
		if strings.HasPrefix(h, "*.") {
			pat.Suffix = h[1:]
		} else {
			pat.Exact = h
		}
		m.Hosts = append(m.Hosts, pat)
	}
	methods, mp := o.strings("methods")
	for i, meth := range methods {
		if !methodName.MatchString(meth) {
			c.ps.add(index(mp, i), "must be an upper-case HTTP method")
		}
	}
	m.Methods = methods
	p := o.obj("path", false)
	if p == nil {
		return
	}
	defer p.close()
	kinds := 0
	for _, k := range []string{"exact", "prefix", "glob", "regex"} {
		if !p.has(k) {
			continue
		}
		kinds++
		m.Path.Kind = k
		s := p.str(k, true)
		fp := p.field(k)
		switch k {
		case "exact":
			m.Path.Exact = s
		case "prefix":
			m.Path.Prefix = s
		case "glob":
			g, err := policy.CompileGlob(s)
			if err != nil {
				c.ps.add(fp, "%v", err)
			}
			m.Path.Glob = g
		case "regex":
			re, err := regexp.Compile(`^(?:` + s + `)$`)
			if err != nil {
				c.ps.add(fp, "is not a valid RE2 expression: %v", errors.Unwrap(err))
			}
			m.Path.Regex = re
		}
		if k != "regex" && !strings.HasPrefix(s, "/") {
			c.ps.add(fp, "must start with '/'")
		}
	}
	if kinds != 1 {
		c.ps.add(p.path, "must set exactly one of exact, prefix, glob and regex")
	}
}

func (c *compiler) expr(v any, path string, depth int) *policy.Expr {
	o := asObject(v, path, &c.ps)
	if o == nil {
		return nil
	}
	if depth > maxExprDepth {
		c.ps.add(path, "nests deeper than %d levels", maxExprDepth)
		return nil
	}
	defer o.close()
	e := &policy.Expr{Provider: -1}
	kind := o.oneOf("provider", "any", "all")
	if kind == "" {
		return nil
	}
	if kind == "provider" {
		name := o.str("provider", true)
		i, ok := c.providers[name]
		if !ok {
			c.ps.add(o.field("provider"), "names no provider: %q", name)
			return nil
		}
		e.Provider = i
		c.used[i] = true
		cons, cp := o.strings("consumers")
		if o.has("consumers") && len(cons) == 0 {
			c.ps.add(cp, "must not be empty (omit it to accept every consumer)")
		}
		if len(cons) > 0 {
			e.Consumers = map[string]bool{}
			for _, s := range cons {
				e.Consumers[s] = true
			}
		}
		e.Constraints = c.ruleConstraints(o, i)
		if _, ok := c.mtlses[i]; ok {
			e.Constraints = append(e.Constraints, c.mtlsConstraints(o)...)
		}
		return e
	}
	key := "any"
	if o.has("all") {
		key = "all"
	}
	list, lp := o.array(key, true)
	if list != nil && len(list) == 0 {
		c.ps.add(lp, "must not be empty")
		return nil
	}
	var subs []*policy.Expr
	for i, sv := range list {
		s := c.expr(sv, index(lp, i), depth+1)
		if s == nil {
			return nil
		}
		subs = append(subs, s)
	}
	if key == "any" {
		e.Any = subs
	} else {
		e.All = subs
	}
	return e
}
