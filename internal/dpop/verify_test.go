package dpop

import (
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// TestVerifyAlgorithms verifies a proof per algorithm, signed by go-jose,
// and checks every field of the result against go-jose's thumbprint and
// the claims.
func TestVerifyAlgorithms(t *testing.T) {
	all := Options{Algorithms: []string{"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}}
	for _, alg := range all.Algorithms {
		t.Run(alg, func(t *testing.T) {
			pr := proof(t, alg, claims("iat", testNow.Unix()-5))
			p, f := Verify(pr, testRequest(), all)
			if f != FailNone {
				t.Fatalf("Verify(%s proof) = %v; want success", alg, f)
			}
			want := joseThumbprint(t, keyFor(alg))
			if p.Thumbprint != want || p.JTI != "e1j3V_bKic8-LAEB" || p.Alg != alg ||
				!p.IssuedAt.Equal(testNow.Add(-5*time.Second)) || !p.Expires.Equal(testNow.Add(55*time.Second)) {
				t.Fatalf("Verify(%s proof) = %+v; want thumbprint %s, iat now-5s, expires now+55s", alg, p, want)
			}
			if p.Key == nil || len(p.Key.SPKI()) == 0 {
				t.Fatal("no key in the proof")
			}
		})
	}
}

// TestVerifyAccepts lists proofs that differ from the canonical one and
// must still be accepted.
func TestVerifyAccepts(t *testing.T) {
	tests := []struct {
		name  string
		proof func(t testing.TB) string
		req   func(*Request)
		opts  func(*Options)
	}{
		{name: "htu with upper-case scheme and host, default port", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "HTTPS://API.Example.COM:443/v1/things"))
		}},
		{name: "htu with query and fragment", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com/v1/things?a=1#frag"))
		}},
		{name: "request with a query", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims())
		}, req: func(r *Request) { r.HTU = mustHTU("https", "api.example.com", "/v1/things?a=1&b=2") }},
		{name: "htu with escaped unreserved characters and lower-case escapes", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com/v%31/th%69ngs/%7e/a%2fb"))
		}, req: func(r *Request) { r.HTU = mustHTU("https", "api.example.com", "/v1/things/~/a%2Fb") }},
		{name: "htu with dot segments", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com/v1/x/../things"))
		}},
		{name: "non-default port on both sides", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com:8443/v1/things"))
		}, req: func(r *Request) { r.HTU = mustHTU("https", "api.example.com:08443", "/v1/things") }},
		{name: "iat at the oldest accepted", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("iat", testNow.Add(-DefaultMaxAge).Unix()))
		}},
		{name: "iat at the latest accepted", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("iat", testNow.Add(DefaultFutureSkew).Unix()))
		}},
		{name: "fractional iat", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("iat", float64(testNow.Unix())+0.25))
		}},
		{name: "longer MaxAge", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("iat", testNow.Add(-5*time.Minute).Unix()))
		}, opts: func(o *Options) { o.MaxAge = 5 * time.Minute }},
		{name: "no access token: ath not checked", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("ath", nil))
		}, req: func(r *Request) { r.AccessToken = "" }},
		{name: "nonce one of the current ones", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("nonce", "n-2"))
		}, req: func(r *Request) { r.Nonces = []string{"n-1", "n-2"} }},
		{name: "nonce present but not required", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("nonce", "whatever"))
		}},
		{name: "jti at the size limit", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("jti", strings.Repeat("j", DefaultMaxJTIBytes)))
		}},
		{name: "extra claims and header members", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("extra", map[string]any{"a": []int{1}}), "kid", "k1", "x-custom", true)
		}},
		{name: "jwk with matching alg, use and key_ops", proof: func(t testing.TB) string {
			j := publicJWK(t, "ec256")
			j["alg"], j["use"], j["key_ops"] = "ES256", "sig", []string{"verify"}
			return proof(t, "ES256", claims(), "jwk", j)
		}},
		{name: "custom method", proof: func(t testing.TB) string {
			return proof(t, "ES256", claims("htm", "PROPFIND"))
		}, req: func(r *Request) { r.Method = "PROPFIND" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, opts := testRequest(), Options{}
			if tc.req != nil {
				tc.req(&req)
			}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			if p, f := Verify(tc.proof(t), req, opts); f != FailNone || p == nil {
				t.Fatalf("Verify = %v; want success", f)
			}
		})
	}
}

// accept runs a resource server's checks in order: Verify, CheckBinding
// against the token's claims cnfJSON ("" for a token bound to the proof's
// key), CheckReplay.
func accept(t testing.TB, pr string, req Request, opts Options, cnfJSON string, store ReplayStore) Failure {
	p, f := Verify(pr, req, opts)
	if f != FailNone {
		return f
	}
	if cnfJSON == "" {
		cnfJSON = `{"cnf":{"jkt":"` + p.Thumbprint + `"}}`
	}
	if f := CheckBinding(cnf(t, cnfJSON), p.Thumbprint); f != FailNone {
		return f
	}
	return CheckReplay(store, p)
}

// mangleSig re-encodes proof's signature changed by change.
func mangleSig(t testing.TB, proof string, change func([]byte) []byte) string {
	i := strings.LastIndexByte(proof, '.')
	sig, err := base64.RawURLEncoding.DecodeString(proof[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return proof[:i+1] + base64.RawURLEncoding.EncodeToString(change(sig))
}

// urlSafeToken is a token whose "ath" has a '-' or '_', so that its
// standard-alphabet encoding differs.
func urlSafeToken() string {
	for i := 0; ; i++ {
		tok := "token-" + strconv.Itoa(i)
		if strings.ContainsAny(athOf(tok), "-_") {
			return tok
		}
	}
}

func mustHTU(scheme, authority, path string) string {
	u, err := HTU(scheme, authority, path)
	if err != nil {
		panic(err)
	}
	return u
}

// rsaJWK returns a public RSA JWK with a made-up modulus of bits bits
// (not a product of primes: it fails before any signature work).
func rsaJWK(t testing.TB, bits int) map[string]any {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, bits-1, 1).SetBit(n, 0, 1)
	return map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(n.Bytes()), "e": "AQAB"}
}

// TestVerifyRejects is every check of Verify, one row each, asserting the
// exact failure.
func TestVerifyRejects(t *testing.T) {
	ecHeader := func(t testing.TB, extra string) string {
		j := publicJWK(t, "ec256")
		return `{"typ":"dpop+jwt","alg":"ES256","jwk":` + mustJSON(t, j) + extra + `}`
	}
	withJWK := func(name string, change func(map[string]any)) func(t testing.TB) string {
		return func(t testing.TB) string {
			j := publicJWK(t, name)
			change(j)
			alg := map[string]string{"ec256": "ES256", "rsa2048": "RS256", "ed25519": "EdDSA"}[name]
			return proof(t, alg, claims(), "jwk", j)
		}
	}
	tests := []struct {
		name  string
		proof func(t testing.TB) string
		req   func(*Request)
		opts  func(*Options)
		want  Failure
		// cnf is the access token's claims JSON; "" is a token bound to
		// the proof's key. twice presents the proof once before.
		cnf   string
		twice bool
	}{
		// 1. size
		{"empty proof", func(testing.TB) string { return "" }, nil, nil, FailMissingProof, "", false},
		{"over MaxProofBytes", func(t testing.TB) string { return proof(t, "ES256", claims()) }, nil,
			func(o *Options) { o.MaxProofBytes = 200 }, FailProofTooLarge, "", false},

		// 2. structure
		{"two segments", func(testing.TB) string { return seg(`{"typ":"dpop+jwt","alg":"ES256"}`) + "." + seg("{}") }, nil, nil, FailMalformed, "", false},
		{"four segments", func(t testing.TB) string { return proof(t, "ES256", claims()) + ".AAAA" }, nil, nil, FailMalformed, "", false},
		{"five segments (JWE)", func(testing.TB) string { return seg(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d" }, nil, nil, FailUnsupportedHeader, "", false},
		{"padding in a segment", func(t testing.TB) string { return proof(t, "ES256", claims()) + "=" }, nil, nil, FailMalformed, "", false},
		{"space in the proof", func(t testing.TB) string { return "Bearer " + proof(t, "ES256", claims()) }, nil, nil, FailMalformed, "", false},
		{"header not JSON", func(testing.TB) string { return unsigned(`{"typ":"dpop+jwt",`, `{}`, "AAAA") }, nil, nil, FailMalformed, "", false},
		{"header an array", func(testing.TB) string { return unsigned(`["dpop+jwt"]`, `{}`, "AAAA") }, nil, nil, FailMalformed, "", false},
		{"duplicate header member", func(t testing.TB) string { return unsigned(ecHeader(t, `,"typ":"dpop+jwt"`), `{}`, "AAAA") }, nil, nil, FailDuplicateMember, "", false},
		{"duplicate member inside jwk", func(t testing.TB) string {
			return unsigned(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","kty":"EC"}}`, `{}`, "AAAA")
		}, nil, nil, FailDuplicateMember, "", false},
		{"crit", func(t testing.TB) string { return proof(t, "ES256", claims(), "crit", []string{"exp"}, "exp", 1) }, nil, nil, FailUnsupportedHeader, "", false},
		{"b64 false", func(t testing.TB) string { return unsigned(ecHeader(t, `,"b64":false`), `{}`, "AAAA") }, nil, nil, FailUnsupportedHeader, "", false},
		{"empty signature", func(t testing.TB) string { return unsigned(ecHeader(t, ""), mustJSON(t, claims()), "") }, nil, nil, FailMalformed, "", false},
		{"alg none", func(t testing.TB) string {
			return unsigned(`{"typ":"dpop+jwt","alg":"none","jwk":`+mustJSON(t, publicJWK(t, "ec256"))+`}`, mustJSON(t, claims()), "")
		}, nil, nil, FailAlgNone, "", false},
		{"alg None", func(t testing.TB) string { return unsigned(`{"typ":"dpop+jwt","alg":"None"}`, `{}`, "") }, nil, nil, FailAlgNone, "", false},
		{"alg missing", func(t testing.TB) string { return unsigned(`{"typ":"dpop+jwt"}`, `{}`, "AAAA") }, nil, nil, FailMalformed, "", false},
		{"alg unknown (ES256K)", func(t testing.TB) string { return unsigned(`{"typ":"dpop+jwt","alg":"ES256K"}`, `{}`, "AAAA") }, nil, nil, FailAlgNotAllowed, "", false},

		// 3. typ
		{"typ missing", func(t testing.TB) string { return proof(t, "ES256", claims(), "typ", nil) }, nil, nil, FailType, "", false},
		{"typ JWT", func(t testing.TB) string { return proof(t, "ES256", claims(), "typ", "JWT") }, nil, nil, FailType, "", false},
		{"typ at+jwt", func(t testing.TB) string { return proof(t, "ES256", claims(), "typ", "at+jwt") }, nil, nil, FailType, "", false},
		{"typ with application/ prefix", func(t testing.TB) string { return proof(t, "ES256", claims(), "typ", "application/dpop+jwt") }, nil, nil, FailType, "", false},
		{"typ in upper case", func(t testing.TB) string { return proof(t, "ES256", claims(), "typ", "DPoP+JWT") }, nil, nil, FailType, "", false},
		{"typ not a string", func(t testing.TB) string { return proof(t, "ES256", claims(), "typ", 1) }, nil, nil, FailMalformed, "", false},
		{"typ checked before alg", func(t testing.TB) string {
			return proof(t, "HS256", claims(), "typ", "JWT", "jwk", publicJWK(t, "ec256"))
		}, nil, nil, FailType, "", false},

		// 4. alg allow-list
		{"HS256 with a jwk", func(t testing.TB) string { return proof(t, "HS256", claims(), "jwk", publicJWK(t, "ec256")) }, nil, nil, FailAlgNotAllowed, "", false},
		{"HS512 even if listed", func(t testing.TB) string { return proof(t, "HS512", claims(), "jwk", publicJWK(t, "ec256")) }, nil,
			func(o *Options) { o.Algorithms = []string{"HS512", "ES256"} }, FailAlgNotAllowed, "", false},
		{"ES512 is not a default", func(t testing.TB) string { return proof(t, "ES512", claims()) }, nil, nil, FailAlgNotAllowed, "", false},
		{"RS384 is not a default", func(t testing.TB) string { return proof(t, "RS384", claims()) }, nil, nil, FailAlgNotAllowed, "", false},
		{"RS256 outside a configured list", func(t testing.TB) string { return proof(t, "RS256", claims()) }, nil,
			func(o *Options) { o.Algorithms = []string{"ES256"} }, FailAlgNotAllowed, "", false},
		{"Ed25519 when only EdDSA is listed", func(t testing.TB) string { return proof(t, "Ed25519", claims()) }, nil,
			func(o *Options) { o.Algorithms = []string{"EdDSA"} }, FailAlgNotAllowed, "", false},

		// 5. jwk
		{"jwk missing", func(t testing.TB) string { return proof(t, "ES256", claims(), "jwk", nil) }, nil, nil, FailMissingJWK, "", false},
		{"jwk missing, kid instead", func(t testing.TB) string { return proof(t, "ES256", claims(), "jwk", nil, "kid", "k1") }, nil, nil, FailMissingJWK, "", false},
		{"jwk a string", func(t testing.TB) string { return proof(t, "ES256", claims(), "jwk", "eyJrdHkiOiJFQyJ9") }, nil, nil, FailBadJWK, "", false},
		{"jwk null", func(t testing.TB) string {
			return unsigned(`{"typ":"dpop+jwt","alg":"ES256","jwk":null}`, `{}`, "AAAA")
		}, nil, nil, FailBadJWK, "", false},
		{"EC private key (d)", withJWK("ec256", func(j map[string]any) { j["d"] = "AAAA" }), nil, nil, FailPrivateKey, "", false},
		{"RSA private members (p)", withJWK("rsa2048", func(j map[string]any) { j["p"] = "AAAA" }), nil, nil, FailPrivateKey, "", false},
		{"RSA private members (qi)", withJWK("rsa2048", func(j map[string]any) { j["qi"] = "AAAA" }), nil, nil, FailPrivateKey, "", false},
		{"RSA other primes (oth)", withJWK("rsa2048", func(j map[string]any) { j["oth"] = []any{} }), nil, nil, FailPrivateKey, "", false},
		{"Ed25519 private key (d)", withJWK("ed25519", func(j map[string]any) { j["d"] = "AAAA" }), nil, nil, FailPrivateKey, "", false},
		{"symmetric key (k)", func(t testing.TB) string {
			return proof(t, "ES256", claims(), "jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"})
		}, nil, nil, FailPrivateKey, "", false},
		{"symmetric key type without k", func(t testing.TB) string {
			return proof(t, "ES256", claims(), "jwk", map[string]any{"kty": "oct"})
		}, nil, nil, FailPrivateKey, "", false},
		{"unknown kty", withJWK("ec256", func(j map[string]any) { j["kty"] = "AKP" }), nil, nil, FailBadJWK, "", false},
		{"EC point not on the curve", withJWK("ec256", func(j map[string]any) { j["y"] = j["x"] }), nil, nil, FailBadJWK, "", false},
		{"EC coordinate too short", withJWK("ec256", func(j map[string]any) { j["x"] = "AAAA" }), nil, nil, FailBadJWK, "", false},
		{"EC curve unknown", withJWK("ec256", func(j map[string]any) { j["crv"] = "secp256k1" }), nil, nil, FailBadJWK, "", false},
		{"RSA n with a leading zero octet", withJWK("rsa2048", func(j map[string]any) {
			n, _ := base64.RawURLEncoding.DecodeString(j["n"].(string))
			j["n"] = base64.RawURLEncoding.EncodeToString(append([]byte{0}, n...))
		}), nil, nil, FailBadJWK, "", false},
		{"RSA e with a leading zero octet", withJWK("rsa2048", func(j map[string]any) { j["e"] = "AAEAAQ" }), nil, nil, FailBadJWK, "", false},
		{"jwk for encryption", withJWK("ec256", func(j map[string]any) { j["use"] = "enc" }), nil, nil, FailBadJWK, "", false},
		{"jwk key_ops without verify", withJWK("ec256", func(j map[string]any) { j["key_ops"] = []string{"encrypt"} }), nil, nil, FailBadJWK, "", false},
		{"P-384 key with ES256", func(t testing.TB) string { return proof(t, "ES256", claims(), "jwk", publicJWK(t, "ec384")) }, nil, nil, FailKeyMismatch, "", false},
		{"RSA key with ES256", func(t testing.TB) string { return proof(t, "ES256", claims(), "jwk", publicJWK(t, "rsa2048")) }, nil, nil, FailKeyMismatch, "", false},
		{"EC key with EdDSA", func(t testing.TB) string { return proof(t, "EdDSA", claims(), "jwk", publicJWK(t, "ec256")) }, nil, nil, FailKeyMismatch, "", false},
		{"Ed25519 key with ES256", func(t testing.TB) string { return proof(t, "ES256", claims(), "jwk", publicJWK(t, "ed25519")) }, nil, nil, FailKeyMismatch, "", false},
		{"header alg ES384 over a P-256 key", func(t testing.TB) string { return proof(t, "ES256", claims(), "alg", "ES384") }, nil, nil, FailKeyMismatch, "", false},
		{"jwk alg RS384 with RS256", withJWK("rsa2048", func(j map[string]any) { j["alg"] = "RS384" }), nil, nil, FailKeyMismatch, "", false},
		{"RSA 1024", func(t testing.TB) string { return proof(t, "RS256", claims(), "jwk", rsaJWK(t, 1024)) }, nil, nil, FailKeyTooSmall, "", false},
		{"RSA 2048 under a raised minimum", func(t testing.TB) string { return proof(t, "RS256", claims()) }, nil,
			func(o *Options) { o.MinRSABits = 3072 }, FailKeyTooSmall, "", false},
		{"RSA 4104 over the default maximum", func(t testing.TB) string { return proof(t, "RS256", claims(), "jwk", rsaJWK(t, 4104)) }, nil, nil, FailKeyTooLarge, "", false},

		// 6. signature
		{"signed by another key", func(t testing.TB) string { return proof(t, "ES256", claims(), "jwk", publicJWK(t, "ec256b")) }, nil, nil, FailSignature, "", false},
		{"signature truncated", func(t testing.TB) string {
			return mangleSig(t, proof(t, "ES256", claims()), func(s []byte) []byte { return s[:63] })
		}, nil, nil, FailSignature, "", false},
		{"signature one byte longer", func(t testing.TB) string {
			return mangleSig(t, proof(t, "ES256", claims()), func(s []byte) []byte { return append(s, 0) })
		}, nil, nil, FailSignature, "", false},
		{"signature with r = 0", func(t testing.TB) string {
			return mangleSig(t, proof(t, "ES256", claims()), func(s []byte) []byte { clear(s[:32]); return s })
		}, nil, nil, FailSignature, "", false},
		{"signature of the wrong size for RSA", func(t testing.TB) string {
			return mangleSig(t, proof(t, "RS256", claims()), func(s []byte) []byte { return s[1:] })
		}, nil, nil, FailSignature, "", false},
		{"signature flipped bit", func(t testing.TB) string {
			return mangleSig(t, proof(t, "EdDSA", claims()), func(s []byte) []byte { s[5] ^= 1; return s })
		}, nil, nil, FailSignature, "", false},
		{"payload changed after signing", func(t testing.TB) string {
			parts := strings.Split(proof(t, "ES256", claims()), ".")
			return parts[0] + "." + seg(mustJSON(t, claims("htm", "POST"))) + "." + parts[2]
		}, nil, nil, FailSignature, "", false},
		{"PS256 header over an RS256 signature", func(t testing.TB) string { return proof(t, "RS256", claims(), "alg", "PS256") }, nil, nil, FailSignature, "", false},

		// 7. claims
		{"payload not JSON", func(t testing.TB) string { return rawProof(t, "ES256", "", []byte("jti=1")) }, nil, nil, FailMalformed, "", false},
		{"payload an array", func(t testing.TB) string { return rawProof(t, "ES256", "", []byte(`["jti"]`)) }, nil, nil, FailMalformed, "", false},
		{"payload not UTF-8", func(t testing.TB) string { return rawProof(t, "ES256", "", []byte("{\"jti\":\"\xff\"}")) }, nil, nil, FailMalformed, "", false},
		{"duplicate claim (jti)", func(t testing.TB) string {
			return rawProof(t, "ES256", "", []byte(`{"jti":"a","jti":"b","htm":"GET","htu":"`+testURI+`","iat":1800000000,"ath":"`+athOf(testToken)+`"}`))
		}, nil, nil, FailDuplicateMember, "", false},
		{"duplicate claim, escaped (htm)", func(t testing.TB) string {
			return rawProof(t, "ES256", "", []byte(`{"jti":"a","htm":"GET","\u0068tm":"POST","htu":"`+testURI+`","iat":1800000000}`))
		}, nil, nil, FailDuplicateMember, "", false},
		{"jti missing", func(t testing.TB) string { return proof(t, "ES256", claims("jti", nil)) }, nil, nil, FailJTI, "", false},
		{"jti empty", func(t testing.TB) string { return proof(t, "ES256", claims("jti", "")) }, nil, nil, FailJTI, "", false},
		{"jti a number", func(t testing.TB) string { return proof(t, "ES256", claims("jti", 12345)) }, nil, nil, FailJTI, "", false},
		{"jti too long", func(t testing.TB) string {
			return proof(t, "ES256", claims("jti", strings.Repeat("j", DefaultMaxJTIBytes+1)))
		}, nil, nil, FailJTITooLong, "", false},
		{"jti over a lower limit", func(t testing.TB) string { return proof(t, "ES256", claims("jti", strings.Repeat("j", 17))) }, nil,
			func(o *Options) { o.MaxJTIBytes = 16 }, FailJTITooLong, "", false},
		{"htm missing", func(t testing.TB) string { return proof(t, "ES256", claims("htm", nil)) }, nil, nil, FailMethod, "", false},
		{"htm POST for GET", func(t testing.TB) string { return proof(t, "ES256", claims("htm", "POST")) }, nil, nil, FailMethod, "", false},
		{"htm in lower case", func(t testing.TB) string { return proof(t, "ES256", claims("htm", "get")) }, nil, nil, FailMethod, "", false},
		{"htm not a string", func(t testing.TB) string { return proof(t, "ES256", claims("htm", []string{"GET"})) }, nil, nil, FailMethod, "", false},
		{"htu missing", func(t testing.TB) string { return proof(t, "ES256", claims("htu", nil)) }, nil, nil, FailURI, "", false},
		{"htu another host", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://evil.example.com/v1/things"))
		}, nil, nil, FailURI, "", false},
		{"htu a subdomain", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://x.api.example.com/v1/things"))
		}, nil, nil, FailURI, "", false},
		{"htu another port", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com:8443/v1/things"))
		}, nil, nil, FailURI, "", false},
		{"htu http for https", func(t testing.TB) string { return proof(t, "ES256", claims("htu", "http://api.example.com/v1/things")) }, nil, nil, FailURI, "", false},
		{"htu http default port for https", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com:80/v1/things"))
		}, nil, nil, FailURI, "", false},
		{"htu another path", func(t testing.TB) string { return proof(t, "ES256", claims("htu", "https://api.example.com/v1/other")) }, nil, nil, FailURI, "", false},
		{"htu path differs in case", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com/V1/things"))
		}, nil, nil, FailURI, "", false},
		{"htu trailing slash", func(t testing.TB) string { return proof(t, "ES256", claims("htu", testURI+"/")) }, nil, nil, FailURI, "", false},
		{"htu encoded slash", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com/v1%2Fthings"))
		}, nil, nil, FailURI, "", false},
		{"htu relative", func(t testing.TB) string { return proof(t, "ES256", claims("htu", "/v1/things")) }, nil, nil, FailURI, "", false},
		{"htu with userinfo", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://user@api.example.com/v1/things"))
		}, nil, nil, FailURI, "", false},
		{"htu bad escape", func(t testing.TB) string {
			return proof(t, "ES256", claims("htu", "https://api.example.com/v1/%zzthings"))
		}, nil, nil, FailURI, "", false},
		{"htu another scheme", func(t testing.TB) string { return proof(t, "ES256", claims("htu", "wss://api.example.com/v1/things")) }, nil, nil, FailURI, "", false},
		{"htu not a string", func(t testing.TB) string { return proof(t, "ES256", claims("htu", map[string]string{"u": testURI})) }, nil, nil, FailURI, "", false},
		{"request URI unknown", func(t testing.TB) string { return proof(t, "ES256", claims()) }, func(r *Request) { r.HTU = "" }, nil, FailURI, "", false},
		{"iat missing", func(t testing.TB) string { return proof(t, "ES256", claims("iat", nil)) }, nil, nil, FailIssuedAt, "", false},
		{"iat a string", func(t testing.TB) string { return proof(t, "ES256", claims("iat", "1800000000")) }, nil, nil, FailIssuedAt, "", false},
		{"iat too old", func(t testing.TB) string {
			return proof(t, "ES256", claims("iat", testNow.Add(-DefaultMaxAge-time.Second).Unix()))
		}, nil, nil, FailTooOld, "", false},
		{"iat older than a shorter MaxAge", func(t testing.TB) string {
			return proof(t, "ES256", claims("iat", testNow.Add(-11*time.Second).Unix()))
		}, nil,
			func(o *Options) { o.MaxAge = 10 * time.Second }, FailTooOld, "", false},
		{"iat in the future", func(t testing.TB) string {
			return proof(t, "ES256", claims("iat", testNow.Add(DefaultFutureSkew+time.Second).Unix()))
		}, nil, nil, FailIssuedInFuture, "", false},
		{"iat in the future, no skew", func(t testing.TB) string { return proof(t, "ES256", claims("iat", testNow.Unix()+1)) }, nil,
			func(o *Options) { o.FutureSkew = -1 }, FailIssuedInFuture, "", false},
		{"ath missing", func(t testing.TB) string { return proof(t, "ES256", claims("ath", nil)) }, nil, nil, FailMissingATH, "", false},
		{"ath of another token", func(t testing.TB) string { return proof(t, "ES256", claims("ath", athOf("another"))) }, nil, nil, FailATHMismatch, "", false},
		{"ath padded", func(t testing.TB) string { return proof(t, "ES256", claims("ath", athOf(testToken)+"=")) }, nil, nil, FailATHMismatch, "", false},
		{"ath in standard base64", func(t testing.TB) string {
			return proof(t, "ES256", claims("ath", strings.NewReplacer("-", "+", "_", "/").Replace(athOf(urlSafeToken()))))
		}, func(r *Request) { r.AccessToken = urlSafeToken() }, nil, FailATHMismatch, "", false},
		{"ath the token itself", func(t testing.TB) string { return proof(t, "ES256", claims("ath", testToken)) }, nil, nil, FailATHMismatch, "", false},
		{"ath not a string", func(t testing.TB) string { return proof(t, "ES256", claims("ath", 1)) }, nil, nil, FailATHMismatch, "", false},
		{"nonce required, missing", func(t testing.TB) string { return proof(t, "ES256", claims()) }, func(r *Request) { r.Nonces = []string{"n-1"} }, nil, FailNonceMissing, "", false},
		{"nonce stale", func(t testing.TB) string { return proof(t, "ES256", claims("nonce", "n-0")) }, func(r *Request) { r.Nonces = []string{"n-1", "n-2"} }, nil, FailNonceMismatch, "", false},
		{"nonce a prefix of the current one", func(t testing.TB) string { return proof(t, "ES256", claims("nonce", "n-")) }, func(r *Request) { r.Nonces = []string{"n-1"} }, nil, FailNonceMismatch, "", false},
		{"nonce empty against an empty entry", func(t testing.TB) string { return proof(t, "ES256", claims("nonce", "")) }, func(r *Request) { r.Nonces = []string{""} }, nil, FailNonceMismatch, "", false},
		{"nonce not a string", func(t testing.TB) string { return proof(t, "ES256", claims("nonce", 1)) }, func(r *Request) { r.Nonces = []string{"1"} }, nil, FailNonceMismatch, "", false},

		// After Verify: the token's binding, then replay.
		{name: "cnf.jkt of another key", proof: func(t testing.TB) string { return proof(t, "ES256", claims()) },
			cnf: `{"cnf":{"jkt":"` + rfc7638Thumbprint + `"}}`, want: FailBindingMismatch},
		{name: "token not DPoP-bound", proof: func(t testing.TB) string { return proof(t, "ES256", claims()) },
			cnf: `{"sub":"alice"}`, want: FailNotBound},
		{name: "cnf.jkt malformed", proof: func(t testing.TB) string { return proof(t, "ES256", claims()) },
			cnf: `{"cnf":{"jkt":["x"]}}`, want: FailBadConfirmation},
		{name: "replay within the window", proof: func(t testing.TB) string { return proof(t, "RS256", claims()) },
			twice: true, want: FailReplay},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, opts := testRequest(), Options{}
			if tc.req != nil {
				tc.req(&req)
			}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			pr := tc.proof(t)
			store := NewMemoryStore(8, func() time.Time { return req.Now })
			if tc.twice {
				if f := accept(t, pr, req, opts, tc.cnf, store); f != FailNone {
					t.Fatalf("first presentation: %v", f)
				}
			}
			if f := accept(t, pr, req, opts, tc.cnf, store); f != tc.want {
				t.Fatalf("Verify, CheckBinding, CheckReplay(%.40q…) = %v; want %v", pr, f, tc.want)
			}
			if p, f := Verify(pr, req, opts); (p != nil) != (f == FailNone) {
				t.Fatalf("Verify = %+v, %v", p, f)
			}
			f := tc.want
			d := opts.Deny(f, "nonce-1")
			if pr != "" && (strings.Contains(d.Err.Challenge, pr) || strings.Contains(d.Err.Description, pr)) {
				t.Fatal("the denial echoes the proof")
			}
		})
	}
}

// TestVerifyOrder pins the order of checks where one proof fails several.
func TestVerifyOrder(t *testing.T) {
	bad := claims("jti", nil, "htm", "POST", "htu", "https://evil.example/", "iat", 1, "ath", "x")
	tests := []struct {
		name  string
		proof string
		want  Failure
	}{
		{"signature before claims", proof(t, "ES256", bad, "jwk", publicJWK(t, "ec256b")), FailSignature},
		{"jti before htm", proof(t, "ES256", bad), FailJTI},
		{"htm before htu", proof(t, "ES256", claims("htm", "POST", "htu", "https://evil.example/", "iat", 1)), FailMethod},
		{"htu before iat", proof(t, "ES256", claims("htu", "https://evil.example/", "iat", 1, "ath", "x")), FailURI},
		{"iat before ath", proof(t, "ES256", claims("iat", 1, "ath", "x")), FailTooOld},
		{"ath before nonce", proof(t, "ES256", claims("ath", "x")), FailATHMismatch},
		{"private key before key type", proof(t, "ES256", claims(), "jwk", map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AA"}), FailPrivateKey},
		{"alg before jwk", proof(t, "HS256", claims()), FailAlgNotAllowed},
	}
	req := testRequest()
	req.Nonces = []string{"n"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, f := Verify(tc.proof, req, Options{}); f != tc.want {
				t.Fatalf("Verify = %v; want %v", f, tc.want)
			}
		})
	}
}

// The examples of RFC 9449 (§5: a token request; §7.1: a resource request
// with "ath"), verified at their own "iat". Their key's thumbprint is the
// "jkt" of the §6.1 example token.
const (
	rfc9449TokenRequestProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19" +
		".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ" +
		".2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
	rfc9449ResourceProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19" +
		".eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9" +
		".2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA"
	rfc9449JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	rfc9449ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
)

func TestRFC9449Examples(t *testing.T) {
	if got := ATH(testToken); got != rfc9449ATH {
		t.Fatalf("ATH(%q) = %q; want %q (RFC 9449 §7.1)", testToken, got, rfc9449ATH)
	}
	tests := []struct {
		name    string
		proof   string
		req     Request
		wantJTI string
	}{
		{"§5 token request", rfc9449TokenRequestProof, Request{
			Method: "POST", HTU: mustHTU("https", "server.example.com", "/token"), Now: time.Unix(1562262616, 0),
		}, "-BwC3ESc6acc2lTc"},
		{"§7.1 resource request", rfc9449ResourceProof, Request{
			Method: "GET", HTU: mustHTU("https", "resource.example.org", "/protectedresource"),
			AccessToken: testToken, Now: time.Unix(1562262618, 0),
		}, "e1j3V_bKic8-LAEB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, f := Verify(tc.proof, tc.req, Options{})
			if f != FailNone {
				t.Fatalf("Verify = %v; want success", f)
			}
			if p.Thumbprint != rfc9449JKT || p.JTI != tc.wantJTI || !p.IssuedAt.Equal(tc.req.Now) {
				t.Fatalf("Verify = %+v; want thumbprint %s, jti %s, iat %v", p, rfc9449JKT, tc.wantJTI, tc.req.Now)
			}
			if f := CheckBinding(cnf(t, `{"cnf":{"jkt":"`+rfc9449JKT+`"}}`), p.Thumbprint); f != FailNone {
				t.Fatalf("CheckBinding(§6.1 cnf) = %v", f)
			}
			later := tc.req
			later.Now = later.Now.Add(DefaultMaxAge + time.Second)
			if _, f := Verify(tc.proof, later, Options{}); f != FailTooOld {
				t.Fatalf("Verify a minute later = %v; want %v", f, FailTooOld)
			}
		})
	}
	// The §7.1 proof carries "ath": presented with another token, it fails.
	req := Request{Method: "GET", HTU: "https://resource.example.org/protectedresource", AccessToken: "other", Now: time.Unix(1562262618, 0)}
	if _, f := Verify(rfc9449ResourceProof, req, Options{}); f != FailATHMismatch {
		t.Fatalf("Verify with another token = %v; want %v", f, FailATHMismatch)
	}
}

// hostVerifier is a jwt.SignatureVerifier that answers as told and
// records its calls.
type hostVerifier struct {
	handled, ok bool
	calls       []string
}

func (h *hostVerifier) Verify(alg string, k *jwt.Key, input, sig []byte) (bool, bool) {
	if len(k.SPKI()) == 0 || len(input) == 0 || len(sig) == 0 {
		panic("the host got no key, input or signature")
	}
	h.calls = append(h.calls, alg)
	return h.handled, h.ok
}

// TestHostVerifier: the host's answer is final when it handles the
// algorithm; otherwise Go's crypto decides.
func TestHostVerifier(t *testing.T) {
	good := proof(t, "ES256", claims())
	forged := proof(t, "ES256", claims(), "jwk", publicJWK(t, "ec256b"))
	tests := []struct {
		name          string
		host          hostVerifier
		proof         string
		want          Failure
		wantHostCalls int
	}{
		{"host accepts", hostVerifier{handled: true, ok: true}, good, FailNone, 1},
		{"host refuses a good signature", hostVerifier{handled: true, ok: false}, good, FailSignature, 1},
		{"host accepts a forged signature: final", hostVerifier{handled: true, ok: true}, forged, FailNone, 1},
		{"host cannot: Wasm accepts", hostVerifier{handled: false}, good, FailNone, 1},
		{"host cannot: Wasm refuses", hostVerifier{handled: false}, forged, FailSignature, 1},
		{"no signature work for a bad header", hostVerifier{handled: true, ok: true}, proof(t, "ES256", claims(), "typ", "JWT"), FailType, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.host
			if _, f := Verify(tc.proof, testRequest(), Options{Verifier: &h}); f != tc.want || len(h.calls) != tc.wantHostCalls {
				t.Fatalf("Verify = %v with %d host calls; want %v with %d", f, len(h.calls), tc.want, tc.wantHostCalls)
			}
		})
	}
}

func TestProofHeader(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
		fail   Failure
	}{
		{"one", []string{"a.b.c"}, "a.b.c", FailNone},
		{"spaces trimmed", []string{" \ta.b.c\t "}, "a.b.c", FailNone},
		{"none", nil, "", FailMissingProof},
		{"empty", []string{""}, "", FailMissingProof},
		{"blank", []string{" \t"}, "", FailMissingProof},
		{"two", []string{"a.b.c", "d.e.f"}, "", FailMultipleProofs},
		{"the same twice", []string{"a.b.c", "a.b.c"}, "", FailMultipleProofs},
		{"two folded into one", []string{"a.b.c, d.e.f"}, "", FailMultipleProofs},
		{"a trailing comma", []string{"a.b.c,"}, "", FailMultipleProofs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, f := ProofHeader(tc.values); got != tc.want || f != tc.fail {
				t.Fatalf("ProofHeader(%q) = %q, %v; want %q, %v", tc.values, got, f, tc.want, tc.fail)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"explicit", Options{Algorithms: []string{"ES256", "ES512"}, MinRSABits: 3072, MaxRSABits: 8192, MaxAge: time.Minute}, true},
		{"empty list", Options{Algorithms: []string{}}, false},
		{"none", Options{Algorithms: []string{"ES256", "none"}}, false},
		{"HS256", Options{Algorithms: []string{"HS256"}}, false},
		{"unknown", Options{Algorithms: []string{"ES256K"}}, false},
		{"twice", Options{Algorithms: []string{"ES256", "ES256"}}, false},
		{"RSA minimum too low", Options{MinRSABits: 1024}, false},
		{"RSA maximum too high", Options{MaxRSABits: 16384}, false},
		{"RSA bounds crossed", Options{MinRSABits: 4096, MaxRSABits: 3072}, false},
		{"negative age", Options{MaxAge: -time.Second}, false},
		{"negative size", Options{MaxProofBytes: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate(%+v) = %v; want ok=%v", tc.opts, err, tc.ok)
			}
		})
	}
}
