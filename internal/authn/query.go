package authn

import (
	"net/url"
	"strings"
)

// QueryValues returns every value of the query parameter name in rawQuery,
// percent-decoded. A parameter whose name or value cannot be decoded is
// reported with ok=false so that the caller can reject the request rather
// than guess.
func QueryValues(rawQuery, name string) (values []string, ok bool) {
	for rawQuery != "" {
		var part string
		part, rawQuery, _ = strings.Cut(rawQuery, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, false
		}
		if key != name {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, false
		}
		values = append(values, val)
	}
	return values, true
}

// RemoveQuery returns path with every parameter in names removed from its
// query; the other parameters keep their exact encoding and order.
func RemoveQuery(path string, names []string) string {
	p, q, hasQuery := strings.Cut(path, "?")
	if !hasQuery || len(names) == 0 {
		return path
	}
	var kept []string
	for _, part := range strings.Split(q, "&") {
		k, _, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err == nil && contains(names, key) {
			continue
		}
		kept = append(kept, part)
	}
	if len(kept) == 0 {
		return p
	}
	return p + "?" + strings.Join(kept, "&")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CleanValue makes s safe as a header value: CR, LF, NUL and other control
// characters become spaces.
func CleanValue(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}
