package plugintest

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// x5tOf returns the base64url SHA-256 thumbprint openssl computed for a
// test certificate (expected.tsv).
func x5tOf(t *testing.T, name string) string {
	f, err := os.Open("../../testdata/certs/expected.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if cols := strings.Split(sc.Text(), "\t"); cols[0] == name {
			return cols[2]
		}
	}
	t.Fatalf("%s not in expected.tsv", name)
	return ""
}

// Certificate-bound access tokens (RFC 8705 §3) through the real module.
func TestCertificateBoundTokens(t *testing.T) {
	cfg := func(mode string) []byte {
		return []byte(fmt.Sprintf(`{"realm":"api","providers":[{"name":"idp","jwt":{"issuers":[%q],"audiences":[%q],"jwks":%s,
		  "certificate_bound":%q,"cache":{"max_entries":16}}}],"rules":[{"name":"api","require":{"provider":"idp"}}]}`,
			testIssuer, testAudience, jwksOf(t, ""), mode))
	}
	bound := token(t, "ES256", map[string]any{"cnf": map[string]any{"x5t#S256": x5tOf(t, "spiffe-checkout")}}, nil)
	unbound := token(t, "ES256", nil, nil)
	owner, other := peerConn(t, "spiffe-checkout"), peerConn(t, "dns-only")
	tests := []struct {
		mode, name string
		tok        string
		conn       host.Connection
		status     int
	}{
		{"required", "bound token, its certificate", bound, owner, 0},
		{"required", "bound token, its certificate again (cached)", bound, owner, 0},
		{"required", "bound token, another certificate", bound, other, 401},
		{"required", "bound token, plaintext", bound, host.Connection{}, 401},
		{"required", "unbound token", unbound, owner, 401},
		{"if_present", "unbound token accepted", unbound, host.Connection{}, 0},
		{"if_present", "bound token, another certificate", bound, other, 401},
		{"if_present", "bound token, its certificate", bound, owner, 0},
	}
	hosts := map[string]*EnvoyHost{}
	for _, m := range []string{"required", "if_present"} {
		e, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg(m), SkipCanary: true})
		if err != nil {
			t.Fatal(err)
		}
		hosts[m] = e
	}
	for _, tt := range tests {
		t.Run(tt.mode+"/"+tt.name, func(t *testing.T) {
			e := hosts[tt.mode]
			e.Conn = tt.conn
			r := e.Do(Get("api.test", "/x", bearer(tt.tok)))
			if r.Status() != tt.status {
				t.Fatalf("status %d; want %d (%v)", r.Status(), tt.status, r.Local)
			}
			if tt.status == 401 && !strings.Contains(challengeOf(r), `error="invalid_token"`) {
				t.Errorf("challenge %q", challengeOf(r))
			}
		})
	}
}
