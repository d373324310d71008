package dpop

import "testing"

func TestHTU(t *testing.T) {
	tests := []struct {
		name, scheme, authority, path string
		want                          string // "" for an error
	}{
		{"plain", "https", "api.example.com", "/v1/things", "https://api.example.com/v1/things"},
		{"query dropped", "https", "api.example.com", "/v1/things?a=1&b=%zz", "https://api.example.com/v1/things"},
		{"fragment dropped", "https", "api.example.com", "/v1/things#top", "https://api.example.com/v1/things"},
		{"scheme and host lower-cased", "HTTPS", "API.Example.COM", "/Path", "https://api.example.com/Path"},
		{"https default port removed", "https", "api.example.com:443", "/", "https://api.example.com/"},
		{"http default port removed", "http", "api.example.com:80", "/", "http://api.example.com/"},
		{"empty port removed", "https", "api.example.com:", "/", "https://api.example.com/"},
		{"leading zeros of a default port", "https", "api.example.com:0443", "/", "https://api.example.com/"},
		{"https on port 80 kept", "https", "api.example.com:80", "/", "https://api.example.com:80/"},
		{"http on port 443 kept", "http", "api.example.com:443", "/", "http://api.example.com:443/"},
		{"other port kept", "https", "api.example.com:8443", "/", "https://api.example.com:8443/"},
		{"other port without leading zeros", "https", "api.example.com:08443", "/", "https://api.example.com:8443/"},
		{"IPv4", "http", "192.0.2.1:8080", "/", "http://192.0.2.1:8080/"},
		{"IPv6 literal lower-cased, default port removed", "https", "[2001:DB8::A]:443", "/", "https://[2001:db8::a]/"},
		{"IPv6 literal with port", "https", "[::1]:8443", "/x", "https://[::1]:8443/x"},
		{"empty path", "https", "api.example.com", "", "https://api.example.com/"},
		{"empty path with query", "https", "api.example.com", "?a", "https://api.example.com/"},
		{"unreserved escapes decoded", "https", "api.example.com", "/%7euser/%41%2d%2E%5F", "https://api.example.com/~user/A-._"},
		{"reserved escapes upper-cased", "https", "api.example.com", "/a%2fb%3a%c3%a9", "https://api.example.com/a%2Fb%3A%C3%A9"},
		{"raw bytes outside the URI set encoded", "https", "api.example.com", "/caf\xc3\xa9 x\"<>", "https://api.example.com/caf%C3%A9%20x%22%3C%3E"},
		{"sub-delims, colon and at sign kept", "https", "api.example.com", "/a:b@c!$&'()*+,;=", "https://api.example.com/a:b@c!$&'()*+,;="},
		{"host escape decoded and lower-cased", "https", "%41pi.example.com", "/", "https://api.example.com/"},
		{"dot segments", "https", "api.example.com", "/a/b/c/./../../g", "https://api.example.com/a/g"},
		{"dot segments after decoding", "https", "api.example.com", "/a/%2E%2E/b", "https://api.example.com/b"},
		{"dot segment at the end", "https", "api.example.com", "/a/b/..", "https://api.example.com/a/"},
		{"dot segments above the root", "https", "api.example.com", "/../../a", "https://api.example.com/a"},
		{"single dot", "https", "api.example.com", "/.", "https://api.example.com/"},
		{"dots inside names kept", "https", "api.example.com", "/a.b/..c/.d", "https://api.example.com/a.b/..c/.d"},
		{"empty segments kept", "https", "api.example.com", "//a//b/", "https://api.example.com//a//b/"},

		{"scheme ftp", "ftp", "api.example.com", "/", ""},
		{"scheme empty", "", "api.example.com", "/", ""},
		{"authority empty", "https", "", "/", ""},
		{"port only", "https", ":443", "/", ""},
		{"userinfo", "https", "user:pass@api.example.com", "/", ""},
		{"port not a number", "https", "api.example.com:https", "/", ""},
		{"port out of range", "https", "api.example.com:65536", "/", ""},
		{"port with a sign", "https", "api.example.com:+443", "/", ""},
		{"space in the host", "https", "api example.com", "/", ""},
		{"slash in the host", "https", "api.example.com\\x", "/", ""},
		{"unterminated IP literal", "https", "[::1", "/", ""},
		{"junk after an IP literal", "https", "[::1]x", "/", ""},
		{"empty IP literal", "https", "[]", "/", ""},
		{"asterisk form", "https", "api.example.com", "*", ""},
		{"absolute form", "https", "api.example.com", "https://api.example.com/", ""},
		{"truncated escape", "https", "api.example.com", "/a%4", ""},
		{"escape at the end", "https", "api.example.com", "/a%", ""},
		{"not hex", "https", "api.example.com", "/a%g0", ""},
		{"bad escape in the host", "https", "api%zz.example.com", "/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := HTU(tc.scheme, tc.authority, tc.path)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("HTU(%q, %q, %q) = %q; want an error", tc.scheme, tc.authority, tc.path, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("HTU(%q, %q, %q) = %q, %v; want %q", tc.scheme, tc.authority, tc.path, got, err, tc.want)
			}
			// Normalization is idempotent: a proof may carry the result.
			if again, err := normalizeURI(got); err != nil || again != got {
				t.Fatalf("normalizeURI(%q) = %q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestNormalizeURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://server.example.com/token", "https://server.example.com/token"},
		{"HTTPS://Server.Example.com:443", "https://server.example.com/"},
		{"https://server.example.com?x#y", "https://server.example.com/"},
		{"https://server.example.com#y", "https://server.example.com/"},
		{"http://[::1]:80/a/./b", "http://[::1]/a/b"},
		{"//server.example.com/token", ""},
		{"server.example.com/token", ""},
		{"https:/server.example.com/token", ""},
		{"urn:example:token", ""},
	}
	for _, tc := range tests {
		got, err := normalizeURI(tc.in)
		if tc.want == "" && err == nil || tc.want != "" && (err != nil || got != tc.want) {
			t.Errorf("normalizeURI(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
