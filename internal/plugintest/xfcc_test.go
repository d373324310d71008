package plugintest

import (
	"fmt"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// With a trusted x-forwarded-client-cert (Envoy's SANITIZE_SET), the full
// SAN list is available: a rule can admit a certificate by its second URI
// SAN, which the connection properties (first SAN only) cannot show. The
// element must agree with the connection.
func TestMTLSTrustedXFCC(t *testing.T) {
	cfg := []byte(`{"providers":[{"name":"mesh","mtls":{"xfcc":"sanitize_set"}}],
	 "rules":[{"name":"web","require":{"provider":"mesh","peers":[{"uri":"https://cart.example.com/id"}]}}]}`)
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	e.Conn = peerConn(t, "multi-san")
	digest := e.Conn.TLS.PeerCertificateSHA256
	xfcc := func(hash string) string {
		return fmt.Sprintf(`Hash=%s;Subject="CN=cart,O=Example";URI=spiffe://cluster.local/ns/shop/sa/cart;URI=https://cart.example.com/id;DNS=cart.example.com;DNS=cart.shop.svc.cluster.local`, hash)
	}
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"second URI SAN from the trusted element", xfcc(digest), 0},
		{"no XFCC: only the first SAN is known", "", 403},
		{"element that contradicts the connection", xfcc("00" + digest[2:]), 403},
		{"two elements under SANITIZE_SET", xfcc(digest) + "," + xfcc(digest), 400},
		{"malformed header", `Hash="unterminated`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Get(apiHost, "/x")
			if tt.header != "" {
				req.Headers = append(req.Headers, h("x-forwarded-client-cert", tt.header))
			}
			r := e.Do(req)
			if r.Status() != tt.status {
				t.Fatalf("status %d; want %d (%v)", r.Status(), tt.status, r.Local)
			}
		})
	}
}
