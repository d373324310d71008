package envoy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"

	// Every extension type a bootstrap in this repository names in a
	// typed_config must be registered, or protojson cannot resolve the Any
	// and the test fails: an unregistered type is an error, not a skip.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/wasm-authn/wasm-authn/internal/config"
)

const (
	wasmFilterType   = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
	routerFilterType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
	hcmType          = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	stringValueType  = "type.googleapis.com/google.protobuf.StringValue"
	v8Runtime        = "envoy.wasm.runtime.v8"
)

// repoRoot is the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// yamlDocs splits a YAML stream at its "---" document separators.
func yamlDocs(b []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	docs = append(docs, cur)
	var out [][]byte
	for _, d := range docs {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

// bootstrapKeys are top-level fields only an Envoy bootstrap has.
var bootstrapKeys = []string{"static_resources", "dynamic_resources", "admin", "node", "layered_runtime", "overload_manager"}

// envoyBootstraps finds every Envoy bootstrap in the repository: each
// *.yaml or *.yml file whose document has bootstrap fields. Kubernetes
// manifests (apiVersion + kind) and Compose files (services) are told
// apart by their keys; testdata directories hold fixtures and are skipped.
// It returns the JSON form of each, keyed by slash path from the root.
func envoyBootstraps(t *testing.T) map[string][]byte {
	t.Helper()
	root := repoRoot(t)
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "build", "dist", ".cache":
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		docs := yamlDocs(b)
		for i, doc := range docs {
			js, err := yaml.YAMLToJSON(doc)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			var top map[string]any
			if json.Unmarshal(js, &top) != nil {
				continue // a list or scalar document: not a bootstrap
			}
			_, hasKind := top["kind"]
			_, hasAPIVersion := top["apiVersion"]
			_, hasServices := top["services"]
			if (hasKind && hasAPIVersion) || hasServices {
				continue
			}
			if !slices.ContainsFunc(bootstrapKeys, func(k string) bool { _, ok := top[k]; return ok }) {
				continue
			}
			name := rel
			if len(docs) > 1 {
				name = fmt.Sprintf("%s#%d", rel, i)
			}
			out[name] = js
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// bootstrapReport is what checkBootstrap learned about a bootstrap.
type bootstrapReport struct {
	wasmFilters    int
	pluginConfigs  [][]byte
	pluginWarnings []string
}

// checkBootstrap validates a bootstrap (JSON) as strictly as possible
// without an Envoy binary:
//
//  1. protojson into go-control-plane's Bootstrap with unknown fields
//     rejected, then ValidateAll (the protoc-gen-validate rules Envoy
//     applies at load: ports, enums, required fields, lengths);
//  2. every google.protobuf.Any in the tree is resolved, decoded strictly
//     and validated the same way (ValidateAll does not look inside Any);
//  3. wiring Envoy only checks at run time: routes name existing clusters,
//     the router is the last HTTP filter;
//  4. each Wasm HTTP filter: the v8 runtime, FAIL_CLOSED, a StringValue
//     configuration that config.Validate accepts, and callout clusters
//     named in that configuration exist (a missing one is BadArgument);
//  5. mtls providers sit behind a TLS filter chain, and one that trusts
//     x-forwarded-client-cert trusts it the way the connection manager
//     writes it (see checkXFCC).
func checkBootstrap(js []byte) (bootstrapReport, error) {
	var rep bootstrapReport
	var bs bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, &bs); err != nil {
		return rep, fmt.Errorf("decode Bootstrap: %w", err)
	}
	if err := bs.ValidateAll(); err != nil {
		return rep, fmt.Errorf("validate Bootstrap: %w", err)
	}
	if err := validateAnys(bs.ProtoReflect(), "bootstrap"); err != nil {
		return rep, err
	}

	clusters := map[string]bool{}
	for _, c := range bs.GetStaticResources().GetClusters() {
		clusters[c.GetName()] = true
	}
	for _, l := range bs.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				if f.GetTypedConfig().GetTypeUrl() != hcmType {
					continue
				}
				var hcm hcmv3.HttpConnectionManager
				if err := f.GetTypedConfig().UnmarshalTo(&hcm); err != nil {
					return rep, err
				}
				where := fmt.Sprintf("listener %q", l.GetName())
				if err := checkRoutes(hcm.GetRouteConfig(), clusters, where); err != nil {
					return rep, err
				}
				if err := checkHTTPFilters(&hcm, clusters, fc.GetTransportSocket() != nil, where, &rep); err != nil {
					return rep, err
				}
			}
		}
	}
	return rep, nil
}

// validateAnys walks m, and for every Any it holds decodes the payload with
// the registered type, runs its ValidateAll and recurses into it.
func validateAnys(m protoreflect.Message, path string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = validateMessage(l.Get(i).Message(), fmt.Sprintf("%s[%d]", p, i))
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				err = validateMessage(mv.Message(), fmt.Sprintf("%s[%v]", p, k.Interface()))
				return err == nil
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			err = validateMessage(v.Message(), p)
		}
		return err == nil
	})
	return err
}

func validateMessage(m protoreflect.Message, path string) error {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		return validateAnys(m, path)
	}
	inner, err := a.UnmarshalNew()
	if err != nil {
		return fmt.Errorf("%s: %s: %w (register the type with a blank import)", path, a.GetTypeUrl(), err)
	}
	if v, ok := inner.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s (%s): %w", path, a.GetTypeUrl(), err)
		}
	}
	return validateAnys(inner.ProtoReflect(), path+"("+string(inner.ProtoReflect().Descriptor().Name())+")")
}

func checkRoutes(rc *routev3.RouteConfiguration, clusters map[string]bool, where string) error {
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if c := r.GetRoute().GetCluster(); c != "" && !clusters[c] {
				return fmt.Errorf("%s: route %q sends to cluster %q, which is not defined", where, r.GetName(), c)
			}
		}
	}
	return nil
}

func checkHTTPFilters(hcm *hcmv3.HttpConnectionManager, clusters map[string]bool, downstreamTLS bool, where string, rep *bootstrapReport) error {
	filters := hcm.GetHttpFilters()
	if n := len(filters); n == 0 || filters[n-1].GetTypedConfig().GetTypeUrl() != routerFilterType {
		return fmt.Errorf("%s: the router must be the last HTTP filter", where)
	}
	for _, hf := range filters {
		if hf.GetTypedConfig().GetTypeUrl() != wasmFilterType {
			continue
		}
		rep.wasmFilters++
		var w wasmfilterv3.Wasm
		if err := hf.GetTypedConfig().UnmarshalTo(&w); err != nil {
			return err
		}
		pc := w.GetConfig()
		fw := fmt.Sprintf("%s: Wasm filter %q", where, hf.GetName())
		if rt := pc.GetVmConfig().GetRuntime(); rt != v8Runtime {
			return fmt.Errorf("%s: runtime %q; official Envoy and Istio proxy images ship %s only", fw, rt, v8Runtime)
		}
		//lint:ignore SA1019 the deprecated field is checked precisely because it must stay unset
		if pc.GetFailOpen() || pc.GetFailurePolicy() != wasmv3.FailurePolicy_FAIL_CLOSED {
			return fmt.Errorf("%s: failure_policy is %s (fail_open %v); an authentication filter must be FAIL_CLOSED",
				fw, pc.GetFailurePolicy(), pc.GetFailOpen())
		}
		if pc.GetRootId() == "" {
			return fmt.Errorf("%s: root_id is empty", fw)
		}
		cfg := pc.GetConfiguration()
		if cfg.GetTypeUrl() != stringValueType {
			return fmt.Errorf("%s: configuration is %q; want %s holding the JSON", fw, cfg.GetTypeUrl(), stringValueType)
		}
		var sv wrapperspb.StringValue
		if err := cfg.UnmarshalTo(&sv); err != nil {
			return err
		}
		plugin := []byte(sv.GetValue())
		warnings, err := config.Validate(plugin)
		if err != nil {
			return fmt.Errorf("%s: plugin configuration: %w", fw, err)
		}
		for _, c := range pluginClusters(plugin) {
			if !clusters[c] {
				return fmt.Errorf("%s: plugin configuration calls out to cluster %q, which is not defined (proxy_http_call would fail with BadArgument)", fw, c)
			}
		}
		if err := checkXFCC(plugin, hcm, downstreamTLS); err != nil {
			return fmt.Errorf("%s: %w", fw, err)
		}
		rep.pluginConfigs = append(rep.pluginConfigs, plugin)
		rep.pluginWarnings = append(rep.pluginWarnings, warnings...)
	}
	return nil
}

// xfccTrust is the forward_client_cert_details under which an mtls
// provider's "xfcc" mode may trust x-forwarded-client-cert: with any other
// setting the header is the client's own (FORWARD_ONLY,
// ALWAYS_FORWARD_ONLY) or absent, or its last element is not Envoy's.
// "ignore" trusts nothing and fits every setting.
var xfccTrust = map[string]hcmv3.HttpConnectionManager_ForwardClientCertDetails{
	"sanitize_set":   hcmv3.HttpConnectionManager_SANITIZE_SET,
	"append_forward": hcmv3.HttpConnectionManager_APPEND_FORWARD,
}

// checkXFCC checks the mtls providers of a plugin configuration against
// the connection manager and filter chain they run in: a plaintext chain
// never has a client certificate, and a provider that trusts
// x-forwarded-client-cert needs the matching forward_client_cert_details.
func checkXFCC(plugin []byte, hcm *hcmv3.HttpConnectionManager, downstreamTLS bool) error {
	for _, p := range pluginMTLSProviders(plugin) {
		if !downstreamTLS {
			return fmt.Errorf("mtls provider %q behind a plaintext filter chain: it can never see a client certificate", p.name)
		}
		want, trusts := xfccTrust[p.xfcc]
		if got := hcm.GetForwardClientCertDetails(); trusts && got != want {
			return fmt.Errorf("mtls provider %q has \"xfcc\": %q, but forward_client_cert_details is %s; set it to %s or the provider to \"ignore\"",
				p.name, p.xfcc, got, want)
		}
	}
	return nil
}

type mtlsProviderInfo struct{ name, xfcc string }

// pluginMTLSProviders lists the mtls providers of a plugin configuration
// with their "xfcc" mode ("ignore" when unset).
func pluginMTLSProviders(js []byte) []mtlsProviderInfo {
	var cfg struct {
		Providers []struct {
			Name string `json:"name"`
			MTLS *struct {
				XFCC string `json:"xfcc"`
			} `json:"mtls"`
		} `json:"providers"`
	}
	if json.Unmarshal(js, &cfg) != nil {
		return nil
	}
	var out []mtlsProviderInfo
	for _, p := range cfg.Providers {
		if p.MTLS == nil {
			continue
		}
		mode := p.MTLS.XFCC
		if mode == "" {
			mode = "ignore"
		}
		out = append(out, mtlsProviderInfo{p.Name, mode})
	}
	return out
}

// pluginClusters returns every string value of a "cluster" key anywhere in
// a plugin configuration: the upstreams its callouts (remote JWKS) name.
func pluginClusters(js []byte) []string {
	var v any
	if json.Unmarshal(js, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "cluster" {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	sort.Strings(out)
	return out
}

// TestEnvoyBootstraps validates every Envoy bootstrap in the repository
// (see checkBootstrap). Those under envoy/ must run the wasm-authn filter.
func TestEnvoyBootstraps(t *testing.T) {
	found := envoyBootstraps(t)
	for _, want := range []string{"envoy/envoy.yaml", "envoy/envoy-mtls.yaml"} {
		if _, ok := found[want]; !ok {
			t.Errorf("bootstrap %s not found (or not recognised as one)", want)
		}
	}
	for name, js := range found {
		t.Run(name, func(t *testing.T) {
			rep, err := checkBootstrap(js)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(name, "envoy/") && rep.wasmFilters == 0 {
				t.Errorf("no wasm-authn filter")
			}
			for _, w := range rep.pluginWarnings {
				t.Errorf("plugin configuration warning: %s", w)
			}
		})
	}
}

// TestEnvoyBootstrapRejects shows that checkBootstrap catches each kind of
// mistake, on mutated in-memory copies of envoy/envoy.yaml.
func TestEnvoyBootstrapRejects(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "envoy", "envoy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkBootstrap(base); err != nil {
		t.Fatalf("unmutated envoy.yaml: %v", err)
	}
	hcm := path{"static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config"}
	wasm := hcm.with("http_filters", 0, "typed_config", "config")
	plugin := wasm.with("configuration", "value")
	editPlugin := func(old, new string) func(t *testing.T, doc any) {
		return func(t *testing.T, doc any) {
			s := plugin.get(t, doc).(string)
			if !strings.Contains(s, old) {
				t.Fatalf("plugin configuration has no %q", old)
			}
			plugin.set(t, doc, strings.Replace(s, old, new, 1))
		}
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, doc any)
		want   string
	}{
		{
			name: "listener port out of range",
			mutate: func(t *testing.T, doc any) {
				path{"static_resources", "listeners", 0, "address", "socket_address", "port_value"}.set(t, doc, 70000)
			},
			want: "PortValue: value must be less than or equal to 65535",
		},
		{
			name:   "unknown bootstrap field",
			mutate: func(t *testing.T, doc any) { doc.(map[string]any)["static_resource"] = map[string]any{} },
			want:   `unknown field "static_resource"`,
		},
		{
			name:   "unknown field inside the Wasm filter's Any",
			mutate: func(t *testing.T, doc any) { wasm.with("vm_config").get(t, doc).(map[string]any)["runtme"] = v8Runtime },
			want:   `unknown field "runtme"`,
		},
		{
			name:   "empty vm_config.code (a rule inside an Any)",
			mutate: func(t *testing.T, doc any) { wasm.with("vm_config", "code").set(t, doc, map[string]any{}) },
			want:   "Code",
		},
		{
			name:   "fail open",
			mutate: func(t *testing.T, doc any) { wasm.with("failure_policy").set(t, doc, "FAIL_OPEN") },
			want:   "must be FAIL_CLOSED",
		},
		{
			name:   "failure policy left unspecified",
			mutate: func(t *testing.T, doc any) { delete(wasm.get(t, doc).(map[string]any), "failure_policy") },
			want:   "must be FAIL_CLOSED",
		},
		{
			name:   "misspelled failure policy",
			mutate: func(t *testing.T, doc any) { wasm.with("failure_policy").set(t, doc, "FAIL_CLOSE") },
			want:   "invalid value for enum",
		},
		{
			name:   "runtime other than v8",
			mutate: func(t *testing.T, doc any) { wasm.with("vm_config", "runtime").set(t, doc, "envoy.wasm.runtime.wamr") },
			want:   "ship envoy.wasm.runtime.v8 only",
		},
		{
			name: "configuration as BytesValue",
			mutate: func(t *testing.T, doc any) {
				wasm.with("configuration").set(t, doc, map[string]any{"@type": "type.googleapis.com/google.protobuf.BytesValue", "value": "e30="})
			},
			want: "want type.googleapis.com/google.protobuf.StringValue",
		},
		{
			name:   "plugin configuration with a misspelled field",
			mutate: editPlugin(`"providers"`, `"provders"`),
			want:   "provders",
		},
		{
			name:   "plugin configuration that is not JSON",
			mutate: func(t *testing.T, doc any) { plugin.set(t, doc, `{"realm": "example",`) },
			want:   "plugin configuration",
		},
		{
			name:   "plugin rule naming a missing provider",
			mutate: editPlugin(`{"provider": "staff", "consumers"`, `{"provider": "stafff", "consumers"`),
			want:   "stafff",
		},
		{
			name: "route to an undefined cluster",
			mutate: func(t *testing.T, doc any) {
				hcm.with("route_config", "virtual_hosts", 0, "routes", 0, "route", "cluster").set(t, doc, "echoo")
			},
			want: `cluster "echoo", which is not defined`,
		},
		{
			name: "router before the Wasm filter",
			mutate: func(t *testing.T, doc any) {
				fs := hcm.with("http_filters").get(t, doc).([]any)
				fs[0], fs[1] = fs[1], fs[0]
			},
			want: "the router must be the last HTTP filter",
		},
		{
			name: "unregistered extension type",
			mutate: func(t *testing.T, doc any) {
				hcm.with("http_filters", 1, "typed_config", "@type").set(t, doc, "type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope")
			},
			want: "nope",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal(base, &doc); err != nil {
				t.Fatal(err)
			}
			tt.mutate(t, doc)
			js, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = checkBootstrap(js)
			if err == nil {
				t.Fatalf("checkBootstrap accepted the mutated bootstrap; want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("checkBootstrap() = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestEnvoyMTLSBootstrapRejects shows that checkBootstrap ties the mtls
// provider of envoy/envoy-mtls.yaml to its listener, on mutated in-memory
// copies: XFCC trusted under another forward_client_cert_details, or an
// mtls provider on a plaintext filter chain, are errors; "ignore" fits any
// setting.
func TestEnvoyMTLSBootstrapRejects(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "envoy", "envoy-mtls.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := checkBootstrap(base)
	if err != nil {
		t.Fatalf("unmutated envoy-mtls.yaml: %v", err)
	}
	if ps := pluginMTLSProviders(rep.pluginConfigs[0]); len(ps) != 1 || ps[0].xfcc != "sanitize_set" {
		t.Fatalf("envoy-mtls.yaml mtls providers %v; want one, trusting XFCC under SANITIZE_SET", ps)
	}
	chain := path{"static_resources", "listeners", 0, "filter_chains", 0}
	hcm := chain.with("filters", 0, "typed_config")
	plugin := hcm.with("http_filters", 0, "typed_config", "config", "configuration", "value")
	editPlugin := func(t *testing.T, doc any, old, new string) {
		s := plugin.get(t, doc).(string)
		if !strings.Contains(s, old) {
			t.Fatalf("plugin configuration has no %q", old)
		}
		plugin.set(t, doc, strings.Replace(s, old, new, 1))
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, doc any)
		want   string // "" means accepted
	}{
		{
			name:   "XFCC passed on as the client sent it",
			mutate: func(t *testing.T, doc any) { hcm.with("forward_client_cert_details").set(t, doc, "FORWARD_ONLY") },
			want:   "forward_client_cert_details is FORWARD_ONLY",
		},
		{
			name:   "XFCC appended, provider expecting it replaced",
			mutate: func(t *testing.T, doc any) { hcm.with("forward_client_cert_details").set(t, doc, "APPEND_FORWARD") },
			want:   `"xfcc": "sanitize_set"`,
		},
		{
			name: "provider trusting the last of several elements under SANITIZE_SET",
			mutate: func(t *testing.T, doc any) {
				editPlugin(t, doc, `"xfcc": "sanitize_set"`, `"xfcc": "append_forward"`)
			},
			want: "set it to APPEND_FORWARD",
		},
		{
			name: "mtls provider on a plaintext filter chain",
			mutate: func(t *testing.T, doc any) {
				delete(chain.get(t, doc).(map[string]any), "transport_socket")
			},
			want: "plaintext filter chain",
		},
		{
			name: "XFCC ignored, whatever Envoy does with it",
			mutate: func(t *testing.T, doc any) {
				editPlugin(t, doc, `"xfcc": "sanitize_set"`, `"xfcc": "ignore"`)
				hcm.with("forward_client_cert_details").set(t, doc, "ALWAYS_FORWARD_ONLY")
			},
		},
		{
			name: "rule constraint on an unknown peer field",
			mutate: func(t *testing.T, doc any) {
				editPlugin(t, doc, `"subject_attributes": {"OU": "staff"}`, `"subject_attrs": {"OU": "staff"}`)
			},
			want: "subject_attrs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal(base, &doc); err != nil {
				t.Fatal(err)
			}
			tt.mutate(t, doc)
			js, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = checkBootstrap(js)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("checkBootstrap() = %v; want it accepted", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("checkBootstrap() = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPluginClusters(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`{}`, nil},
		{`{"providers":[{"name":"idp","jwt":{"remote_jwks":{"cluster":"idp","uri":"http://idp/jwks"}}}]}`, []string{"idp"}},
		{`{"a":{"cluster":1},"b":[{"cluster":"x"},{"cluster":"y"}]}`, []string{"x", "y"}},
		{`not json`, nil},
	}
	for _, tt := range tests {
		if got := pluginClusters([]byte(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("pluginClusters(%s) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// path addresses a value inside a decoded JSON document: string elements
// are object keys, int elements are array indexes.
type path []any

func (p path) with(more ...any) path { return append(slices.Clone(p), more...) }

func (p path) get(t *testing.T, doc any) any {
	t.Helper()
	v := doc
	for i, e := range p {
		switch e := e.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: element %d is not an object", p, i)
			}
			v = m[e]
		case int:
			a, ok := v.([]any)
			if !ok || e >= len(a) {
				t.Fatalf("%v: element %d is not an array of length > %d", p, i, e)
			}
			v = a[e]
		}
	}
	return v
}

func (p path) set(t *testing.T, doc any, val any) {
	t.Helper()
	parent := p[:len(p)-1].get(t, doc)
	switch k := p[len(p)-1].(type) {
	case string:
		parent.(map[string]any)[k] = val
	case int:
		parent.([]any)[k] = val
	default:
		t.Fatal(errors.New("bad path element"))
	}
}
