package envoy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
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
// (internal/gateway), in front of an upstream that renders the echo
// service's nginx template (envoy/echo/default.conf). It keeps the cases
// and the demo configuration in step, so that `make e2e-envoy` only has
// Envoy itself left to prove.
func TestEnvoyCasesOnLocalGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real module")
	}
	root := repoRoot(t)
	pc := wasmPluginConfig(t, filepath.Join(root, "envoy", "envoy.yaml"))
	var sv wrapperspb.StringValue
	if err := pc.GetConfiguration().UnmarshalTo(&sv); err != nil {
		t.Fatal(err)
	}
	echo := nginxEcho(t, filepath.Join(root, "envoy", "echo", "default.conf"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := gateway.New(ctx, gateway.Config{
		Host: host.Config{
			Module:       plugintest.Module(t),
			PluginConfig: []byte(sv.GetValue()),
			PluginName:   pc.GetName(),
			RootID:       pc.GetRootId(),
			VMID:         pc.GetVmConfig().GetVmId(),
			Workers:      2,
			Failure:      host.FailClosed,
		},
		Upstream: echo,
	})
	if err != nil {
		t.Fatalf("the plugin rejected envoy/envoy.yaml's configuration: %v", err)
	}
	defer g.Close()
	srv := httptest.NewServer(g)
	defer srv.Close()

	client := srv.Client()
	waitReady(t, client, srv.URL)
	for _, c := range e2eCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, client, srv.URL) })
	}
}

// wasmPluginConfig returns the PluginConfig of the first Wasm HTTP filter
// of a bootstrap.
func wasmPluginConfig(t *testing.T, file string) *wasmv3.PluginConfig {
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
						return w.GetConfig()
					}
				}
			}
		}
	}
	t.Fatalf("%s has no Wasm HTTP filter", file)
	return nil
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
