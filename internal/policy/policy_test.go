package policy

import (
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"/api/*/items/**", "/api/v1/items", true},
		{"/api/*/items/**", "/api/v1/items/7/tags", true},
		{"/api/*/items/**", "/api/v1/v2/items", false},
		{"/api/*/items", "/api//items", false},
		{"/api/*", "/api/", false},
		{"/api/*", "/api/x", true},
		{"/files/*.png", "/files/a.png", true},
		{"/files/*.png", "/files/a/b.png", false},
		{"/files/a*b*c", "/files/aXbYc", true},
		{"/files/a*b*c", "/files/abc", true},
		{"/files/a*b*c", "/files/acb", false},
		{"/**", "/", true},
		{"/**/admin", "/x/y/admin", true},
		{"/**/admin", "/admin", true},
		{"/exact", "/exact/", false},
	}
	for _, tt := range tests {
		g, err := CompileGlob(tt.glob)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", tt.glob, err)
		}
		if got := matchGlob(g, tt.path); got != tt.want {
			t.Errorf("glob %q on %q = %v; want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

func TestHostPattern(t *testing.T) {
	tests := []struct {
		p         HostPattern
		authority string
		want      bool
	}{
		{HostPattern{Exact: "api.example.com"}, "API.example.com:8080", true},
		{HostPattern{Exact: "api.example.com"}, "api.example.com.evil", false},
		{HostPattern{Suffix: ".example.com"}, "a.b.example.com", true},
		{HostPattern{Suffix: ".example.com"}, "example.com", false},
		{HostPattern{Suffix: ".example.com"}, "badexample.com", false},
		{HostPattern{Exact: "api.example.com:8443", WithPort: true}, "api.example.com:8443", true},
		{HostPattern{Exact: "api.example.com:8443", WithPort: true}, "api.example.com", false},
		{HostPattern{Exact: "[::1]"}, "[::1]:80", true},
	}
	for _, tt := range tests {
		if got := tt.p.matches(tt.authority); got != tt.want {
			t.Errorf("%+v on %q = %v; want %v", tt.p, tt.authority, got, tt.want)
		}
	}
}

func TestUnsafePath(t *testing.T) {
	safe := []string{"/", "/a/b", "/a%20b", "/a/b.json", "/a/..b", "/%E2%82%AC", "/a:b@c"}
	unsafe := []string{"", "a", "//admin", "/a//b", "/a/../admin", "/a/./b", "/..", "/.", "/%2e%2e/admin", "/a%2Fb", "/a%5cb", "/%61dmin", "/a\\b", "/a b", "/a#b", "/a%zz", "/a%2", "/a\x00"}
	for _, p := range safe {
		if why := UnsafePath(p); why != "" {
			t.Errorf("UnsafePath(%q) = %q; want safe", p, why)
		}
	}
	for _, p := range unsafe {
		if UnsafePath(p) == "" {
			t.Errorf("UnsafePath(%q) = safe; want rejected", p)
		}
	}
}

// fake is a provider with a fixed verdict.
type fake struct {
	name string
	v    authn.Verdict
}

func (f *fake) Name() string                              { return f.name }
func (f *fake) Method() string                            { return "fake" }
func (f *fake) Challenge() string                         { return "Fake realm=\"" + f.name + "\"" }
func (f *fake) Authenticate(*authn.Request) authn.Verdict { return f.v }

var (
	valid   = authn.Verdict{Outcome: authn.Valid, Identity: authn.Identity{Principal: "alice"}, Strip: authn.Edit{RemoveHeaders: []string{"x-cred"}}}
	absent  = authn.Verdict{Outcome: authn.Absent}
	invalid = authn.Verdict{Outcome: authn.Invalid, Err: authn.Deny(authn.ReasonInvalidCredential, "bad")}
)

func leaf(i int) *Expr { return &Expr{Provider: i} }

func TestDecide(t *testing.T) {
	tests := []struct {
		name       string
		verdicts   []authn.Verdict
		expr       *Expr
		want       authn.Reason // ReasonNone = allowed
		challenges int
		provider   string
	}{
		{"single valid", []authn.Verdict{valid}, leaf(0), authn.ReasonNone, 0, "p0"},
		{"single absent", []authn.Verdict{absent}, leaf(0), authn.ReasonMissingCredential, 1, ""},
		{"single invalid", []authn.Verdict{invalid}, leaf(0), authn.ReasonInvalidCredential, 1, ""},
		{"any: second valid", []authn.Verdict{absent, valid}, &Expr{Provider: -1, Any: []*Expr{leaf(0), leaf(1)}}, authn.ReasonNone, 0, "p1"},
		{"any: invalid presented denies", []authn.Verdict{invalid, valid}, &Expr{Provider: -1, Any: []*Expr{leaf(0), leaf(1)}}, authn.ReasonInvalidCredential, 2, ""},
		{"all: one missing", []authn.Verdict{valid, absent}, &Expr{Provider: -1, All: []*Expr{leaf(0), leaf(1)}}, authn.ReasonMissingCredential, 2, ""},
		{"all: both", []authn.Verdict{valid, valid}, &Expr{Provider: -1, All: []*Expr{leaf(0), leaf(1)}}, authn.ReasonNone, 0, "p0"},
		{"nested: a and (b or c)", []authn.Verdict{valid, absent, valid}, &Expr{Provider: -1, All: []*Expr{leaf(0), {Provider: -1, Any: []*Expr{leaf(1), leaf(2)}}}}, authn.ReasonNone, 0, "p0"},
		{"consumer not allowed", []authn.Verdict{valid}, &Expr{Provider: 0, Consumers: map[string]bool{"bob": true}}, authn.ReasonForbidden, 0, ""},
		{"consumer allowed", []authn.Verdict{valid}, &Expr{Provider: 0, Consumers: map[string]bool{"alice": true}}, authn.ReasonNone, 0, "p0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{}
			for i, v := range tt.verdicts {
				p.Providers = append(p.Providers, &fake{name: "p" + string(rune('0'+i)), v: v})
			}
			r := &Rule{Name: "r", Require: tt.expr, Uses: tt.expr.Providers()}
			d := p.Decide(&authn.Request{}, r, nil)
			if tt.want == authn.ReasonNone {
				if !d.Allow || d.Provider.Name() != tt.provider {
					t.Fatalf("Decide = %+v; want allowed by %s", d, tt.provider)
				}
				if len(d.Strip.RemoveHeaders) == 0 {
					t.Errorf("credential not stripped")
				}
				return
			}
			if d.Allow || d.Err.Reason != tt.want {
				t.Fatalf("Decide = allow %v, err %v; want %v", d.Allow, d.Err, tt.want)
			}
			if len(d.Challenges) != tt.challenges {
				t.Errorf("challenges = %q; want %d", d.Challenges, tt.challenges)
			}
		})
	}
}

func TestRouteFirstMatchWins(t *testing.T) {
	g, _ := CompileGlob("/api/**")
	p := &Policy{Rules: []*Rule{
		{Name: "health", Match: Match{Path: PathMatcher{Kind: "exact", Exact: "/healthz"}}, Anonymous: true},
		{Name: "write", Match: Match{Methods: []string{"POST"}, Path: PathMatcher{Kind: "glob", Glob: g}}},
		{Name: "api", Match: Match{Hosts: []HostPattern{{Exact: "api.example.com"}}, Path: PathMatcher{Kind: "prefix", Prefix: "/api/"}}},
	}}
	tests := []struct{ method, host, path, want string }{
		{"GET", "x", "/healthz", "health"},
		{"GET", "x", "/healthz?x=1", "health"},
		{"POST", "x", "/api/a", "write"},
		{"GET", "api.example.com", "/api/a", "api"},
		{"GET", "other.example.com", "/api/a", ""},
	}
	for _, tt := range tests {
		r := p.Route(&authn.Request{Method: tt.method, Authority: tt.host, Path: tt.path})
		got := ""
		if r != nil {
			got = r.Name
		}
		if got != tt.want {
			t.Errorf("Route(%s %s%s) = %q; want %q", tt.method, tt.host, tt.path, got, tt.want)
		}
	}
}
