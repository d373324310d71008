package dpop

import (
	"errors"
	"strconv"
	"strings"
)

// HTU returns the HTTP target URI (RFC 9110 §7.1) of a request, from its
// :scheme, :authority and :path pseudo-headers, in the form a proof's
// "htu" is compared in (RFC 9449 §4.3 check 9): without query and
// fragment, after syntax-based and scheme-based normalization (RFC 3986
// §6.2.2, §6.2.3):
//
//   - the scheme lower-cased, and only "http" or "https";
//   - the host lower-cased; userinfo refused (RFC 9110 §4.2.4);
//   - the port: an empty one or the scheme's default (80, 443) removed,
//     others written in decimal without leading zeros;
//   - percent-encoding: hex digits upper-cased, octets of unreserved
//     characters decoded ("%7E" is "~", "%41" is "A"), and in the path
//     octets that may not appear raw in a URI encoded ("é" is "%C3%A9");
//     an invalid escape is an error;
//   - dot segments removed (RFC 3986 §5.2.4); an empty path is "/".
//
// A path that is not origin-form (such as "*" of OPTIONS) is an error. The
// filter calls HTU in proxy_on_request_headers; if it fails, the filter
// passes an empty Request.HTU and Verify refuses every proof (FailURI).
// Verify normalizes a proof's "htu" the same way, so the two may differ in
// any of the above and still match.
func HTU(scheme, authority, path string) (string, error) {
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(authority) + len(path))
	var s string
	switch {
	case strings.EqualFold(scheme, "https"):
		s = "https"
	case strings.EqualFold(scheme, "http"):
		s = "http"
	default:
		return "", errors.New("dpop: the scheme is not http or https")
	}
	b.WriteString(s)
	b.WriteString("://")
	if err := writeAuthority(&b, s, authority); err != nil {
		return "", err
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	switch {
	case path == "":
		path = "/"
	case path[0] != '/':
		return "", errors.New("dpop: the path is not in origin form")
	}
	p, err := normalizePercent(path, isPathChar, false, true)
	if err != nil {
		return "", err
	}
	b.WriteString(removeDotSegments(p))
	return b.String(), nil
}

// normalizeURI normalizes an absolute http(s) URI, such as a proof's
// "htu", into HTU's form; query and fragment are dropped.
func normalizeURI(uri string) (string, error) {
	i := strings.Index(uri, "://")
	if i <= 0 {
		return "", errors.New("dpop: not an absolute URI")
	}
	rest := uri[i+3:]
	authority, path := rest, ""
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		authority, path = rest[:j], rest[j:]
	}
	return HTU(uri[:i], authority, path)
}

// writeAuthority writes authority's host, lower-cased and
// percent-normalized, and its port unless it is empty or scheme's default.
func writeAuthority(b *strings.Builder, scheme, authority string) error {
	if strings.IndexByte(authority, '@') >= 0 {
		return errors.New("dpop: the authority has userinfo")
	}
	host, port, hasPort := authority, "", false
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return errors.New("dpop: unterminated IP literal")
		}
		host = authority[:end+1]
		switch rest := authority[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			port, hasPort = rest[1:], true
		default:
			return errors.New("dpop: junk after an IP literal")
		}
		inner, err := normalizePercent(host[1:end], isIPLiteralChar, true, false)
		if err != nil {
			return err
		}
		host = "[" + inner + "]"
	} else {
		if i := strings.LastIndexByte(authority, ':'); i >= 0 {
			host, port, hasPort = authority[:i], authority[i+1:], true
		}
		h, err := normalizePercent(host, isRegNameChar, true, false)
		if err != nil {
			return err
		}
		host = h
	}
	if host == "" || host == "[]" {
		return errors.New("dpop: the host is empty")
	}
	b.WriteString(host)
	if !hasPort || port == "" {
		return nil
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return errors.New("dpop: the port is not a number")
		}
	}
	trimmed := strings.TrimLeft(port, "0")
	if len(trimmed) > 5 {
		return errors.New("dpop: the port is out of range")
	}
	n, _ := strconv.Atoi(trimmed) // "" (all zeros) is 0
	if n > 65535 {
		return errors.New("dpop: the port is out of range")
	}
	if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
		return nil
	}
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(n))
	return nil
}

const upperHex = "0123456789ABCDEF"

// normalizePercent applies RFC 3986 §6.2.2.1-2 to s: escapes get upper-case
// hex digits, escapes of unreserved characters are decoded, and with lower
// ASCII letters are lower-cased (hosts). A byte for which allowed is false
// is percent-encoded when encode is set and an error otherwise. An escape
// without two hex digits is an error.
func normalizePercent(s string, allowed func(byte) bool, lower, encode bool) (string, error) {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = c != '%' && allowed(c) && !(lower && c >= 'A' && c <= 'Z')
	}
	if clean {
		return s, nil
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", errors.New("dpop: truncated percent-encoding")
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", errors.New("dpop: invalid percent-encoding")
			}
			d := hi<<4 | lo
			i += 2
			if isUnreserved(d) {
				if lower {
					d = lowerASCII(d)
				}
				out = append(out, d)
			} else {
				out = append(out, '%', upperHex[d>>4], upperHex[d&15])
			}
		case allowed(c):
			if lower {
				c = lowerASCII(c)
			}
			out = append(out, c)
		case encode:
			out = append(out, '%', upperHex[c>>4], upperHex[c&15])
		default:
			return "", errors.New("dpop: a character not allowed in a host")
		}
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isUnreserved: ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3).
func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isSubDelim: "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=".
func isSubDelim(c byte) bool {
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

// isRegNameChar: a reg-name or IPv4 address byte other than '%'.
func isRegNameChar(c byte) bool { return isUnreserved(c) || isSubDelim(c) }

// isIPLiteralChar: a byte inside "[...]" other than '%' (IPv6, IPvFuture).
func isIPLiteralChar(c byte) bool { return isUnreserved(c) || isSubDelim(c) || c == ':' }

// isPathChar: pchar or '/' (RFC 3986 §3.3), other than '%'.
func isPathChar(c byte) bool {
	return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/'
}

// removeDotSegments is RFC 3986 §5.2.4 for a path that starts with '/'.
func removeDotSegments(p string) string {
	if !strings.Contains(p, "/.") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
			continue
		}
		if last {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}
