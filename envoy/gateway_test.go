package envoy_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"

	"github.com/wasm-authn/wasm-authn/internal/gateway"
	"github.com/wasm-authn/wasm-authn/internal/host"
	"github.com/wasm-authn/wasm-authn/internal/plugintest"
)

// TestEnvoyCasesOnLocalGateway runs the end-to-end cases of e2e_test.go
// without Docker: the real module, with the plugin configuration, root_id,
// name and vm_id taken from envoy/envoy.yaml, in the Envoy-faithful host
// (internal/gateway, with Envoy's verify_signature), in front of an
// upstream that renders the echo service's nginx template
// (envoy/echo/default.conf). The idp cluster leads to a server answering
// like the idp service (envoy/idp/default.conf and envoy/idp/html), so the
// JWT cases verify tokens with the JWKS the stack serves. The cases that
// need the IdP down run on a second gateway whose idp cluster refuses
// connections. It keeps the cases and the demo configuration in step, so
// that `make e2e-envoy` only has Envoy itself left to prove.
func TestEnvoyCasesOnLocalGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real module")
	}
	idp := idpStandIn(t)
	up := localGateway(t, "envoy.yaml", map[string]string{"idp": idp}, "")
	down := localGateway(t, "envoy.yaml", map[string]string{"idp": refusingURL(t)}, "")
	runCases(t, e2eCases, up, &down)
}

// TestEnvoyMTLSCasesOnLocalGateway runs the mTLS cases of e2e_test.go on
// the local gateway configured from envoy/envoy-mtls.yaml: certificates
// from envoy/gen-certs.sh, a Go TLS listener set as the bootstrap's
// DownstreamTlsContext (it requires and verifies client certificates, so a
// certificate that fails the chain never reaches the plugin), and the
// x-forwarded-client-cert handling of the bootstrap's HTTP connection
// manager (forward_client_cert_details, set_current_client_cert_details)
// applied before the plugin, as Envoy does.
func TestEnvoyMTLSCasesOnLocalGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real module")
	}
	certs := demoCerts(t)
	tg := localGateway(t, "envoy-mtls.yaml", map[string]string{"idp": idpStandIn(t)}, certs)
	runCases(t, e2eMTLSCases, tg, nil)
	checkUpstreamXFCC(t, tg)
	checkHandshakeRefused(t, tg)
}

// localGateway serves the first Wasm filter of envoy/<file> through the
// local gateway. clusters maps the callout clusters of its plugin
// configuration to base URLs; certs, for a TLS filter chain, is the
// directory of envoy/gen-certs.sh's output.
func localGateway(t *testing.T, file string, clusters map[string]string, certs string) target {
	t.Helper()
	root := repoRoot(t)
	fc, hcm, pc := wasmFilter(t, filepath.Join(root, "envoy", file))
	var sv wrapperspb.StringValue
	if err := pc.GetConfiguration().UnmarshalTo(&sv); err != nil {
		t.Fatal(err)
	}
	for _, c := range pluginClusters([]byte(sv.GetValue())) {
		if clusters[c] == "" {
			t.Fatalf("%s: the plugin calls out to cluster %q; give the gateway a stand-in for it", file, c)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	g, err := gateway.New(ctx, gateway.Config{
		Host: host.Config{
			Module:           plugintest.Module(t),
			PluginConfig:     []byte(sv.GetValue()),
			PluginName:       pc.GetName(),
			RootID:           pc.GetRootId(),
			VMID:             pc.GetVmConfig().GetVmId(),
			Workers:          2,
			Failure:          host.FailClosed,
			Clusters:         clusters,
			ForeignFunctions: map[string]host.ForeignFunc{"verify_signature": host.VerifySignature},
		},
		Upstream: nginxEcho(t, filepath.Join(root, "envoy", "echo", "default.conf")),
	})
	if err != nil {
		t.Fatalf("the plugin rejected envoy/%s's configuration: %v", file, err)
	}
	t.Cleanup(g.Close)
	// Remote keys are fetched when the VMs start; on a loaded machine that
	// can take longer than a request's max_wait_ms. Wait for a first good
	// fetch (the cases for an IdP that is down use clusters that refuse).
	if len(pluginClusters([]byte(sv.GetValue()))) > 0 && idpUp(clusters) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			n := int64(0)
			for name, v := range g.Host().Metrics() {
				if strings.HasSuffix(name, ".jwks_fetch.success") {
					n += v
				}
			}
			if n >= 1 {
				break
			}
			if time.Now().After(deadline) {
				var lines []string
				for _, l := range g.Host().Logs() {
					if l.Level >= host.LogWarn {
						lines = append(lines, l.String())
					}
				}
				t.Fatalf("envoy/%s: no key fetch succeeded in 30 s; plugin logs:\n%s", file, strings.Join(lines, "\n"))
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Workers that did not fetch pick the keys up from shared data on
		// their next tick (100 ms).
		time.Sleep(300 * time.Millisecond)
	}

	var tg target
	if fc.GetTransportSocket() == nil {
		srv := httptest.NewServer(g)
		t.Cleanup(srv.Close)
		client := srv.Client()
		tg = target{base: srv.URL, client: func(t *testing.T, cert string) *http.Client {
			if cert != "" {
				t.Fatalf("client certificate %s on a plaintext listener", cert)
			}
			return client
		}}
	} else {
		if certs == "" {
			t.Fatalf("%s: a TLS filter chain needs certificates", file)
		}
		srv := httptest.NewUnstartedServer(forwardClientCert(hcm, g))
		srv.TLS = downstreamTLS(t, fc, certs)
		// Refused handshakes are expected (checkHandshakeRefused).
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		tg = target{base: srv.URL, client: tlsClients(certs), certs: certs}
	}
	waitReady(t, tg.client(t, firstCert(certs)), tg.base)
	return tg
}

// firstCert is a client certificate the listener accepts: "" on plaintext.
func firstCert(certs string) string {
	if certs == "" {
		return ""
	}
	return "client-alice"
}

// wasmFilter returns the filter chain, the HTTP connection manager and the
// PluginConfig of the first Wasm HTTP filter of a bootstrap.
func wasmFilter(t *testing.T, file string) (*listenerv3.FilterChain, *hcmv3.HttpConnectionManager, *wasmv3.PluginConfig) {
	t.Helper()
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	var bs bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &bs); err != nil {
		t.Fatal(err)
	}
	for _, l := range bs.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				var hcm hcmv3.HttpConnectionManager
				if f.GetTypedConfig().UnmarshalTo(&hcm) != nil {
					continue
				}
				for _, hf := range hcm.GetHttpFilters() {
					var w wasmfilterv3.Wasm
					if hf.GetTypedConfig().UnmarshalTo(&w) == nil {
						return fc, &hcm, w.GetConfig()
					}
				}
			}
		}
	}
	t.Fatalf("%s has no Wasm HTTP filter", file)
	return nil, nil, nil
}

// envoyCertsDir is where envoy/docker-compose.yaml mounts the certificates.
const envoyCertsDir = "/etc/envoy/certs/"

// downstreamTLS is the Go equivalent of a filter chain's
// DownstreamTlsContext, with its files taken from certs instead of
// /etc/envoy/certs.
func downstreamTLS(t *testing.T, fc *listenerv3.FilterChain, certs string) *tls.Config {
	t.Helper()
	var dtc tlsv3.DownstreamTlsContext
	if err := fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(&dtc); err != nil {
		t.Fatal(err)
	}
	local := func(filename string) string {
		name, ok := strings.CutPrefix(filename, envoyCertsDir)
		if !ok {
			t.Fatalf("%s is not under %s", filename, envoyCertsDir)
		}
		return filepath.Join(certs, name)
	}
	ctc := dtc.GetCommonTlsContext()
	if len(ctc.GetTlsCertificates()) != 1 {
		t.Fatalf("want one server certificate, got %d", len(ctc.GetTlsCertificates()))
	}
	tc := ctc.GetTlsCertificates()[0]
	pair, err := tls.LoadX509KeyPair(local(tc.GetCertificateChain().GetFilename()), local(tc.GetPrivateKey().GetFilename()))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if ca := ctc.GetValidationContext().GetTrustedCa().GetFilename(); ca != "" {
		b, err := os.ReadFile(local(ca))
		if err != nil {
			t.Fatal(err)
		}
		cfg.ClientCAs = x509.NewCertPool()
		if !cfg.ClientCAs.AppendCertsFromPEM(b) {
			t.Fatalf("%s: no certificate", ca)
		}
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if dtc.GetRequireClientCertificate().GetValue() {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return cfg
}

// forwardClientCert applies the HTTP connection manager's
// forward_client_cert_details to x-forwarded-client-cert before next runs,
// following Envoy's ConnectionManagerUtility::mutateXfccRequestHeader: on
// a connection without a client certificate the header is removed (unless
// ALWAYS_FORWARD_ONLY); FORWARD_ONLY and ALWAYS_FORWARD_ONLY pass it on;
// SANITIZE removes it; SANITIZE_SET replaces it with, and APPEND_FORWARD
// appends, an element of Hash and the set_current_client_cert_details
// (Cert, Chain, Subject, URI, DNS, in that order). By is left out: the
// demo server certificate has no URI SAN.
func forwardClientCert(hcm *hcmv3.HttpConnectionManager, next http.Handler) http.Handler {
	mode := hcm.GetForwardClientCertDetails()
	details := hcm.GetSetCurrentClientCertDetails()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const name = "X-Forwarded-Client-Cert"
		mtls := r.TLS != nil && len(r.TLS.PeerCertificates) > 0
		switch {
		case mode == hcmv3.HttpConnectionManager_ALWAYS_FORWARD_ONLY:
		case !mtls, mode == hcmv3.HttpConnectionManager_SANITIZE:
			r.Header.Del(name)
		case mode == hcmv3.HttpConnectionManager_FORWARD_ONLY:
		default:
			c := r.TLS.PeerCertificates[0]
			parts := []string{fmt.Sprintf("Hash=%x", sha256.Sum256(c.Raw))}
			if details.GetCert() {
				parts = append(parts, `Cert="`+envoyURLEncode(pemCert(c.Raw))+`"`)
			}
			if details.GetChain() {
				var chain string
				for _, cc := range r.TLS.PeerCertificates {
					chain += pemCert(cc.Raw)
				}
				parts = append(parts, `Chain="`+envoyURLEncode(chain)+`"`)
			}
			if details.GetSubject().GetValue() {
				parts = append(parts, `Subject="`+c.Subject.String()+`"`)
			}
			if details.GetUri() {
				if len(c.URIs) == 0 {
					parts = append(parts, "URI=")
				}
				for _, u := range c.URIs {
					parts = append(parts, "URI="+u.String())
				}
			}
			if details.GetDns() {
				for _, d := range c.DNSNames {
					parts = append(parts, "DNS="+d)
				}
			}
			elem := strings.Join(parts, ";")
			if prev := strings.Join(r.Header.Values(name), ","); mode == hcmv3.HttpConnectionManager_APPEND_FORWARD && prev != "" {
				elem = prev + "," + elem
			}
			r.Header.Set(name, elem)
		}
		next.ServeHTTP(w, r)
	})
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// envoyURLEncode is the escaping Envoy applies to the PEM in Cert= and
// Chain=.
func envoyURLEncode(pemText string) string {
	return strings.NewReplacer("\n", "%0A", " ", "%20", "+", "%2B", "/", "%2F", "=", "%3D").Replace(pemText)
}

// idpStandIn serves what the idp service of envoy/docker-compose.yaml
// serves, and returns its base URL: the exact locations of
// envoy/idp/default.conf, from envoy/idp/html, as application/json; 404
// elsewhere.
func idpStandIn(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "envoy", "idp")
	conf, err := os.ReadFile(filepath.Join(dir, "default.conf"))
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, m := range regexp.MustCompile(`location = (/\S+) \{`).FindAllStringSubmatch(string(conf), -1) {
		served[m[1]] = filepath.Join(dir, "html", filepath.FromSlash(m[1]))
	}
	if len(served) == 0 {
		t.Fatalf("%s/default.conf: no exact locations", dir)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, ok := served[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// refusingURL is the URL of a port nothing listens on: calls to it fail
// at connect, as to an IdP that is down.
func refusingURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// demoCerts runs envoy/gen-certs.sh into a temporary directory.
func demoCerts(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("envoy/gen-certs.sh needs openssl")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", filepath.Join(repoRoot(t), "envoy", "gen-certs.sh"), dir)
	cmd.Env = append(os.Environ(), "DAYS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("envoy/gen-certs.sh: %v\n%s", err, out)
	}
	return dir
}

// nginxEcho is an upstream answering like the echo service: it renders the
// `return 200 "..."` template of its nginx configuration, substituting the
// nginx variables the template uses from the request it received.
func nginxEcho(t *testing.T, conf string) http.Handler {
	t.Helper()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`return 200 "((?:[^"\\]|\\.)*)";`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no `return 200 \"...\";`", conf)
	}
	tmpl := strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`).Replace(string(m[1]))
	vars := regexp.MustCompile(`\$[a-z_]+`)
	for _, v := range vars.FindAllString(tmpl, -1) {
		switch {
		case v == "$request_method", v == "$request_uri", v == "$host", strings.HasPrefix(v, "$http_"):
		default:
			t.Fatalf("%s uses %s, which this stand-in does not render", conf, v)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := vars.ReplaceAllStringFunc(tmpl, func(v string) string {
			switch v {
			case "$request_method":
				return r.Method
			case "$request_uri":
				return r.URL.RequestURI()
			case "$host":
				h, _, _ := strings.Cut(r.Host, ":")
				return strings.ToLower(h)
			}
			return r.Header.Get(strings.ReplaceAll(strings.TrimPrefix(v, "$http_"), "_", "-"))
		})
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, body)
	})
}

// idpUp reports whether every cluster answers TCP connections.
func idpUp(clusters map[string]string) bool {
	for _, u := range clusters {
		host := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}
