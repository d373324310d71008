package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/gateway"
	"github.com/wasm-authn/wasm-authn/internal/host"
	"github.com/wasm-authn/wasm-authn/internal/plugintest"
)

// startGateway runs the local gateway on a loopback port with a config from
// testdata/configs and returns its base URL.
func startGateway(t *testing.T, configFile string) (string, *gateway.Gateway) {
	t.Helper()
	cfg, err := os.ReadFile("../testdata/configs/" + configFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	g, err := gateway.New(ctx, gateway.Config{Host: host.Config{Module: plugintest.Module(t), PluginConfig: cfg, Workers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, g), g
}

// serve runs g on a loopback port until the test ends and returns its URL.
func serve(t *testing.T, g *gateway.Gateway) string {
	t.Helper()
	t.Cleanup(g.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

type exchange struct {
	name    string
	method  string
	path    string
	host    string
	header  map[string]string
	user    string // Basic credentials "user:pass"
	status  int
	echoHas map[string]string // headers the upstream must have seen ("" = absent)
}

func do(t *testing.T, base string, ex exchange) (*http.Response, []byte) {
	t.Helper()
	method := ex.method
	if method == "" {
		method = "GET"
	}
	req, err := http.NewRequest(method, base+ex.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ex.host != "" {
		req.Host = ex.host
	}
	for k, v := range ex.header {
		req.Header.Set(k, v)
	}
	if ex.user != "" {
		u, p, _ := strings.Cut(ex.user, ":")
		req.SetBasicAuth(u, p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func check(t *testing.T, base string, exs []exchange) {
	for _, ex := range exs {
		t.Run(ex.name, func(t *testing.T) {
			resp, body := do(t, base, ex)
			if resp.StatusCode != ex.status {
				t.Fatalf("status %d %s; want %d", resp.StatusCode, body, ex.status)
			}
			if ex.status == 401 && len(resp.Header.Values("WWW-Authenticate")) == 0 {
				t.Errorf("401 without WWW-Authenticate")
			}
			if ex.status != 200 {
				var e struct{ Error string }
				if json.Unmarshal(body, &e) != nil || e.Error == "" {
					t.Errorf("denial body %q is not the JSON error", body)
				}
				return
			}
			var echo gateway.EchoReply
			if err := json.Unmarshal(body, &echo); err != nil {
				t.Fatalf("echo body %q: %v", body, err)
			}
			for k, want := range ex.echoHas {
				got := echo.Headers[http.CanonicalHeaderKey(k)]
				if want == "" && len(got) > 0 || want != "" && (len(got) != 1 || got[0] != want) {
					t.Errorf("upstream %s = %q; want %q", k, got, want)
				}
			}
		})
	}
}

// The example configuration that `make run` uses, exactly as its printed
// curl calls exercise it.
func TestGatewayExampleConfig(t *testing.T) {
	base, _ := startGateway(t, "example.json")
	check(t, base, []exchange{
		{name: "api key", path: "/things", header: map[string]string{"x-api-key": "demo-key-partner-a-0001"}, status: 200,
			echoHas: map[string]string{"x-api-key": "", "x-authn-principal": "partner-a", "x-authn-method": "api_key", "x-authn-meta-tier": "gold"}},
		{name: "api key in query", path: "/things?api_key=demo-key-partner-b-0002&page=2", status: 200,
			echoHas: map[string]string{"x-authn-principal": "partner-b"}},
		{name: "basic admin", path: "/admin/users", user: "alice:wonder:land", status: 200,
			echoHas: map[string]string{"authorization": "", "x-authn-principal": "alice", "x-authn-method": "basic"}},
		{name: "basic sha512 user on api", path: "/things", user: "bob:b0b-secret", status: 200, echoHas: map[string]string{"x-authn-principal": "bob"}},
		{name: "basic non-admin", path: "/admin/users", user: "bob:b0b-secret", status: 403},
		{name: "no credential", path: "/things", status: 401},
		{name: "wrong key", path: "/things", header: map[string]string{"x-api-key": "demo-key-partner-z-9999"}, status: 401},
		{name: "health is anonymous and spoofing is stripped", path: "/healthz", header: map[string]string{"x-authn-principal": "root"}, status: 200,
			echoHas: map[string]string{"x-authn-principal": ""}},
	})
}

// The suite configuration: each provider, a mixed all-of rule, constraints.
func TestGatewaySuiteConfig(t *testing.T) {
	base, g := startGateway(t, "suite.json")
	key := map[string]string{"x-api-key": "test-key-alice-000001"}
	both := map[string]string{"x-api-key": "test-key-alice-000001"}
	check(t, base, []exchange{
		{name: "api key", host: "api.example.com", path: "/x", header: key, status: 200, echoHas: map[string]string{"x-authn-provider": "keys"}},
		{name: "basic", host: "api.example.com", path: "/x", user: "alice:wonder:land", status: 200, echoHas: map[string]string{"x-authn-provider": "staff"}},
		{name: "mixed all-of", host: "api.example.com", path: "/both/x", header: both, user: "bob:pässwörd", status: 200,
			echoHas: map[string]string{"x-api-key": "", "authorization": "", "x-authn-principal": "alice-app"}},
		{name: "mixed all-of, one missing", host: "api.example.com", path: "/both/x", header: both, status: 401},
		{name: "no rule", host: "elsewhere.example.com", path: "/x", header: key, status: 403},
		{name: "unsafe path", host: "api.example.com", path: "/a/%2e%2e/admin/x", header: key, status: 400},
	})
	if v, _, _ := g.Host().Metric("wasm_authn.allowed"); v < 3 {
		t.Errorf("wasm_authn.allowed = %d", v)
	}
}
