package policy

import (
	"strings"
	"testing"
)

// referenceUnsafe is UnsafePath's rules read one at a time, each as its
// own pass over the path: the one-pass check must agree with it on every
// path.
func referenceUnsafe(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return true
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' || c < 0x21 || c == 0x7f || c == '#' {
			return true
		}
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return true
			}
			if unreservedOrSep(unhex(p[i+1])<<4 | unhex(p[i+2])) {
				return true
			}
		}
	}
	return false
}

func FuzzUnsafePath(f *testing.F) {
	for _, p := range []string{"/", "/a/b", "//a", "/a//", "/a/", "/./", "/..", "/a/../b", "/a%2e", "/a%2", "/%E2%82%AC", "/a b", "/a\\b", "/a#", "/.a/..b/...", ""} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := UnsafePath(p) != "", referenceUnsafe(p); got != want {
			t.Fatalf("UnsafePath(%q) unsafe=%v; the rules one at a time say %v", p, got, want)
		}
	})
}
