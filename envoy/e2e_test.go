package envoy_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The end-to-end tests drive a real Envoy started by `make e2e-envoy`
// (envoy/docker-compose.yaml). They are skipped unless these are set:
//
//	WASM_AUTHN_ENVOY_URL       the plaintext listener, e.g. http://127.0.0.1:10000
//	WASM_AUTHN_ENVOY_MTLS_URL  the mTLS listener, e.g. https://127.0.0.1:10443
//	WASM_AUTHN_CERTS           the directory written by envoy/gen-certs.sh
const (
	envURL      = "WASM_AUTHN_ENVOY_URL"
	envMTLSURL  = "WASM_AUTHN_ENVOY_MTLS_URL"
	envCertsDir = "WASM_AUTHN_CERTS"
	apiHost     = "api.example.com"
)

// echoed is what the echo upstream reported: its "name: value" lines.
type echoed map[string]string

func parseEcho(body string) echoed {
	e := echoed{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
			e[k] = v
		} else if k, ok := strings.CutSuffix(sc.Text(), ":"); ok {
			e[k] = ""
		}
	}
	return e
}

type e2eCase struct {
	name       string
	method     string
	path       string
	host       string
	header     http.Header
	basic      [2]string
	wantStatus int
	// wantEcho lists headers the upstream must have seen with these
	// values ("" means absent or empty).
	wantEcho map[string]string
	// wantChallenge must appear in the WWW-Authenticate values.
	wantChallenge string
}

func (c e2eCase) run(t *testing.T, client *http.Client, base string) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, base+c.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = c.host
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.basic[0] != "" {
		req.SetBasicAuth(c.basic[0], c.basic[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, c.path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != c.wantStatus {
		t.Fatalf("%s %s (Host %s) = %d; want %d\n%s", method, c.path, c.host, resp.StatusCode, c.wantStatus, body)
	}
	if ch := strings.Join(resp.Header.Values("WWW-Authenticate"), ", "); !strings.Contains(ch, c.wantChallenge) {
		t.Errorf("WWW-Authenticate = %q; want it to contain %q", ch, c.wantChallenge)
	}
	if len(c.wantEcho) == 0 {
		return
	}
	got := parseEcho(string(body))
	for k, want := range c.wantEcho {
		if got[k] != want {
			t.Errorf("upstream saw %s = %q; want %q\n%s", k, got[k], want, body)
		}
	}
}

// waitReady polls /healthz (anonymous) until Envoy answers 200: the first
// requests race the listener and the Wasm VM start-up.
func waitReady(t *testing.T, client *http.Client, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s/healthz not ready after 60s: %s (see `docker compose -f envoy/docker-compose.yaml logs envoy`)", base, last)
}

// The cases follow the demo configuration in envoy/envoy.yaml.
var e2eCases = []e2eCase{
	{name: "health is anonymous", path: "/healthz", host: apiHost, wantStatus: 200},
	{
		name: "forged identity headers are removed", path: "/healthz", host: apiHost,
		header:     http.Header{"X-Authn-Principal": {"admin"}, "X-Authn-Meta-Tier": {"platinum"}},
		wantStatus: 200, wantEcho: map[string]string{"x-authn-principal": "", "x-authn-meta-tier": ""},
	},
	{name: "no credential", path: "/api/orders", host: apiHost, wantStatus: 401, wantChallenge: `Basic realm="example"`},
	{
		name: "api key header", path: "/api/orders", host: apiHost,
		header:     http.Header{"X-Api-Key": {"demo-partner-a-key"}},
		wantStatus: 200,
		wantEcho: map[string]string{
			"x-authn-provider": "partner-keys", "x-authn-principal": "partner-a", "x-authn-meta-tier": "gold",
		},
	},
	{
		name: "api key scheme", path: "/api/orders", host: apiHost,
		header:     http.Header{"Authorization": {"ApiKey demo-partner-b-key"}},
		wantStatus: 200, wantEcho: map[string]string{"x-authn-principal": "partner-b", "x-authn-meta-tier": "silver"},
	},
	{
		name: "api key query parameter", path: "/api/orders?api_key=demo-partner-a-key", host: apiHost,
		wantStatus: 200, wantEcho: map[string]string{"x-authn-principal": "partner-a"},
	},
	{name: "wrong api key", path: "/api/orders", host: apiHost, header: http.Header{"X-Api-Key": {"demo-partner-c-key"}}, wantStatus: 401},
	{
		name: "stripped request header", path: "/api/orders", host: apiHost,
		header:     http.Header{"X-Api-Key": {"demo-partner-a-key"}, "X-User": {"root"}},
		wantStatus: 200, wantEcho: map[string]string{"x-user": "", "x-authn-principal": "partner-a"},
	},
	{
		name: "basic, allowed consumer", path: "/api/orders", host: apiHost, basic: [2]string{"alice", "demo-alice-password"},
		wantStatus: 200, wantEcho: map[string]string{"x-authn-provider": "staff", "x-authn-principal": "alice"},
	},
	{name: "basic, wrong password", path: "/api/orders", host: apiHost, basic: [2]string{"alice", "demo-bob-password"}, wantStatus: 401},
	{name: "basic, consumer not allowed", path: "/api/orders", host: apiHost, basic: [2]string{"bob", "demo-bob-password"}, wantStatus: 403},
	{name: "method outside the rule", method: http.MethodDelete, path: "/api/orders", host: apiHost, header: http.Header{"X-Api-Key": {"demo-partner-a-key"}}, wantStatus: 403},
	{name: "host outside the rule", path: "/api/orders", host: "other.example.com", header: http.Header{"X-Api-Key": {"demo-partner-a-key"}}, wantStatus: 403},
	{name: "path outside every rule", path: "/admin", host: apiHost, wantStatus: 403},
}

// TestEnvoyE2E runs the demo configuration's cases through Envoy's
// plaintext listener.
func TestEnvoyE2E(t *testing.T) {
	base := os.Getenv(envURL)
	if base == "" {
		t.Skipf("%s is not set: run `make e2e-envoy` (needs a Docker engine)", envURL)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	waitReady(t, client, base)
	for _, c := range e2eCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, client, base) })
	}
}

// TestEnvoyE2EMutualTLS checks the mTLS listener: the handshake requires a
// certificate from the trusted CA, then the same rules apply, and the
// upstream sees the x-forwarded-client-cert Envoy built from the verified
// certificate.
func TestEnvoyE2EMutualTLS(t *testing.T) {
	base, dir := os.Getenv(envMTLSURL), os.Getenv(envCertsDir)
	if base == "" || dir == "" {
		t.Skipf("%s or %s is not set: run `make e2e-envoy` (needs a Docker engine)", envMTLSURL, envCertsDir)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	clientFor := func(name string) *http.Client {
		cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if name != "" {
			cert, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	}

	alice := clientFor("client-alice")
	waitReady(t, alice, base)
	e2eCase{
		name: "api key over mTLS", path: "/api/orders", host: apiHost,
		header:     http.Header{"X-Api-Key": {"demo-partner-a-key"}, "X-Forwarded-Client-Cert": {"By=forged;URI=spiffe://evil"}},
		wantStatus: 200, wantEcho: map[string]string{"x-authn-principal": "partner-a"},
	}.run(t, alice, base)

	req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	req.Header.Set("X-Forwarded-Client-Cert", "By=forged;URI=spiffe://evil")
	resp, err := alice.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	xfcc := parseEcho(string(body))["x-forwarded-client-cert"]
	if !strings.Contains(xfcc, "URI=spiffe://example.org/ns/demo/sa/alice") || strings.Contains(xfcc, "spiffe://evil") {
		t.Errorf("upstream x-forwarded-client-cert = %q; want Envoy's, for alice's certificate only", xfcc)
	}
	if !strings.Contains(xfcc, "Cert=") {
		t.Errorf("upstream x-forwarded-client-cert = %q; want the Cert= element (set_current_client_cert_details.cert)", xfcc)
	}

	for _, who := range []string{"", "client-rogue"} {
		if resp, err := clientFor(who).Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			t.Errorf("client certificate %q: got HTTP %d; want the TLS handshake refused", who, resp.StatusCode)
		}
	}
}
