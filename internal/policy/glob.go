package policy

import (
	"errors"
	"strings"
)

// A glob is matched segment by segment: "*" matches exactly one path
// non-empty segment (never a '/'), "**" matches zero or more whole segments, and any
// other segment must match literally, where a '*' inside a segment matches
// any run of characters except '/'. "/api/*/items/**" matches
// "/api/v1/items" and "/api/v1/items/7/tags" but not "/api/v1/v2/items".
type globPart struct {
	any     bool     // "**"
	pattern []string // literal pieces between '*' within one segment
}

// CompileGlob compiles a glob that must start with '/'.
func CompileGlob(g string) ([]globPart, error) {
	if !strings.HasPrefix(g, "/") {
		return nil, errors.New("must start with '/'")
	}
	var parts []globPart
	for _, seg := range strings.Split(g[1:], "/") {
		if seg == "**" {
			parts = append(parts, globPart{any: true})
			continue
		}
		if strings.Contains(seg, "**") {
			return nil, errors.New(`"**" must be a whole segment`)
		}
		parts = append(parts, globPart{pattern: strings.Split(seg, "*")})
	}
	return parts, nil
}

func matchGlob(parts []globPart, path string) bool {
	if !strings.HasPrefix(path, "/") {
		return false
	}
	return matchSegs(parts, strings.Split(path[1:], "/"))
}

func matchSegs(parts []globPart, segs []string) bool {
	for len(parts) > 0 {
		p := parts[0]
		if p.any {
			for i := 0; i <= len(segs); i++ {
				if matchSegs(parts[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 || !matchSegment(p.pattern, segs[0]) {
			return false
		}
		parts, segs = parts[1:], segs[1:]
	}
	return len(segs) == 0
}

// matchSegment matches s against literal pieces separated by '*'.
func matchSegment(pieces []string, s string) bool {
	if len(pieces) == 1 {
		return s == pieces[0]
	}
	if len(pieces) == 2 && pieces[0] == "" && pieces[1] == "" {
		return s != "" // a lone '*' is one non-empty segment
	}
	if !strings.HasPrefix(s, pieces[0]) {
		return false
	}
	s = s[len(pieces[0]):]
	last := pieces[len(pieces)-1]
	for _, piece := range pieces[1 : len(pieces)-1] {
		i := strings.Index(s, piece)
		if i < 0 {
			return false
		}
		s = s[i+len(piece):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
