package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/wasm-authn/wasm-authn/internal/host"
	"github.com/wasm-authn/wasm-authn/internal/plugintest"
)

// BenchmarkMTLS measures an mTLS-only request, mTLS and a (cached) JWT, and
// a DPoP-bound request (a fresh proof per request, so the proof's ES256
// signature is verified every time; the access token is cached).
func BenchmarkMTLS(b *testing.B) {
	tokKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	proofKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	xy := func(v *big.Int) string { buf := make([]byte, 32); v.FillBytes(buf); return b64u(buf) }
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "EC", "kid": "ec", "crv": "P-256", "x": xy(tokKey.X), "y": xy(tokKey.Y)}}})
	tp, _ := (&jose.JSONWebKey{Key: &proofKey.PublicKey}).Thumbprint(crypto.SHA256)
	sign := func(extra gjwt.MapClaims) string {
		c := gjwt.MapClaims{"iss": "https://idp.bench", "aud": "bench", "sub": "svc", "exp": time.Now().Add(24 * time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		t := gjwt.NewWithClaims(gjwt.SigningMethodES256, c)
		t.Header["kid"] = "ec"
		s, _ := t.SignedString(tokKey)
		return s
	}
	plainTok := sign(nil)
	dpopTok := sign(gjwt.MapClaims{"cnf": map[string]any{"jkt": b64u(tp)}})
	cfg := []byte(fmt.Sprintf(`{"providers":[
	  {"name":"mesh","mtls":{"allow":[{"spiffe":"spiffe://cluster.local/ns/*/sa/*"}]}},
	  {"name":"idp","jwt":{"issuers":["https://idp.bench"],"audiences":["bench"],"jwks":%s}},
	  {"name":"dpop","jwt":{"issuers":["https://idp.bench"],"audiences":["bench"],"jwks":%s,"dpop":{"required":true}}}],
	 "rules":[{"name":"mtls","match":{"path":{"prefix":"/mtls/"}},"require":{"provider":"mesh","peers":[{"spiffe":"spiffe://cluster.local/ns/shop/sa/checkout"}]}},
	  {"name":"both","match":{"path":{"prefix":"/both/"}},"require":{"all":[{"provider":"mesh"},{"provider":"idp"}]}},
	  {"name":"dpop","match":{"path":{"prefix":"/dpop/"}},"require":{"provider":"dpop"}},
	  {"name":"open","match":{"path":{"prefix":"/open/"}},"allow_anonymous":true}]}`, jwks, jwks))
	e, err := plugintest.NewEnvoyHost(b, host.Config{PluginConfig: cfg, SkipCanary: true, DropLogsBelowLevel: true})
	if err != nil {
		b.Fatal(err)
	}
	vm := e.VM(0)
	conn := host.Connection{TLS: &host.TLSInfo{Version: "TLSv1.3", PeerCertificatePresented: true,
		PeerURISANs: []string{"spiffe://cluster.local/ns/shop/sa/checkout"}, PeerSubject: "CN=checkout,O=Example",
		PeerCertificateSHA256: "5ceb365eb05853e978745bca6d32f674861a576936bf90d6b4b0f40421a2b6a0"}}
	runConn := func(b *testing.B, req plugintest.Request, fresh func() plugintest.Request) {
		if r := plugintest.DoOn(vm, conn, req); !r.Allowed() {
			b.Fatalf("status %d %v", r.Status(), r.Local)
		}
		b.ReportAllocs()
		for b.Loop() {
			if fresh != nil {
				req = fresh()
			}
			plugintest.DoOn(vm, conn, req)
		}
	}
	b.Run("Request/floor", func(b *testing.B) { runConn(b, get("/open/x"), nil) })
	b.Run("Request/mtls", func(b *testing.B) { runConn(b, get("/mtls/x"), nil) })
	b.Run("Request/mtls_and_jwt_cached", func(b *testing.B) { runConn(b, get("/both/x", [2]string{"authorization", "Bearer " + plainTok}), nil) })
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: proofKey}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	ath := sha256.Sum256([]byte(dpopTok))
	n := 0
	dpopReq := func() plugintest.Request {
		n++
		claims, _ := json.Marshal(map[string]any{"jti": fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), n), "htm": "GET",
			"htu": "http://bench.example.com/dpop/x", "iat": time.Now().Unix(), "ath": base64.RawURLEncoding.EncodeToString(ath[:])})
		jws, _ := signer.Sign(claims)
		p, _ := jws.CompactSerialize()
		return get("/dpop/x", [2]string{"authorization", "DPoP " + dpopTok}, [2]string{"dpop", p})
	}
	b.Run("Request/dpop_bound_jwt", func(b *testing.B) { runConn(b, dpopReq(), dpopReq) })
}
