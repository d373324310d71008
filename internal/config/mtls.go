package config

import (
	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/mtls"
	"github.com/wasm-authn/wasm-authn/internal/policy"
)

// mtlsProvider compiles an "mtls" provider:
//
//	{"name": "mesh", "mtls": {"allow": [PEER, ...], "xfcc": "ignore"}}
//
// allow admits a peer that any PEER admits (empty: every certificate the
// listener's TLS context accepted). A PEER object admits a peer that
// matches all of its fields: uri, uri_prefix, spiffe, dns, subject,
// subject_attributes, issuer, issuer_attributes, sha256 (pins). xfcc says
// whether x-forwarded-client-cert is set by a trusted Envoy ("sanitize_set"
// or "append_forward"); with "ignore" (the default) a client's XFCC header
// is removed from every request.
func (c *compiler) mtlsProvider(o *object, name string, p *policy.Policy) authn.Provider {
	if o == nil {
		return nil
	}
	defer o.close()
	bad := len(c.ps.list)
	var opts mtls.Options
	list, lp := o.array("allow", false)
	if o.has("allow") && len(list) == 0 {
		c.ps.add(lp, "must not be empty (omit it to admit every verified certificate)")
	}
	for i, v := range list {
		if m := c.peerMatcher(v, index(lp, i)); m != nil {
			opts.Allow = append(opts.Allow, m)
		}
	}
	if o.has("xfcc") {
		mode, err := mtls.ParseXFCCMode(o.str("xfcc", true))
		if err != nil {
			c.ps.add(o.field("xfcc"), "%v", err)
		}
		opts.XFCC = mode
	}
	if opts.XFCC == mtls.XFCCIgnore && !contains(p.Strip, mtls.XFCCHeader) {
		p.Strip = append(p.Strip, mtls.XFCCHeader)
	}
	if len(c.ps.list) > bad {
		c.mtlses[len(p.Providers)] = nil
		return nil
	}
	prov, err := mtls.New(name, c.env.Peer, opts)
	if err != nil {
		c.ps.add(o.path, "%v", err)
		return nil
	}
	c.mtlses[len(p.Providers)] = prov
	return prov
}

// peerMatcher compiles one PEER object: all of its fields must match.
func (c *compiler) peerMatcher(v any, path string) mtls.Matcher {
	o := asObject(v, path, &c.ps)
	if o == nil {
		return nil
	}
	defer o.close()
	var all []mtls.Matcher
	add := func(key string, m mtls.Matcher, err error) {
		if err != nil {
			c.ps.add(o.field(key), "%v", err)
			return
		}
		all = append(all, m)
	}
	for _, k := range []string{"uri", "uri_prefix", "spiffe", "dns", "subject", "issuer"} {
		if !o.has(k) {
			continue
		}
		s := o.str(k, true)
		switch k {
		case "uri":
			m, err := mtls.MatchURI(s)
			add(k, m, err)
		case "uri_prefix":
			m, err := mtls.MatchURIPrefix(s)
			add(k, m, err)
		case "spiffe":
			m, err := mtls.MatchSPIFFE(s)
			add(k, m, err)
		case "dns":
			m, err := mtls.MatchDNS(s)
			add(k, m, err)
		case "subject":
			m, err := mtls.MatchSubject(s)
			add(k, m, err)
		case "issuer":
			m, err := mtls.MatchIssuer(s)
			add(k, m, err)
		}
	}
	for _, k := range []string{"subject_attributes", "issuer_attributes"} {
		if !o.has(k) {
			continue
		}
		attrs, _ := o.stringMap(k)
		if k == "subject_attributes" {
			m, err := mtls.MatchSubjectAttributes(attrs)
			add(k, m, err)
		} else {
			m, err := mtls.MatchIssuerAttributes(attrs)
			add(k, m, err)
		}
	}
	if o.has("sha256") {
		pins, _ := o.strings("sha256")
		m, err := mtls.MatchFingerprints(pins...)
		add("sha256", m, err)
	}
	if len(all) == 0 {
		if len(o.m) == 0 {
			c.ps.add(path, "must set at least one of uri, uri_prefix, spiffe, dns, subject, subject_attributes, issuer, issuer_attributes, sha256")
		}
		return nil
	}
	m, err := mtls.AllOf(all...)
	if err != nil {
		c.ps.add(path, "%v", err)
		return nil
	}
	return m
}

// mtlsConstraints compiles a rule's "peers" next to a reference to an mtls
// provider: the peer must match one of them (403 otherwise).
func (c *compiler) mtlsConstraints(o *object) []authn.Constraint {
	if !o.has("peers") {
		return nil
	}
	list, lp := o.array("peers", true)
	if len(list) == 0 {
		c.ps.add(lp, "must not be empty")
		return nil
	}
	var ms []mtls.Matcher
	for i, v := range list {
		if m := c.peerMatcher(v, index(lp, i)); m != nil {
			ms = append(ms, m)
		}
	}
	if len(ms) != len(list) {
		return nil
	}
	con, err := mtls.Require(ms...)
	if err != nil {
		c.ps.add(lp, "%v", err)
		return nil
	}
	return []authn.Constraint{con}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
