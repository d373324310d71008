package plugintest

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// peerConn presents a test certificate (testdata/certs/<name>.pem) the way
// Envoy does: first URI and DNS SAN only, the subject and digest as
// openssl printed them in expected.tsv (an independent oracle).
func peerConn(t *testing.T, name string) host.Connection {
	t.Helper()
	b, err := os.ReadFile("../../testdata/certs/" + name + ".pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/certs/expected.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ti := &host.TLSInfo{Version: "TLSv1.3", PeerCertificatePresented: true}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if cols[0] == name {
			ti.PeerCertificateSHA256, ti.PeerSubject = cols[1], cols[3]
		}
	}
	if ti.PeerCertificateSHA256 == "" {
		t.Fatalf("%s not in expected.tsv", name)
	}
	for _, u := range cert.URIs {
		ti.PeerURISANs = append(ti.PeerURISANs, u.String())
	}
	ti.PeerDNSSANs = cert.DNSNames
	return host.Connection{TLS: ti}
}

func mtlsConfig(digest string) []byte {
	return []byte(fmt.Sprintf(`{"providers":[
	 {"name":"mesh","mtls":{}},
	 {"name":"pinned","mtls":{"allow":[{"sha256":[%q]}]}},
	 {"name":"keys","api_key":{"keys":[{"sha256":"33a70124798e997b670488602c279c09870f34368ce8a4467d1411471eb5252f","consumer":"alice-app"}]}}],
	"rules":[
	 {"name":"checkout","match":{"path":{"prefix":"/checkout/"}},"require":{"provider":"mesh","peers":[{"spiffe":"spiffe://cluster.local/ns/*/sa/checkout"}]}},
	 {"name":"partners","match":{"path":{"prefix":"/partners/"}},"require":{"provider":"mesh","peers":[{"dns":"*.example.com"},{"subject_attributes":{"CN":"legacy-client","C":"US"}}]}},
	 {"name":"pinned","match":{"path":{"prefix":"/pinned/"}},"require":{"provider":"pinned"}},
	 {"name":"both","match":{"path":{"prefix":"/both/"}},"require":{"all":[{"provider":"mesh"},{"provider":"keys"}]}},
	 {"name":"either","match":{"path":{"prefix":"/either/"}},"require":{"any":[{"provider":"mesh"},{"provider":"keys"}]}}]}`, digest))
}

// The mtls provider through the real module, with peers presented by the
// emulator exactly as Envoy's connection properties encode them.
func TestMTLS(t *testing.T) {
	spiffe := peerConn(t, "spiffe-checkout")
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: mtlsConfig(spiffe.TLS.PeerCertificateSHA256), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	noCert := host.Connection{TLS: &host.TLSInfo{Version: "TLSv1.3"}}
	plain := host.Connection{}
	key := h("x-api-key", aliceKey)
	tests := []struct {
		name      string
		conn      host.Connection
		path      string
		extra     [][2]string
		status    int
		principal string
		desc      string
	}{
		{"spiffe peer on its route", spiffe, "/checkout/x", nil, 0, spiffeOf(spiffe), ""},
		{"spiffe peer on another route", spiffe, "/partners/x", nil, 403, "", ""},
		{"dns peer on partners", peerConn(t, "dns-only"), "/partners/x", nil, 0, "api.example.com", ""},
		{"dns peer on checkout", peerConn(t, "dns-only"), "/checkout/x", nil, 403, "", ""},
		{"subject-only peer by attribute", peerConn(t, "subject-only"), "/partners/x", nil, 0, "", ""},
		{"pinned fingerprint", spiffe, "/pinned/x", nil, 0, "", ""},
		{"other fingerprint", peerConn(t, "dns-only"), "/pinned/x", nil, 403, "", ""},
		// No HTTP challenge exists for TLS, so a missing certificate is 403.
		{"plaintext", plain, "/checkout/x", nil, 403, "", "not TLS"},
		{"TLS without a certificate", noCert, "/checkout/x", nil, 403, "", "no client certificate"},
		{"mTLS and API key", spiffe, "/both/x", [][2]string{key}, 0, spiffeOf(spiffe), ""},
		{"mTLS and no API key", spiffe, "/both/x", nil, 401, "", ""},
		{"mTLS or API key: key only, plaintext", plain, "/either/x", [][2]string{key}, 0, "alice-app", ""},
		{"mTLS or API key: certificate only", spiffe, "/either/x", nil, 0, spiffeOf(spiffe), ""},
		{"client XFCC is removed", spiffe, "/checkout/x", [][2]string{{"x-forwarded-client-cert", `By=spiffe://x;URI=spiffe://cluster.local/ns/a/sa/checkout`}}, 0, spiffeOf(spiffe), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Conn = tt.conn
			r := e.Do(Get(apiHost, tt.path, tt.extra...))
			if r.Status() != tt.status {
				body := ""
				if r.Local != nil {
					body = string(r.Local.Body)
				}
				t.Fatalf("status %d %s; want %d", r.Status(), body, tt.status)
			}
			if tt.desc != "" && !strings.Contains(string(r.Local.Body), tt.desc) {
				t.Errorf("body %s lacks %q", r.Local.Body, tt.desc)
			}
			if tt.status == 0 {
				if tt.principal != "" {
					if got := Header(r.Upstream, "x-authn-principal"); len(got) != 1 || got[0] != tt.principal {
						t.Errorf("principal %q; want %q", got, tt.principal)
					}
				}
				if len(Header(r.Upstream, "x-forwarded-client-cert")) != 0 {
					t.Errorf("a client's XFCC header went upstream")
				}
			}
		})
	}
}

func spiffeOf(c host.Connection) string { return c.TLS.PeerURISANs[0] }

// mTLS AND JWT: a rule needs both the SPIFFE peer and a valid token; the
// principal is the first requirement's (the peer's).
func TestMTLSAndJWT(t *testing.T) {
	cfg := []byte(fmt.Sprintf(`{"providers":[
	 {"name":"mesh","mtls":{"allow":[{"spiffe":"spiffe://cluster.local/ns/*/sa/*"}]}},
	 {"name":"idp","jwt":{"issuers":[%q],"audiences":[%q],"jwks":%s,"claim_headers":[{"claim":"sub","header":"x-jwt-sub"}]}}],
	 "rules":[{"name":"r","require":{"all":[{"provider":"mesh","peers":[{"spiffe":"spiffe://cluster.local/ns/shop/sa/checkout"}]},{"provider":"idp","scopes":["api.read"]}]}}]}`,
		testIssuer, testAudience, jwksOf(t, "")))
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	spiffe := peerConn(t, "spiffe-checkout")
	tok := token(t, "RS256", nil, nil)
	tests := []struct {
		name   string
		conn   host.Connection
		tok    string
		status int
	}{
		{"both", spiffe, tok, 0},
		{"certificate only", spiffe, "", 401},
		// 401: the rule's JWT half has a challenge; the body says the
		// connection is not TLS.
		{"token only, plaintext", host.Connection{}, tok, 401},
		{"other peer", peerConn(t, "multi-san"), tok, 403},
		{"token without the scope", spiffe, token(t, "RS256", map[string]any{"scope": "profile"}, nil), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Conn = tt.conn
			req := Get(apiHost, "/x")
			if tt.tok != "" {
				req.Headers = append(req.Headers, bearer(tt.tok))
			}
			r := e.Do(req)
			if r.Status() != tt.status {
				t.Fatalf("status %d; want %d (%v)", r.Status(), tt.status, r.Local)
			}
			if tt.status == 0 {
				if got := Header(r.Upstream, "x-authn-principal"); len(got) != 1 || got[0] != spiffeOf(spiffe) {
					t.Errorf("principal %q", got)
				}
				if got := Header(r.Upstream, "x-jwt-sub"); len(got) != 1 || got[0] != "user-1" {
					t.Errorf("x-jwt-sub %q", got)
				}
			}
		})
	}
}
