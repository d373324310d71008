package istio_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/golang/protobuf/jsonpb" //nolint:staticcheck // what Istio's protomarshal.ToJSON uses for pluginConfig
	"github.com/google/go-containerregistry/pkg/name"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	extensionsv1alpha1 "istio.io/api/extensions/v1alpha1"
	networkingv1 "istio.io/api/networking/v1"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	typev1beta1 "istio.io/api/type/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/wasm-authn/wasm-authn/internal/config"
)

// idpCluster is the Envoy cluster Istio builds for the ServiceEntry in
// idp.yaml, the name a plugin callout to the IdP must use. docs/deploy.md
// documents it.
const idpCluster = "outbound|443||idp.example.com"

// manifest is one Kubernetes object from envoy/istio.
type manifest struct {
	file       string
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

func (m manifest) String() string {
	return fmt.Sprintf("%s %s/%s (%s)", m.Kind, m.Metadata.Namespace, m.Metadata.Name, m.file)
}

// loadManifests reads every document of every *.yaml file in this
// directory. The envelope is decoded strictly: a misspelled metadata field
// is an error, not an ignored key.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var out []manifest
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range splitYAML(b) {
			m, err := parseManifest(doc)
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			m.file = f
			out = append(out, m)
		}
	}
	return out
}

func parseManifest(doc []byte) (manifest, error) {
	var m manifest
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return m, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, err
	}
	if m.Metadata.Name == "" || len(m.Spec) == 0 {
		return m, fmt.Errorf("%s: metadata.name and spec are required", m.Kind)
	}
	return m, nil
}

func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		meaningful := false
		for _, line := range strings.Split(d, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				meaningful = true
			}
		}
		if meaningful {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// decodeSpec decodes a manifest's spec strictly (unknown fields and bad
// enum names rejected) into the istio.io/api type for its kind.
func decodeSpec(m manifest) (proto.Message, error) {
	var msg proto.Message
	switch {
	case m.APIVersion == "extensions.istio.io/v1alpha1" && m.Kind == "WasmPlugin":
		msg = &extensionsv1alpha1.WasmPlugin{}
	case m.APIVersion == "networking.istio.io/v1" && m.Kind == "ServiceEntry":
		msg = &networkingv1.ServiceEntry{}
	case m.APIVersion == "networking.istio.io/v1" && m.Kind == "DestinationRule":
		msg = &networkingv1.DestinationRule{}
	case m.APIVersion == "networking.istio.io/v1" && m.Kind == "Gateway":
		msg = &networkingv1.Gateway{}
	default:
		return nil, fmt.Errorf("unexpected %s %s", m.APIVersion, m.Kind)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(m.Spec, msg); err != nil {
		return nil, fmt.Errorf("%s spec: %w", m.Kind, err)
	}
	return msg, nil
}

// pluginConfigJSON converts pluginConfig exactly as istiod does before
// wrapping it in a StringValue (pilot/pkg/model/extensions.go, through
// pkg/util/protomarshal.ToJSON): golang/protobuf's jsonpb, no indent. Its
// numbers are float64s printed the way encoding/json prints them.
func pluginConfigJSON(s *structpb.Struct) (string, error) {
	if s == nil || len(s.GetFields()) == 0 {
		return "", nil // Istio then sends an empty configuration
	}
	return (&jsonpb.Marshaler{}).MarshalToString(s)
}

var sha256Pattern = regexp.MustCompile(`^$|^[a-f0-9]{64}$`)

// checkWasmPlugin applies the CRD's validation rules that protojson does
// not (wasm.proto kubebuilder markers), then the product's own: fail
// closed in the AUTHN phase, an oci:// image, and a pluginConfig that
// config.Validate accepts once serialized as Istio does.
func checkWasmPlugin(wp *extensionsv1alpha1.WasmPlugin, clusters map[string]bool) error {
	if (wp.GetSelector() != nil) == (wp.GetTargetRef() != nil || len(wp.GetTargetRefs()) > 0) {
		return fmt.Errorf("set exactly one of selector or targetRefs")
	}
	if !sha256Pattern.MatchString(wp.GetSha256()) {
		return fmt.Errorf("sha256 %q: want 64 lower-case hex digits without a prefix (the manifest digest's hex)", wp.GetSha256())
	}
	ref, ok := strings.CutPrefix(wp.GetUrl(), "oci://")
	if !ok {
		return fmt.Errorf("url %q: want an oci:// image reference", wp.GetUrl())
	}
	if _, err := name.ParseReference(ref); err != nil {
		return fmt.Errorf("url %q: %w", wp.GetUrl(), err)
	}
	if n := len(wp.GetPluginName()); n == 0 || n > 256 {
		return fmt.Errorf("pluginName %q: want 1 to 256 characters", wp.GetPluginName())
	}
	if wp.GetPhase() != extensionsv1alpha1.PluginPhase_AUTHN {
		return fmt.Errorf("phase %s: want AUTHN, before Istio's own authorization", wp.GetPhase())
	}
	if wp.GetFailStrategy() != extensionsv1alpha1.FailStrategy_FAIL_CLOSE {
		return fmt.Errorf("failStrategy %s: an authentication filter must FAIL_CLOSE", wp.GetFailStrategy())
	}
	if ty := wp.GetType(); ty != extensionsv1alpha1.PluginType_HTTP && ty != extensionsv1alpha1.PluginType_UNSPECIFIED_PLUGIN_TYPE {
		return fmt.Errorf("type %s: wasm-authn is an HTTP filter", ty)
	}
	js, err := pluginConfigJSON(wp.GetPluginConfig())
	if err != nil {
		return err
	}
	warnings, err := config.Validate([]byte(js))
	if err != nil {
		return fmt.Errorf("pluginConfig: %w", err)
	}
	if len(warnings) > 0 {
		return fmt.Errorf("pluginConfig warnings: %q", warnings)
	}
	for _, c := range pluginClusters(js) {
		if !clusters[c] {
			return fmt.Errorf("pluginConfig calls out to cluster %q, which no ServiceEntry here creates (proxy_http_call would fail with BadArgument)", c)
		}
	}
	return checkCalloutHosts(js)
}

// pluginProviders is the part of a plugin configuration the placement
// checks read.
type pluginProviders struct {
	Providers []struct {
		Name string `json:"name"`
		JWT  *struct {
			Issuers    []string `json:"issuers"`
			RemoteJWKS *struct {
				Cluster string `json:"cluster"`
				URI     string `json:"uri"`
			} `json:"remote_jwks"`
			OIDCDiscovery *struct {
				Cluster string `json:"cluster"`
			} `json:"oidc_discovery"`
		} `json:"jwt"`
		MTLS *struct {
			XFCC string `json:"xfcc"`
		} `json:"mtls"`
	} `json:"providers"`
}

func parseProviders(js string) pluginProviders {
	var p pluginProviders
	json.Unmarshal([]byte(js), &p)
	return p
}

// checkCalloutHosts checks that a jwt provider fetching keys through an
// Istio outbound cluster asks for them on that cluster's host: the call's
// :authority comes from remote_jwks.uri (or the issuer, for discovery),
// and the DestinationRule's SNI and certificate check are the cluster's.
func checkCalloutHosts(js string) error {
	for _, p := range parseProviders(js).Providers {
		if p.JWT == nil {
			continue
		}
		var cluster, uri string
		switch {
		case p.JWT.RemoteJWKS != nil:
			cluster, uri = p.JWT.RemoteJWKS.Cluster, p.JWT.RemoteJWKS.URI
		case p.JWT.OIDCDiscovery != nil && len(p.JWT.Issuers) == 1:
			cluster, uri = p.JWT.OIDCDiscovery.Cluster, p.JWT.Issuers[0]
		default:
			continue
		}
		parts := strings.Split(cluster, "|")
		if len(parts) != 4 || parts[0] != "outbound" {
			continue
		}
		u, err := url.Parse(uri)
		if err != nil || u.Hostname() != parts[3] {
			return fmt.Errorf("provider %q fetches keys from %q through cluster %q: the URI must be on the cluster's host %s", p.Name, uri, cluster, parts[3])
		}
	}
	return nil
}

// istioSPIFFE is the form of the SPIFFE IDs Istio issues to workloads.
var istioSPIFFE = regexp.MustCompile(`^spiffe://[^/*]+/ns/[^/]+/sa/[^/]+$`)

// checkPlacement checks a WasmPlugin's mtls providers against where it
// runs, as istiod configures the HTTP connection manager there:
//
//   - on a gateway (selector istio: ingressgateway, or a Gateway
//     targetRef), forward_client_cert_details is SANITIZE_SET, so xfcc may
//     be sanitize_set or ignore, and a Gateway server for that workload
//     must ask for client certificates (MUTUAL or OPTIONAL_MUTUAL);
//   - in a sidecar, the inbound HCM is APPEND_FORWARD, so xfcc may be
//     append_forward or ignore; the plugin must apply to inbound traffic
//     only (match mode SERVER: outbound, the downstream is the local
//     application without a certificate); and SPIFFE patterns must have
//     the form Istio issues, spiffe://<td>/ns/<ns>/sa/<sa>.
func checkPlacement(wp *extensionsv1alpha1.WasmPlugin, gateways []*networkingv1alpha3.Gateway) error {
	js, err := pluginConfigJSON(wp.GetPluginConfig())
	if err != nil {
		return err
	}
	labels := wp.GetSelector().GetMatchLabels()
	onGateway := labels["istio"] == "ingressgateway"
	for _, r := range append(wp.GetTargetRefs(), wp.GetTargetRef()) {
		if r.GetKind() == "Gateway" {
			onGateway = true
		}
	}
	for _, p := range parseProviders(js).Providers {
		if p.MTLS == nil {
			continue
		}
		mode := p.MTLS.XFCC
		if mode == "" {
			mode = "ignore"
		}
		if onGateway {
			if mode != "ignore" && mode != "sanitize_set" {
				return fmt.Errorf("mtls provider %q: xfcc %q on a gateway, whose forward_client_cert_details is SANITIZE_SET; want sanitize_set or ignore", p.Name, mode)
			}
			if !slices.ContainsFunc(gateways, func(g *networkingv1alpha3.Gateway) bool { return asksForClientCert(g, labels) }) {
				return fmt.Errorf("mtls provider %q: no Gateway here has a MUTUAL or OPTIONAL_MUTUAL server on this workload, so no client certificate reaches the plugin", p.Name)
			}
			continue
		}
		if mode != "ignore" && mode != "append_forward" {
			return fmt.Errorf("mtls provider %q: xfcc %q in a sidecar, whose inbound forward_client_cert_details is APPEND_FORWARD; want append_forward or ignore", p.Name, mode)
		}
		if len(wp.GetMatch()) == 0 || slices.ContainsFunc(wp.GetMatch(), func(m *extensionsv1alpha1.WasmPlugin_TrafficSelector) bool {
			return m.GetMode() != typev1beta1.WorkloadMode_SERVER
		}) {
			return fmt.Errorf("mtls provider %q in a sidecar: want match mode SERVER only (outbound requests come from the local application, without a certificate)", p.Name)
		}
		for _, id := range stringsUnder(js, "spiffe") {
			if !istioSPIFFE.MatchString(id) {
				return fmt.Errorf("spiffe %q: Istio issues spiffe://<trust domain>/ns/<namespace>/sa/<service account>; this pattern matches no workload", id)
			}
		}
	}
	return nil
}

// asksForClientCert reports whether g selects the workload labels select
// and has a server that asks for client certificates.
func asksForClientCert(g *networkingv1alpha3.Gateway, labels map[string]string) bool {
	for k, v := range g.GetSelector() {
		if labels[k] != v {
			return false
		}
	}
	return slices.ContainsFunc(g.GetServers(), func(s *networkingv1alpha3.Server) bool {
		m := s.GetTls().GetMode()
		return m == networkingv1alpha3.ServerTLSSettings_MUTUAL || m == networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL
	})
}

// stringsUnder returns every string value of key anywhere in a JSON text.
func stringsUnder(js, key string) []string {
	var v any
	if json.Unmarshal([]byte(js), &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == key {
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

// subsetKey is Istio's cluster name for a service port
// (pilot/pkg/model/service.go BuildSubsetKey), for outbound traffic.
func subsetKey(port uint32, subset, host string) string {
	return fmt.Sprintf("outbound|%d|%s|%s", port, subset, host)
}

// pluginClusters returns every string value of a "cluster" key anywhere in
// a plugin configuration.
func pluginClusters(js string) []string {
	var v any
	if json.Unmarshal([]byte(js), &v) != nil {
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

// checkEgress checks that every DestinationRule configures a ServiceEntry
// host here and originates TLS on each of its ports with SNI set, and
// returns the clusters the ServiceEntries create.
func checkEgress(ses []*networkingv1alpha3.ServiceEntry, drs []*networkingv1alpha3.DestinationRule) (map[string]bool, error) {
	clusters := map[string]bool{}
	ports := map[string][]uint32{}
	for _, se := range ses {
		if se.GetLocation() != networkingv1alpha3.ServiceEntry_MESH_EXTERNAL || se.GetResolution() != networkingv1alpha3.ServiceEntry_DNS {
			return nil, fmt.Errorf("ServiceEntry %q: want MESH_EXTERNAL with DNS resolution", se.GetHosts())
		}
		for _, h := range se.GetHosts() {
			for _, p := range se.GetPorts() {
				clusters[subsetKey(p.GetNumber(), "", h)] = true
				ports[h] = append(ports[h], p.GetNumber())
			}
		}
	}
	for _, dr := range drs {
		host := dr.GetHost()
		if len(ports[host]) == 0 {
			return nil, fmt.Errorf("DestinationRule for %q: no ServiceEntry here has that host", host)
		}
		for _, p := range ports[host] {
			i := slices.IndexFunc(dr.GetTrafficPolicy().GetPortLevelSettings(), func(s *networkingv1alpha3.TrafficPolicy_PortTrafficPolicy) bool {
				return s.GetPort().GetNumber() == p
			})
			if i < 0 {
				return nil, fmt.Errorf("DestinationRule for %q: no settings for port %d", host, p)
			}
			tls := dr.GetTrafficPolicy().GetPortLevelSettings()[i].GetTls()
			if tls.GetMode() != networkingv1alpha3.ClientTLSSettings_SIMPLE || tls.GetSni() != host {
				return nil, fmt.Errorf("DestinationRule for %q port %d: tls %v; want SIMPLE with sni %q", host, p, tls, host)
			}
		}
	}
	return clusters, nil
}

// checkAll decodes and checks a set of manifests as one deployment.
func checkAll(ms []manifest) error {
	var (
		ses []*networkingv1alpha3.ServiceEntry
		drs []*networkingv1alpha3.DestinationRule
		gws []*networkingv1alpha3.Gateway
		wps []*extensionsv1alpha1.WasmPlugin
	)
	for _, m := range ms {
		msg, err := decodeSpec(m)
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		switch msg := msg.(type) {
		case *networkingv1alpha3.ServiceEntry:
			ses = append(ses, msg)
		case *networkingv1alpha3.DestinationRule:
			drs = append(drs, msg)
		case *networkingv1alpha3.Gateway:
			gws = append(gws, msg)
		case *extensionsv1alpha1.WasmPlugin:
			wps = append(wps, msg)
		}
	}
	clusters, err := checkEgress(ses, drs)
	if err != nil {
		return err
	}
	for i, wp := range wps {
		if err := checkWasmPlugin(wp, clusters); err != nil {
			return fmt.Errorf("WasmPlugin %d: %w", i, err)
		}
		if err := checkPlacement(wp, gws); err != nil {
			return fmt.Errorf("WasmPlugin %d: %w", i, err)
		}
	}
	return nil
}

// TestManifests decodes every manifest in envoy/istio strictly into its
// istio.io/api type and checks them as one deployment: each WasmPlugin's
// pluginConfig, serialized as istiod serializes it, passes config.Validate.
func TestManifests(t *testing.T) {
	ms := loadManifests(t)
	if err := checkAll(ms); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, m := range ms {
		kinds[m.Kind]++
		t.Run(m.file+"/"+m.Kind, func(t *testing.T) {
			msg, err := decodeSpec(m)
			if err != nil {
				t.Fatal(err)
			}
			if wp, ok := msg.(*extensionsv1alpha1.WasmPlugin); ok {
				js, _ := pluginConfigJSON(wp.GetPluginConfig())
				t.Logf("the plugin receives %d bytes: %.120s...", len(js), js)
			}
		})
	}
	if kinds["WasmPlugin"] < 5 || kinds["ServiceEntry"] != 1 || kinds["DestinationRule"] != 1 || kinds["Gateway"] != 1 {
		t.Errorf("kinds = %v; want 5 WasmPlugins (api_key, basic, jwt, mtls, mixed), a ServiceEntry, a DestinationRule and a Gateway", kinds)
	}
}

// TestWasmPluginExamples checks that each example configures what its
// file name and the Deploy guide promise, in the JSON the plugin receives.
func TestWasmPluginExamples(t *testing.T) {
	configs := map[string]string{}
	for _, m := range loadManifests(t) {
		if m.Kind != "WasmPlugin" {
			continue
		}
		msg, err := decodeSpec(m)
		if err != nil {
			t.Fatal(err)
		}
		js, err := pluginConfigJSON(msg.(*extensionsv1alpha1.WasmPlugin).GetPluginConfig())
		if err != nil {
			t.Fatal(err)
		}
		configs[m.file] = js
	}
	want := map[string][]string{
		// Keys from the IdP's JWKS through the ServiceEntry's cluster.
		"wasmplugin-jwt.yaml": {`"remote_jwks":{"cluster":"` + idpCluster + `"`, `"audiences":["https://api.example.com"]`},
		// Peers by the SPIFFE IDs Istio issues; the sidecar appends XFCC.
		"wasmplugin-mtls.yaml": {`"spiffe":"spiffe://cluster.local/ns/shop/sa/checkout"`, `"xfcc":"append_forward"`},
		// mTLS AND (JWT OR API key).
		"wasmplugin-mixed.yaml": {
			`"require":{"all":[{"provider":"partners"},{"any":[{"provider":"idp","scopes":["orders.read"]},{"provider":"partner-keys"}]}]}`,
			`"cluster":"` + idpCluster + `"`, `"xfcc":"sanitize_set"`,
		},
	}
	for file, subs := range want {
		js, ok := configs[file]
		if !ok {
			t.Errorf("%s: no WasmPlugin", file)
			continue
		}
		var canon any
		if err := json.Unmarshal([]byte(js), &canon); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(canon) // sorted keys
		for _, sub := range subs {
			if !strings.Contains(string(b), sub) && !strings.Contains(js, sub) {
				t.Errorf("%s: pluginConfig lacks %s:\n%s", file, sub, js)
			}
		}
	}
}

// TestIdPCluster pins the cluster name of the IdP ServiceEntry, which
// plugin configurations must use for callouts, and checks that the Deploy
// guide states it.
func TestIdPCluster(t *testing.T) {
	var ses []*networkingv1alpha3.ServiceEntry
	for _, m := range loadManifests(t) {
		if m.Kind == "ServiceEntry" {
			msg, err := decodeSpec(m)
			if err != nil {
				t.Fatal(err)
			}
			ses = append(ses, msg.(*networkingv1alpha3.ServiceEntry))
		}
	}
	clusters, err := checkEgress(ses, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !clusters[idpCluster] || len(clusters) != 1 {
		t.Errorf("ServiceEntry clusters = %v; want exactly %s", clusters, idpCluster)
	}
	guide, err := os.ReadFile(filepath.Join("..", "..", "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(guide, []byte(idpCluster)) {
		t.Errorf("docs/deploy.md does not mention %s", idpCluster)
	}
}

// TestPluginConfigNumbers shows what the plugin receives for pluginConfig
// numbers: a Struct holds float64s, and jsonpb (Istio) prints integers
// without a fraction or exponent, so "ttl_seconds: 300" arrives as 300;
// past 2^53 precision is lost. protojson agrees on every value.
func TestPluginConfigNumbers(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{300, "300"},
		{1024, "1024"},
		{0, "0"},
		{-1, "-1"},
		{0.5, "0.5"},
		{1e20, "100000000000000000000"},
		{1e21, "1e+21"},
		{1e-7, "1e-7"},
		{math.Exp2(53) + 1, "9007199254740992"}, // 2^53+1 is not a float64
	}
	for _, tt := range tests {
		s := &structpb.Struct{Fields: map[string]*structpb.Value{"n": structpb.NewNumberValue(tt.in)}}
		got, err := pluginConfigJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"n":` + tt.want + `}`; got != want {
			t.Errorf("jsonpb(%v) = %s; want %s", tt.in, got, want)
		}
		pj, err := protojson.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		json.Unmarshal([]byte(got), &a)
		json.Unmarshal(pj, &b)
		if fmt.Sprint(a) != fmt.Sprint(b) || !strings.Contains(string(pj), tt.want) {
			t.Errorf("protojson(%v) = %s; jsonpb %s", tt.in, pj, got)
		}
	}

	// The same through a manifest: YAML integers reach the plugin as
	// integers in the JSON text.
	for _, m := range loadManifests(t) {
		if m.file != "wasmplugin-basic.yaml" {
			continue
		}
		msg, err := decodeSpec(m)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := pluginConfigJSON(msg.(*extensionsv1alpha1.WasmPlugin).GetPluginConfig())
		for _, want := range []string{`"max_entries":1024`, `"ttl_seconds":300`} {
			if !strings.Contains(js, want) {
				t.Errorf("pluginConfig JSON lacks %s:\n%s", want, js)
			}
		}
	}
}

// TestManifestRejects shows that the checks catch each kind of mistake,
// on mutated in-memory copies of the manifests.
func TestManifestRejects(t *testing.T) {
	ms := loadManifests(t)
	find := func(file, kind string) int {
		for i, m := range ms {
			if m.file == file && m.Kind == kind {
				return i
			}
		}
		t.Fatalf("no %s in %s", kind, file)
		return -1
	}
	mixed := find("wasmplugin-mixed.yaml", "WasmPlugin")
	jwtWP := find("wasmplugin-jwt.yaml", "WasmPlugin")
	mtlsWP := find("wasmplugin-mtls.yaml", "WasmPlugin")
	se := find("idp.yaml", "ServiceEntry")
	dr := find("idp.yaml", "DestinationRule")
	gw := find("gateway-mtls.yaml", "Gateway")
	setSpec := func(i int, f func(spec map[string]any)) func([]manifest) {
		return func(ms []manifest) {
			var spec map[string]any
			json.Unmarshal(ms[i].Spec, &spec)
			f(spec)
			ms[i].Spec, _ = json.Marshal(spec)
		}
	}
	pluginConfig := func(spec map[string]any) map[string]any { return spec["pluginConfig"].(map[string]any) }
	provider := func(spec map[string]any, name string) map[string]any {
		for _, p := range pluginConfig(spec)["providers"].([]any) {
			if p := p.(map[string]any); p["name"] == name {
				return p
			}
		}
		t.Fatalf("no provider %q", name)
		return nil
	}
	tests := []struct {
		name   string
		mutate func([]manifest)
		want   string
	}{
		{"unknown WasmPlugin field", setSpec(mixed, func(s map[string]any) { s["failStrategey"] = "FAIL_CLOSE" }), `unknown field "failStrategey"`},
		{"bad phase name", setSpec(mixed, func(s map[string]any) { s["phase"] = "AUTHZN" }), "invalid value for enum"},
		{"fail open", setSpec(mixed, func(s map[string]any) { s["failStrategy"] = "FAIL_OPEN" }), "must FAIL_CLOSE"},
		{"stats phase", setSpec(mixed, func(s map[string]any) { s["phase"] = "STATS" }), "want AUTHN"},
		{"sha256 with a prefix", setSpec(mixed, func(s map[string]any) { s["sha256"] = "sha256:" + strings.Repeat("a", 64) }), "64 lower-case hex digits"},
		{"http url", setSpec(mixed, func(s map[string]any) { s["url"] = "https://example.com/plugin.wasm" }), "want an oci://"},
		{"selector and targetRefs", setSpec(mixed, func(s map[string]any) {
			s["targetRefs"] = []any{map[string]any{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "gw"}}
		}), "exactly one of selector or targetRefs"},
		{"pluginConfig typo", setSpec(mixed, func(s map[string]any) {
			pc := pluginConfig(s)
			pc["strip_request_header"] = pc["strip_request_headers"]
			delete(pc, "strip_request_headers")
		}), "strip_request_header"},
		{"pluginConfig integer as string", setSpec(mixed, func(s map[string]any) {
			basic := pluginConfig(s)["providers"].([]any)[1].(map[string]any)["basic"].(map[string]any)
			basic["cache"].(map[string]any)["ttl_seconds"] = "300"
		}), "ttl_seconds"},
		{"empty pluginConfig", setSpec(mixed, func(s map[string]any) { delete(s, "pluginConfig") }), "empty"},
		{"unknown ServiceEntry field", setSpec(se, func(s map[string]any) { s["resolutionn"] = "DNS" }), `unknown field "resolutionn"`},
		{"DestinationRule without TLS origination", setSpec(dr, func(s map[string]any) {
			s["trafficPolicy"].(map[string]any)["portLevelSettings"].([]any)[0].(map[string]any)["tls"] = map[string]any{"mode": "DISABLE"}
		}), "want SIMPLE"},
		{"DestinationRule for another host", setSpec(dr, func(s map[string]any) { s["host"] = "login.example.com" }), "no ServiceEntry here has that host"},
		{"JWKS through a cluster no ServiceEntry creates", setSpec(jwtWP, func(s map[string]any) {
			provider(s, "idp")["jwt"].(map[string]any)["remote_jwks"].(map[string]any)["cluster"] = "outbound|443||login.example.com"
		}), "which no ServiceEntry here creates"},
		{"JWKS on another host than the cluster's", setSpec(jwtWP, func(s map[string]any) {
			provider(s, "idp")["jwt"].(map[string]any)["remote_jwks"].(map[string]any)["uri"] = "https://login.example.com/jwks"
		}), "must be on the cluster's host idp.example.com"},
		{"JWKS uri that is not absolute", setSpec(jwtWP, func(s map[string]any) {
			provider(s, "idp")["jwt"].(map[string]any)["remote_jwks"].(map[string]any)["uri"] = "/realms/main/certs"
		}), "uri"},
		{"sidecar trusting XFCC as a gateway writes it", setSpec(mtlsWP, func(s map[string]any) {
			provider(s, "mesh")["mtls"].(map[string]any)["xfcc"] = "sanitize_set"
		}), "want append_forward or ignore"},
		{"sidecar plugin on outbound traffic too", setSpec(mtlsWP, func(s map[string]any) { delete(s, "match") }), "want match mode SERVER"},
		{"SPIFFE ID Istio does not issue", setSpec(mtlsWP, func(s map[string]any) {
			provider(s, "mesh")["mtls"].(map[string]any)["allow"].([]any)[0].(map[string]any)["spiffe"] = "spiffe://cluster.local/shop/*"
		}), "Istio issues spiffe://"},
		{"SPIFFE ID in a rule Istio does not issue", setSpec(mtlsWP, func(s map[string]any) {
			rule := pluginConfig(s)["rules"].([]any)[0].(map[string]any)
			rule["require"].(map[string]any)["peers"].([]any)[0].(map[string]any)["spiffe"] = "spiffe://cluster.local/sa/checkout"
		}), "Istio issues spiffe://"},
		{"gateway trusting XFCC as a sidecar writes it", setSpec(mixed, func(s map[string]any) {
			provider(s, "partners")["mtls"].(map[string]any)["xfcc"] = "append_forward"
		}), "want sanitize_set or ignore"},
		{"gateway server not asking for client certificates", setSpec(gw, func(s map[string]any) {
			s["servers"].([]any)[0].(map[string]any)["tls"].(map[string]any)["mode"] = "SIMPLE"
		}), "no Gateway here has a MUTUAL or OPTIONAL_MUTUAL server"},
		{"Gateway for another workload", setSpec(gw, func(s map[string]any) { s["selector"] = map[string]any{"istio": "egressgateway"} }),
			"no Gateway here has a MUTUAL or OPTIONAL_MUTUAL server"},
		{"unknown Gateway field", setSpec(gw, func(s map[string]any) { s["server"] = s["servers"] }), `unknown field "server"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := slices.Clone(ms)
			tt.mutate(cp)
			err := checkAll(cp)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("checkAll() = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
