// Package policy is the compiled, immutable form of a wasm-authn
// configuration: named providers and ordered rules. A rule matches a request
// by host, path and method, and either allows anonymous access or requires
// an expression over providers (any / all, nestable). A request no rule
// matches is denied.
//
// Like tls.Config once in use, a Policy must not be modified: the plugin
// compiles one in proxy_on_configure and every request reads it.
package policy

import (
	"regexp"
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// IdentityHeaders are the names of the headers sent upstream on success.
// The client's own values of these headers are always removed first.
type IdentityHeaders struct {
	Method         string
	Provider       string
	Principal      string
	MetadataPrefix string
}

// Policy is a compiled configuration.
type Policy struct {
	Realm        string
	MetricPrefix string
	Identity     IdentityHeaders
	// Strip lists the lower-case request headers always removed (the
	// identity headers and the configured extra names).
	Strip []string
	// Providers in configuration order.
	Providers []authn.Provider
	Rules     []*Rule
}

// Rule is one ordered policy rule.
type Rule struct {
	Name string
	// Index is the rule's position in Policy.Rules.
	Index     int
	Match     Match
	Anonymous bool
	Require   *Expr
	// Uses lists the providers Require refers to, each once, in order.
	Uses []int
}

// Match selects requests. Empty fields match everything.
type Match struct {
	Hosts   []HostPattern
	Path    PathMatcher
	Methods []string
}

// HostPattern matches :authority, case-insensitively. "*.example.com"
// matches any subdomain (not example.com itself). The port is ignored unless
// the pattern names one.
type HostPattern struct {
	Exact    string // lower case
	Suffix   string // ".example.com" for "*.example.com"
	WithPort bool
}

func (h HostPattern) matches(authority string) bool {
	a := strings.ToLower(authority)
	if !h.WithPort {
		a = stripPort(a)
	}
	if h.Suffix != "" {
		return len(a) > len(h.Suffix) && strings.HasSuffix(a, h.Suffix)
	}
	return a == h.Exact
}

func stripPort(a string) string {
	if strings.HasPrefix(a, "[") { // [v6]:port
		if i := strings.LastIndex(a, "]"); i >= 0 {
			return a[:i+1]
		}
		return a
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		return a[:i]
	}
	return a
}

// PathMatcher matches the path without its query. Exactly one kind is set;
// none matches every path.
type PathMatcher struct {
	Exact  string
	Prefix string
	Glob   []globPart // compiled glob
	Regex  *regexp.Regexp
	Kind   string // "exact", "prefix", "glob", "regex" or ""
}

func (m *PathMatcher) matches(path string) bool {
	switch m.Kind {
	case "exact":
		return path == m.Exact
	case "prefix":
		return strings.HasPrefix(path, m.Prefix)
	case "glob":
		return matchGlob(m.Glob, path)
	case "regex":
		return m.Regex.MatchString(path)
	}
	return true
}

func (r *Rule) matches(req *authn.Request, path string) bool {
	if len(r.Match.Hosts) > 0 {
		ok := false
		for _, h := range r.Match.Hosts {
			if h.matches(req.Authority) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.Match.Methods) > 0 {
		ok := false
		for _, m := range r.Match.Methods {
			if m == req.Method {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return r.Match.Path.matches(path)
}

// Route returns the first rule matching req, or nil.
func (p *Policy) Route(req *authn.Request) *Rule {
	path := req.PathOnly()
	for _, r := range p.Rules {
		if r.matches(req, path) {
			return r
		}
	}
	return nil
}
