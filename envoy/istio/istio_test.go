package istio_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
	return nil
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
	if kinds["WasmPlugin"] < 3 || kinds["ServiceEntry"] != 1 || kinds["DestinationRule"] != 1 {
		t.Errorf("kinds = %v; want 3 WasmPlugins (api_key, basic, mixed), a ServiceEntry and a DestinationRule", kinds)
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
	se := find("idp.yaml", "ServiceEntry")
	dr := find("idp.yaml", "DestinationRule")
	setSpec := func(i int, f func(spec map[string]any)) func([]manifest) {
		return func(ms []manifest) {
			var spec map[string]any
			json.Unmarshal(ms[i].Spec, &spec)
			f(spec)
			ms[i].Spec, _ = json.Marshal(spec)
		}
	}
	pluginConfig := func(spec map[string]any) map[string]any { return spec["pluginConfig"].(map[string]any) }
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
