package policy

import "strings"

// UnsafePath reports why a request path (without its query) could be read
// differently by the policy and by the upstream, or "" if it is safe.
// Such requests are rejected rather than guessed at: a rule for /admin must
// not be bypassed by //admin, /x/../admin or /%61dmin decoded upstream.
func UnsafePath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "the path must start with '/'"
	}
	// One pass over the bytes, which also sees each segment end (the '/'
	// that follows it, or the end of the path) with its start.
	seg := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			switch p[seg:i] {
			case "":
				if i < len(p) {
					return "the path contains an empty segment"
				}
			case ".", "..":
				return "the path contains a dot segment"
			}
			seg = i + 1
			continue
		}
		switch c := p[i]; {
		case c == '\\':
			return "the path contains a backslash"
		case c < 0x21 || c == 0x7f:
			return "the path contains control characters or spaces"
		case c == '#':
			return "the path contains a fragment"
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "the path contains a malformed percent-encoding"
			}
			// Encoded slash, backslash and dot, and encoded unreserved
			// characters in general, decode to a different path upstream.
			if unreservedOrSep(unhex(p[i+1])<<4 | unhex(p[i+2])) {
				return "the path percent-encodes a character that must not be encoded"
			}
		}
	}
	return ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func unreservedOrSep(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '\\' || c == 0
}
