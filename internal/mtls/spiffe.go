package mtls

import (
	"errors"
	"strings"
)

// MaxSPIFFEIDLength is the longest SPIFFE ID accepted, in bytes (SPIFFE ID
// §2.3: implementations must support 2048 bytes and should not generate
// longer ones).
const MaxSPIFFEIDLength = 2048

// maxTrustDomainLength bounds the trust domain name (SPIFFE ID §2.3: the
// host component of a URI is at most 255 bytes).
const maxTrustDomainLength = 255

const spiffePrefix = "spiffe://"

// SPIFFEID is a SPIFFE ID that passed ParseSPIFFEID.
type SPIFFEID struct {
	// TrustDomain is the trust domain name, e.g. "cluster.local".
	TrustDomain string
	// Path is empty or "/seg/seg...", e.g. "/ns/shop/sa/checkout".
	Path string
}

// String returns the ID in its only valid form, "spiffe://" + TrustDomain +
// Path.
func (id SPIFFEID) String() string { return spiffePrefix + id.TrustDomain + id.Path }

// Errors of ParseSPIFFEID and of SPIFFE patterns; test with errors.Is.
var (
	ErrSPIFFEScheme      = errors.New(`the scheme is not "spiffe://" (lower case)`)
	ErrSPIFFETooLong     = errors.New("longer than 2048 bytes")
	ErrSPIFFETrustDomain = errors.New("the trust domain is empty or has a character other than a-z, 0-9, '.', '-', '_'")
	ErrSPIFFEPath        = errors.New("the path has an empty, '.' or '..' segment, a trailing '/', or a character other than a-z, A-Z, 0-9, '.', '-', '_'")
)

// ParseSPIFFEID parses s strictly by the SPIFFE ID specification (SPIFFE-ID
// §2): the scheme is exactly "spiffe://"; the trust domain is non-empty, at
// most 255 bytes of [a-z0-9._-] (so no upper case, userinfo, port or
// percent-encoding); the path is empty or a sequence of "/segment" where a
// segment is non-empty, is not "." or "..", and has only [A-Za-z0-9._-] (so
// no trailing '/', query, fragment or percent-encoding); the whole ID is at
// most MaxSPIFFEIDLength bytes.
//
// The spec says the scheme and trust domain are case-insensitive but must
// be written in lower case; an upper-case form is rejected rather than
// folded, so that exactly one spelling of an ID is ever accepted.
func ParseSPIFFEID(s string) (SPIFFEID, error) {
	if len(s) > MaxSPIFFEIDLength {
		return SPIFFEID{}, ErrSPIFFETooLong
	}
	rest, ok := strings.CutPrefix(s, spiffePrefix)
	if !ok {
		return SPIFFEID{}, ErrSPIFFEScheme
	}
	td, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		td, path = rest[:i], rest[i:]
	}
	if !validTrustDomain(td) {
		return SPIFFEID{}, ErrSPIFFETrustDomain
	}
	if path != "" && !validSPIFFEPath(path) {
		return SPIFFEID{}, ErrSPIFFEPath
	}
	return SPIFFEID{TrustDomain: td, Path: path}, nil
}

func validTrustDomain(td string) bool {
	if td == "" || len(td) > maxTrustDomainLength {
		return false
	}
	for i := 0; i < len(td); i++ {
		c := td[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validSPIFFEPath checks a non-empty path that starts with '/'.
func validSPIFFEPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if !validSegment(seg) {
			return false
		}
	}
	return true
}

func validSegment(seg string) bool {
	if seg == "" || seg == "." || seg == ".." {
		return false
	}
	for i := 0; i < len(seg); i++ {
		if !segmentChar(seg[i]) {
			return false
		}
	}
	return true
}

func segmentChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// spiffePattern is a compiled SPIFFE ID pattern: an exact trust domain and
// path segments that are literals, "*" (exactly one segment) or a single
// "**" (one or more segments).
type spiffePattern struct {
	src         string
	trustDomain string
	// before and after are the segments around "**"; with no "**", all
	// segments are in before and globstar is false.
	before, after []string
	globstar      bool
}

// compileSPIFFEPattern parses a pattern such as
// "spiffe://cluster.local/ns/*/sa/checkout". The trust domain is literal. A
// path segment is a valid SPIFFE segment, "*" or "**"; '*' elsewhere in a
// segment ("sa-*") is an error, as is more than one "**".
func compileSPIFFEPattern(pat string) (*spiffePattern, error) {
	if len(pat) > MaxSPIFFEIDLength {
		return nil, ErrSPIFFETooLong
	}
	rest, ok := strings.CutPrefix(pat, spiffePrefix)
	if !ok {
		return nil, ErrSPIFFEScheme
	}
	td, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		td, path = rest[:i], rest[i:]
	}
	if strings.Contains(td, "*") {
		return nil, errors.New("a wildcard in the trust domain is not allowed: the trust domain must match exactly")
	}
	if !validTrustDomain(td) {
		return nil, ErrSPIFFETrustDomain
	}
	p := &spiffePattern{src: pat, trustDomain: td}
	if path == "" {
		return p, nil
	}
	if path == "/" {
		return nil, ErrSPIFFEPath
	}
	for seg := range strings.SplitSeq(path[1:], "/") {
		switch {
		case seg == "**":
			if p.globstar {
				return nil, errors.New(`more than one "**" in the path`)
			}
			p.globstar = true
			continue
		case seg == "*":
		case strings.Contains(seg, "*"):
			return nil, errors.New(`'*' must be a whole path segment ("*" or "**")`)
		case !validSegment(seg):
			return nil, ErrSPIFFEPath
		}
		if p.globstar {
			p.after = append(p.after, seg)
		} else {
			p.before = append(p.before, seg)
		}
	}
	return p, nil
}

// match reports whether id matches. It does not allocate.
func (p *spiffePattern) match(id SPIFFEID) bool {
	if id.TrustDomain != p.trustDomain {
		return false
	}
	path := id.Path
	// Consume the segments before "**" from the front.
	for _, want := range p.before {
		seg, rest, ok := nextSegment(path)
		if !ok || (want != "*" && seg != want) {
			return false
		}
		path = rest
	}
	if !p.globstar {
		return path == ""
	}
	// Consume the segments after "**" from the back; "**" takes what is
	// left, which must be at least one segment.
	for i := len(p.after) - 1; i >= 0; i-- {
		seg, rest, ok := lastSegment(path)
		if !ok || (p.after[i] != "*" && seg != p.after[i]) {
			return false
		}
		path = rest
	}
	return path != ""
}

// nextSegment splits "/a/b" into "a" and "/b".
func nextSegment(path string) (seg, rest string, ok bool) {
	if path == "" {
		return "", "", false
	}
	path = path[1:]
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i], path[i:], true
	}
	return path, "", true
}

// lastSegment splits "/a/b" into "b" and "/a".
func lastSegment(path string) (seg, rest string, ok bool) {
	if path == "" {
		return "", "", false
	}
	i := strings.LastIndexByte(path, '/')
	return path[i+1:], path[:i], true
}
