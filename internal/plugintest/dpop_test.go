package plugintest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// dpopClient makes DPoP proofs with go-jose, a JOSE implementation
// independent of the plugin's verifier.
type dpopClient struct {
	signer jose.Signer
	jkt    string
}

// newDPoPClient is a client with a new P-256 key (ES256).
func newDPoPClient(t *testing.T) *dpopClient {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return newDPoPClientWith(t, key, jose.ES256, nil)
}

// newDPoPClientWith is a client signing with key and alg; opts, if not nil,
// are go-jose's signer options before the type and the embedded key are
// set.
func newDPoPClientWith(t *testing.T, key crypto.Signer, alg jose.SignatureAlgorithm, opts *jose.SignerOptions) *dpopClient {
	if opts == nil {
		opts = &jose.SignerOptions{}
	}
	opts.EmbedJWK = true
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts.WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopClient{signer: signer, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

var jtiSeq int

func (c *dpopClient) proof(t *testing.T, method, htu, accessToken string, mutate func(map[string]any)) string {
	jtiSeq++
	ath := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{"jti": fmt.Sprintf("jti-%d-%d", time.Now().UnixNano(), jtiSeq), "htm": method, "htu": htu,
		"iat": time.Now().Unix(), "ath": base64.RawURLEncoding.EncodeToString(ath[:])}
	if mutate != nil {
		mutate(claims)
	}
	b, _ := json.Marshal(claims)
	jws, err := c.signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// DPoP (RFC 9449) through the real module, with replay detected across two
// worker VMs through shared data.
func TestDPoP(t *testing.T) {
	cfg := []byte(fmt.Sprintf(`{"realm":"api","providers":[{"name":"idp","jwt":{"issuers":[%q],"audiences":[%q],"jwks":%s,
	  "dpop":{"required":false}}}],"rules":[{"name":"api","require":{"provider":"idp"}}]}`, testIssuer, testAudience, jwksOf(t, "")))
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := newDPoPClient(t)
	other := newDPoPClient(t)
	// RFC 9864's name: go-jose signs EdDSA, the header says Ed25519.
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ed := newDPoPClientWith(t, edKey, jose.EdDSA, (&jose.SignerOptions{}).WithHeader("alg", "Ed25519"))
	edBound := token(t, "ES256", map[string]any{"cnf": map[string]any{"jkt": ed.jkt}}, nil)
	bound := token(t, "ES256", map[string]any{"cnf": map[string]any{"jkt": c.jkt}}, nil)
	boundOther := token(t, "ES256", map[string]any{"cnf": map[string]any{"jkt": other.jkt}}, nil)
	plain := token(t, "ES256", nil, nil)
	const htu = "http://api.test/orders/7"
	req := func(tok, proof string) Request {
		r := Get("api.test", "/orders/7?expand=items", h("authorization", "DPoP "+tok))
		if proof != "" {
			r.Headers = append(r.Headers, h("dpop", proof))
		}
		return r
	}
	replayed := c.proof(t, "GET", htu, bound, nil)
	tests := []struct {
		name   string
		vm     int
		req    Request
		status int
		code   string
	}{
		{"valid proof", 0, req(bound, replayed), 0, ""},
		{"replayed on another worker", 1, req(bound, replayed), 401, "invalid_dpop_proof"},
		{"fresh proof on the other worker", 1, req(bound, c.proof(t, "GET", htu, bound, nil)), 0, ""},
		{"no proof", 0, req(bound, ""), 401, "invalid_dpop_proof"},
		{"wrong htm", 0, req(bound, c.proof(t, "POST", htu, bound, nil)), 401, "invalid_dpop_proof"},
		{"wrong htu", 0, req(bound, c.proof(t, "GET", "http://api.test/orders/8", bound, nil)), 401, "invalid_dpop_proof"},
		{"htu normalized (default port, case)", 0, req(bound, c.proof(t, "GET", "HTTP://API.test:80/orders/7", bound, nil)), 0, ""},
		{"old iat", 0, req(bound, c.proof(t, "GET", htu, bound, func(m map[string]any) { m["iat"] = time.Now().Add(-10 * time.Minute).Unix() })), 401, "invalid_dpop_proof"},
		{"ath of another token", 0, req(bound, c.proof(t, "GET", htu, plain, nil)), 401, "invalid_dpop_proof"},
		{"proof key not the token's jkt", 0, req(boundOther, c.proof(t, "GET", htu, boundOther, nil)), 401, "invalid_token"},
		{"unbound token with DPoP", 0, req(plain, c.proof(t, "GET", htu, plain, nil)), 401, "invalid_token"},
		{"bound token as Bearer", 0, Get("api.test", "/orders/7", bearer(bound)), 401, "invalid_token"},
		{"unbound token as Bearer (DPoP not required)", 0, Get("api.test", "/orders/7", bearer(plain)), 0, ""},
		{"Ed25519 proof (RFC 9864 alg)", 0, req(edBound, ed.proof(t, "GET", htu, edBound, nil)), 0, ""},
		{"Ed25519 proof, token bound to another key", 0, req(bound, ed.proof(t, "GET", htu, bound, nil)), 401, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := DoOn(e.VM(tt.vm), host.Connection{}, tt.req)
			if r.Status() != tt.status {
				t.Fatalf("status %d; want %d (%v)", r.Status(), tt.status, r.Local)
			}
			if tt.status == 0 {
				for _, hdr := range []string{"dpop", "authorization"} {
					if len(Header(r.Upstream, hdr)) != 0 {
						t.Errorf("%s went upstream", hdr)
					}
				}
				return
			}
			var body struct{ Error string }
			json.Unmarshal(r.Local.Body, &body)
			if body.Error != tt.code {
				t.Errorf("error %q; want %q", body.Error, tt.code)
			}
			if ch := challengeOf(r); tt.code == "invalid_dpop_proof" && (!strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `algs="`)) {
				t.Errorf("challenge %q", ch)
			}
		})
	}
}

// Server nonces (RFC 9449 §8-9) through the real module: a proof without
// the current nonce is answered 401 use_dpop_nonce with a DPoP-Nonce
// header; the nonce works on every worker VM (one secret in shared data)
// for one to two lifetimes, then the client is given a new one.
func TestDPoPNonce(t *testing.T) {
	clk := host.NewManualClock(time.Now().Truncate(time.Minute))
	cfg := []byte(fmt.Sprintf(`{"realm":"api","providers":[{"name":"idp","jwt":{"issuers":[%q],"audiences":[%q],"jwks":%s,
	  "dpop":{"required":true,"nonce_lifetime_seconds":60}}}],"rules":[{"name":"api","require":{"provider":"idp"}}]}`, testIssuer, testAudience, jwksOf(t, "")))
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true, Workers: 2, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	c := newDPoPClient(t)
	bound := token(t, "ES256", map[string]any{"cnf": map[string]any{"jkt": c.jkt}}, nil)
	const htu = "http://api.test/orders/7"
	send := func(vm int, nonce string) Result {
		t.Helper()
		proof := c.proof(t, "GET", htu, bound, func(m map[string]any) {
			m["iat"] = clk.Now().Unix()
			if nonce != "" {
				m["nonce"] = nonce
			}
		})
		return DoOn(e.VM(vm), host.Connection{}, Get("api.test", "/orders/7", h("authorization", "DPoP "+bound), h("dpop", proof)))
	}
	// useNonce checks a use_dpop_nonce answer and returns its nonce.
	useNonce := func(r Result) string {
		t.Helper()
		if r.Status() != 401 {
			t.Fatalf("status %d; want 401 (%v)", r.Status(), r.Local)
		}
		var body struct{ Error string }
		json.Unmarshal(r.Local.Body, &body)
		if ch := challengeOf(r); body.Error != "use_dpop_nonce" || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="use_dpop_nonce"`) {
			t.Fatalf("error %q, challenge %q; want use_dpop_nonce", body.Error, ch)
		}
		n := Header(r.Local.Headers, "dpop-nonce")
		if len(n) != 1 || len(n[0]) != 22 {
			t.Fatalf("DPoP-Nonce %q; want one nonce", n)
		}
		return n[0]
	}
	n1 := useNonce(send(0, ""))
	if r := send(1, n1); r.Status() != 0 {
		t.Fatalf("with the nonce, on the other worker: %d (%v)", r.Status(), r.Local)
	}
	if n := useNonce(send(0, "not-the-nonce")); n != n1 {
		t.Fatalf("wrong nonce answered with %q; want the current %q", n, n1)
	}
	clk.Set(clk.Now().Add(time.Minute))
	if r := send(0, n1); r.Status() != 0 {
		t.Fatalf("the previous window's nonce: %d; want accepted", r.Status())
	}
	clk.Set(clk.Now().Add(time.Minute))
	n2 := useNonce(send(1, n1))
	if n2 == n1 {
		t.Fatal("the nonce did not change after two lifetimes")
	}
	if r := send(0, n2); r.Status() != 0 {
		t.Fatalf("with the new nonce: %d (%v)", r.Status(), r.Local)
	}
}
