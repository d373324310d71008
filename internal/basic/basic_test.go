package basic

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// users is a Verifier that counts calls.
type users struct {
	pw    map[string]string
	calls int
}

func (u *users) Verify(user, pass string) bool {
	u.calls++
	p, ok := u.pw[user]
	return ok && p == pass
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func request(now time.Time, auth ...string) *authn.Request {
	r := &authn.Request{Path: "/", Now: now}
	for _, a := range auth {
		r.Headers = append(r.Headers, authn.Header{Key: "authorization", Value: a})
	}
	return r
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, token, user, pass string
		ok                      bool
	}{
		// RFC 7617's examples: §2 and §2.1 (charset="UTF-8").
		{"RFC 7617 §2", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin", "open sesame", true},
		{"RFC 7617 §2.1", "dGVzdDoxMjPCow==", "test", "123\u00a3", true},
		{"simple", b64("alice:secret"), "alice", "secret", true},
		{"colon in password", b64("alice:se:cr:et"), "alice", "se:cr:et", true},
		{"empty password", b64("alice:"), "alice", "", true},
		{"utf-8", b64("jürgen:пароль€"), "jürgen", "пароль€", true},
		{"empty user", b64(":secret"), "", "", false},
		{"no colon", b64("alice"), "", "", false},
		{"not base64", "!!!", "", "", false},
		{"unpadded", strings.TrimRight(b64("alice:secre"), "="), "", "", false},
		{"non-UTF-8", b64("al\xffice:x"), "", "", false},
		{"control char", b64("alice:se\ncret"), "", "", false},
		{"NUL", b64("alice\x00:x"), "", "", false},
		{"empty", "", "", "", false},
		{"CR inside (Go's decoder would skip it)", "X006\r", "", "", false},
		{"LF inside", b64("alice:pw")[:4] + "\n" + b64("alice:pw")[4:], "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, p, err := Decode(tt.token)
			if (err == nil) != tt.ok {
				t.Fatalf("Decode(%q) err = %v; want ok=%v", tt.token, err, tt.ok)
			}
			if tt.ok && (u != tt.user || p != tt.pass) {
				t.Fatalf("Decode = %q, %q; want %q, %q", u, p, tt.user, tt.pass)
			}
			if err != nil && (err.Reason != authn.ReasonMalformedCredential || strings.Contains(err.Description, "secret")) {
				t.Fatalf("error = %+v", err)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	u := &users{pw: map[string]string{"alice": "wonder:land"}}
	p := New("staff", "r", u, false, nil)
	tests := []struct {
		name    string
		auth    []string
		outcome authn.Outcome
		reason  authn.Reason
	}{
		{"valid", []string{"Basic " + b64("alice:wonder:land")}, authn.Valid, 0},
		{"scheme case-insensitive", []string{"bAsIc " + b64("alice:wonder:land")}, authn.Valid, 0},
		{"wrong password", []string{"Basic " + b64("alice:nope")}, authn.Invalid, authn.ReasonInvalidCredential},
		{"unknown user", []string{"Basic " + b64("mallory:wonder:land")}, authn.Invalid, authn.ReasonInvalidCredential},
		{"no header", nil, authn.Absent, 0},
		{"bearer is not ours", []string{"Bearer abc"}, authn.Absent, 0},
		{"Basically is not ours", []string{"Basically " + b64("a:b")}, authn.Absent, 0},
		{"bare scheme", []string{"Basic"}, authn.Invalid, authn.ReasonMalformedCredential},
		{"two credentials", []string{"Basic " + b64("alice:wonder:land"), "Basic " + b64("alice:wonder:land")}, authn.Invalid, authn.ReasonMultipleCredentials},
		{"oversized", []string{"Basic " + strings.Repeat("A", 64<<10)}, authn.Invalid, authn.ReasonCredentialTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Authenticate(request(now, tt.auth...))
			if v.Outcome != tt.outcome {
				t.Fatalf("outcome = %v (%v); want %v", v.Outcome, v.Err, tt.outcome)
			}
			if tt.outcome == authn.Invalid && v.Err.Reason != tt.reason {
				t.Fatalf("reason = %v; want %v", v.Err.Reason, tt.reason)
			}
			if tt.outcome == authn.Valid && (v.Identity.Principal != "alice" || len(v.Strip.RemoveHeaders) != 1) {
				t.Fatalf("verdict = %+v", v)
			}
		})
	}
}

func TestCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	u := &users{pw: map[string]string{"alice": "pw", "bob": "pw2", "carol": "pw3"}}
	c, err := NewCache([]byte(strings.Repeat("0123456789abcdef", 4)), 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p := New("staff", "r", u, false, c)
	good := "Basic " + b64("alice:pw")
	if v := p.Authenticate(request(now, good)); v.Outcome != authn.Valid || v.CacheHit {
		t.Fatalf("first: %+v", v)
	}
	if v := p.Authenticate(request(now.Add(30*time.Second), good)); v.Outcome != authn.Valid || !v.CacheHit ||
		v.Identity.Principal != "alice" || len(v.Strip.RemoveHeaders) != 1 {
		t.Fatalf("second: %+v", v)
	}
	// The cache is keyed by the token as sent: another spelling of the same
	// credential (other unused bits in the last character) is no hit, and
	// strict decoding refuses it.
	if canon := b64("alice:pw"); canon != "YWxpY2U6cHc=" {
		t.Fatalf("b64 = %q", canon)
	}
	if v := p.Authenticate(request(now, "Basic YWxpY2U6cHd=")); v.Outcome != authn.Invalid || v.CacheHit || v.Err.Reason != authn.ReasonMalformedCredential {
		t.Fatalf("non-canonical spelling: %+v", v)
	}
	if u.calls != 1 {
		t.Fatalf("verifier calls = %d; want 1 (cached)", u.calls)
	}
	// A wrong password for a cached user is never a hit.
	if v := p.Authenticate(request(now, "Basic "+b64("alice:wrong"))); v.Outcome != authn.Invalid {
		t.Fatalf("wrong password: %+v", v)
	}
	// Expiry.
	if v := p.Authenticate(request(now.Add(time.Minute), good)); v.CacheHit {
		t.Fatal("hit after the TTL")
	}
	// Bounded size.
	p.Authenticate(request(now, "Basic "+b64("bob:pw2")))
	p.Authenticate(request(now, "Basic "+b64("carol:pw3")))
	if c.Len() > 2 {
		t.Fatalf("cache holds %d entries; max 2", c.Len())
	}
	// Failures are not cached.
	calls := u.calls
	p.Authenticate(request(now, "Basic "+b64("bob:bad")))
	p.Authenticate(request(now, "Basic "+b64("bob:bad")))
	if u.calls != calls+2 {
		t.Fatalf("failures were cached")
	}
}

func TestChallenge(t *testing.T) {
	if got := New("s", "staff area", &users{}, false, nil).Challenge(); got != `Basic realm="staff area", charset="UTF-8"` {
		t.Fatalf("Challenge = %q", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(b64("alice:pw"))
	f.Add(b64(":"))
	f.Add("====")
	f.Fuzz(func(t *testing.T, token string) {
		u, p, err := Decode(token)
		if err != nil {
			if err.Reason != authn.ReasonMalformedCredential {
				t.Fatalf("reason %v", err.Reason)
			}
			return
		}
		if u == "" || strings.Contains(u, ":") {
			t.Fatalf("user %q", u)
		}
		if b64(u+":"+p) != token {
			t.Fatalf("Decode(%q) = %q, %q; does not round-trip", token, u, p)
		}
	})
}

// The cache key is SHA-256(key block || provider 0x00 token), the same on
// every call though the keyed state is reused; only a one-block key is
// accepted.
func TestCacheKey(t *testing.T) {
	key := []byte(strings.Repeat("0123456789abcdef", 4))
	c, err := NewCache(key, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(append(bytes.Clone(key), "staff\x00"+b64("alice:pw")...))
	for range 3 {
		if k := c.key("staff", b64("alice:pw")); !bytes.Equal(k[:], want[:]) {
			t.Fatalf("key %x; want %x", k, want)
		}
		if c.key("staff", b64("alice:pw2")) == c.key("staff", b64("alice:pw")) || c.key("other", b64("alice:pw")) == c.key("staff", b64("alice:pw")) {
			t.Fatal("two passwords or two providers, one key")
		}
	}
	if _, err := NewCache(key[:32], 2, time.Minute); err == nil {
		t.Fatal("NewCache accepted a 32-byte key")
	}
}
