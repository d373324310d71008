package apikey

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

const goodKey = "k-0123456789abcdef"

func newProvider(keep bool) *Provider {
	keys := map[[sha256.Size]byte]*Consumer{
		sha256.Sum256([]byte(goodKey)): {Name: "alice", Metadata: map[string]string{"tier": "gold"}},
	}
	return New("keys", "r", []Source{{Header: "x-api-key"}, {Header: "authorization", Scheme: "ApiKey"}, {Query: "api_key"}}, keys, keep)
}

func req(path string, hs ...string) *authn.Request {
	r := &authn.Request{Path: path}
	for i := 0; i+1 < len(hs); i += 2 {
		r.Headers = append(r.Headers, authn.Header{Key: hs[i], Value: hs[i+1]})
	}
	return r
}

func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name    string
		req     *authn.Request
		outcome authn.Outcome
		reason  authn.Reason
	}{
		{"header", req("/", "x-api-key", goodKey), authn.Valid, 0},
		{"scheme", req("/", "authorization", "ApiKey "+goodKey), authn.Valid, 0},
		{"scheme case-insensitive", req("/", "authorization", "apikey  "+goodKey), authn.Valid, 0},
		{"query", req("/a?x=1&api_key=" + goodKey), authn.Valid, 0},
		{"query encoded", req("/a?api%5Fkey=k-0123456789abcdef"), authn.Valid, 0},
		{"none", req("/"), authn.Absent, 0},
		{"other scheme is not ours", req("/", "authorization", "Basic abc"), authn.Absent, 0},
		{"wrong key", req("/", "x-api-key", "nope-nope-nope"), authn.Invalid, authn.ReasonInvalidCredential},
		{"repeated header", req("/", "x-api-key", goodKey, "x-api-key", goodKey), authn.Invalid, authn.ReasonMultipleCredentials},
		{"header and query", req("/?api_key="+goodKey, "x-api-key", goodKey), authn.Invalid, authn.ReasonMultipleCredentials},
		{"two different keys", req("/", "x-api-key", goodKey, "authorization", "ApiKey other"), authn.Invalid, authn.ReasonMultipleCredentials},
		{"repeated query", req("/?api_key=a&api_key=b"), authn.Invalid, authn.ReasonMultipleCredentials},
		{"empty", req("/", "x-api-key", ""), authn.Invalid, authn.ReasonMalformedCredential},
		{"space inside", req("/", "x-api-key", "a b"), authn.Invalid, authn.ReasonMalformedCredential},
		{"non-ASCII", req("/", "x-api-key", "ключ"), authn.Invalid, authn.ReasonMalformedCredential},
		{"bad query encoding", req("/?api_key=%zz"), authn.Invalid, authn.ReasonMalformedCredential},
		{"oversized", req("/", "x-api-key", strings.Repeat("k", 64<<10)), authn.Invalid, authn.ReasonCredentialTooLarge},
	}
	p := newProvider(false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Authenticate(tt.req)
			if v.Outcome != tt.outcome {
				t.Fatalf("outcome = %v (%v); want %v", v.Outcome, v.Err, tt.outcome)
			}
			if tt.outcome == authn.Invalid {
				if v.Err.Reason != tt.reason {
					t.Fatalf("reason = %v; want %v", v.Err.Reason, tt.reason)
				}
				if strings.Contains(v.Err.Description, goodKey) {
					t.Fatalf("description leaks the key: %q", v.Err.Description)
				}
			}
			if tt.outcome == authn.Valid {
				if v.Identity.Principal != "alice" || v.Identity.Metadata["tier"] != "gold" {
					t.Fatalf("identity = %+v", v.Identity)
				}
				if len(v.Strip.RemoveHeaders)+len(v.Strip.RemoveQuery) != 1 {
					t.Fatalf("strip = %+v; want the one source", v.Strip)
				}
			}
		})
	}
}

func TestKeepCredential(t *testing.T) {
	v := newProvider(true).Authenticate(req("/", "x-api-key", goodKey))
	if v.Outcome != authn.Valid || len(v.Strip.RemoveHeaders) != 0 {
		t.Fatalf("keep: %+v", v)
	}
}

func TestChallenge(t *testing.T) {
	if got := newProvider(false).Challenge(); got != `ApiKey realm="r"` {
		t.Fatalf("Challenge = %q", got)
	}
}

func FuzzAuthenticate(f *testing.F) {
	f.Add("/?api_key="+goodKey, "x-api-key", goodKey, "authorization", "ApiKey x")
	f.Add("/%zz?api_key=%", "authorization", "apikey", "x-api-key", "")
	p := newProvider(false)
	f.Fuzz(func(t *testing.T, path, k1, v1, k2, v2 string) {
		v := p.Authenticate(req(path, k1, v1, k2, v2))
		switch v.Outcome {
		case authn.Absent:
		case authn.Valid:
			if v.Identity.Principal != "alice" {
				t.Fatalf("valid with identity %+v", v.Identity)
			}
		case authn.Invalid:
			if v.Err == nil || v.Err.Reason.Status() >= 500 {
				t.Fatalf("invalid without a client reason: %+v", v.Err)
			}
		default:
			t.Fatalf("unknown outcome %v", v.Outcome)
		}
	})
}
