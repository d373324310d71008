package plugintest

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// The example JWS of RFC 7515 Appendix A and RFC 8037 Appendix A.4 through
// the real module. A.1-A.3 carry a claim set ({"iss":"joe","exp":...}) and
// are accepted at a time before their exp; the A.4 and RFC 8037 payloads
// are not claim sets: their signatures verify, then they are refused for
// the payload, never for the signature. A flipped signature is refused for
// the signature. Each runs with and without the host's verify_signature.
func TestRFCExampleTokens(t *testing.T) {
	b, err := os.ReadFile("../../testdata/jwt/rfc-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Now     int64
		Vectors []struct {
			Name, Alg, Token string
			HMACSecret       string `json:"hmac_secret"`
			JWK              json.RawMessage
			Claims           bool
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	clock := host.NewManualClock(time.Unix(f.Now, 0))
	for _, v := range f.Vectors {
		for _, native := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/host_verify=%v", v.Name, native), func(t *testing.T) {
				keys := fmt.Sprintf(`"jwks":{"keys":[%s]}`, v.JWK)
				if v.HMACSecret != "" {
					keys = fmt.Sprintf(`"hmac_secret":%q`, v.HMACSecret)
				}
				cfg := fmt.Sprintf(`{"providers":[{"name":"rfc","jwt":{"issuers":["joe"],"algorithms":[%q],%s,"cache":{"max_entries":0}}}],
				  "rules":[{"name":"r","require":{"provider":"rfc"}}]}`, v.Alg, keys)
				hc := host.Config{PluginConfig: []byte(cfg), SkipCanary: true, Clock: clock}
				if native {
					hc.ForeignFunctions = map[string]host.ForeignFunc{"verify_signature": host.VerifySignature}
				}
				e, err := NewEnvoyHost(t, hc)
				if err != nil {
					t.Fatal(err)
				}
				r := e.Do(Get("api.test", "/x", bearer(v.Token)))
				if v.Claims {
					if !r.Allowed() || Header(r.Upstream, "x-authn-principal")[0] != "joe/" {
						t.Fatalf("status %d %v; want allowed as joe/", r.Status(), r.Local)
					}
				} else if r.Status() != 401 || strings.Contains(string(r.Local.Body), "signature") {
					t.Fatalf("status %d %s; want 401 for the payload, not the signature", r.Status(), r.Local.Body)
				}
				parts := strings.Split(v.Token, ".")
				sig := []byte(parts[2])
				sig[5] ^= 'A' ^ 'B'
				if sig[5] == parts[2][5] {
					sig[5] = 'C'
				}
				r = e.Do(Get("api.test", "/x", bearer(parts[0]+"."+parts[1]+"."+string(sig))))
				if r.Status() != 401 || !strings.Contains(string(r.Local.Body), "signature") {
					t.Fatalf("tampered: status %d %v; want 401 for the signature", r.Status(), r.Local)
				}
			})
		}
	}
}
