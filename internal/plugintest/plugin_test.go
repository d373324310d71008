package plugintest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// A bad configuration fails proxy_on_configure: the host refuses the plugin
// (Envoy rejects the config), and the critical log names every problem by
// its JSON path. Under both hosts.
func TestBadConfigurationFailsConfigure(t *testing.T) {
	tests := []struct {
		name  string
		cfg   string
		paths []string
	}{
		{"empty (Istio's empty pluginConfig is 0 bytes)", "", []string{"$: the configuration is empty"}},
		{"unknown field and bad reference", `{"rules":[{"name":"a","require":{"provider":"nope"}}],"rulez":1}`,
			[]string{"$.rules[0].require.provider: names no provider", "$.rulez: unknown field"}},
		{"wrong type", `{"rules":"all"}`, []string{"$.rules: must be an array"}},
		{"malformed JSON", `{"rules":[`, []string{"$: invalid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs []string
			_, err := NewEnvoyHost(t, host.Config{PluginConfig: []byte(tt.cfg), SkipCanary: true, LogSink: func(l host.Log) {
				if l.Level == host.LogCritical {
					logs = append(logs, l.Message)
				}
			}})
			if err == nil {
				t.Fatal("the host started the plugin; want on_configure to fail")
			}
			joined := strings.Join(logs, "\n")
			for _, p := range tt.paths {
				if !strings.Contains(joined, p) {
					t.Errorf("critical logs %q lack %q", joined, p)
				}
			}
			if _, err := NewSDKHost(t, []byte(tt.cfg)); err == nil {
				t.Errorf("SDK host: configure succeeded; want failure")
			} else {
				for _, p := range tt.paths {
					if !strings.Contains(err.Error(), p) {
						t.Errorf("SDK host: %v lacks %q", err, p)
					}
				}
			}
		})
	}
}

// Istio turns pluginConfig (a protobuf Struct) into compact JSON whose
// numbers are doubles; the plugin receives exactly what protojson prints.
// Large whole numbers print in exponent form, which the plugin accepts.
func TestIstioStyleConfiguration(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal(suiteConfig(t), &v); err != nil {
		t.Fatal(err)
	}
	st, err := structpb.NewStruct(v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `"max_entries":128`, `"max_entries":1.28e+02`, 1))
	if !strings.Contains(string(b), `1.28e+02`) {
		t.Fatalf("could not rewrite max_entries in %s", b)
	}
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: b, SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Do(Get(apiHost, "/things", h("authorization", basic("alice", alicePass)))); !r.Allowed() {
		t.Fatalf("status %d", r.Status())
	}
}

// A panic inside a callback never reaches the runtime: the stream gets a
// 500 with no detail, the VM survives and serves the next request, and the
// critical log names the callback without request data. The panic is
// triggered by a hook compiled only into a test build.
func TestPanicFailsStreamClosed(t *testing.T) {
	e, err := NewEnvoyHost(t, host.Config{Module: ModuleWithTags(t, "wasmauthn_panictest"), PluginConfig: suiteConfig(t), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	r := e.Do(Get(apiHost, "/things", h("x-api-key", aliceKey), h("x-wasm-authn-test-panic", "1")))
	if r.Local == nil || r.Local.Status != 500 {
		t.Fatalf("panicking request: %+v; want a local 500", r)
	}
	if strings.Contains(string(r.Local.Body), aliceKey) || strings.Contains(string(r.Local.Body), "nil map") {
		t.Fatalf("500 body leaks detail: %s", r.Local.Body)
	}
	if e.VM(0).Failed() {
		t.Fatalf("VM failed: %s", e.VM(0).FailureMessage())
	}
	if !strings.Contains(e.CriticalLogs(), "internal error in proxy_on_request_headers") {
		t.Fatalf("critical logs: %q", e.CriticalLogs())
	}
	if r := e.Do(Get(apiHost, "/things", h("x-api-key", aliceKey))); !r.Allowed() {
		t.Fatalf("next request: %d; want allowed", r.Status())
	}
}

// A request on a stream the plugin has no context for (its
// proxy_on_context_create named a root the plugin does not know) was never
// judged: it is answered with a 500, not let through.
func TestStreamWithoutContextFailsClosed(t *testing.T) {
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: suiteConfig(t), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	s := e.VM(0).NewStreamUnderRoot(host.Connection{}, 9999)
	s.RequestHeaders(Get(apiHost, "/things", h("x-api-key", aliceKey)).Headers, true)
	lr := s.LocalReply()
	s.Close()
	if lr == nil || lr.Status != 500 || s.RequestForwarded() {
		t.Fatalf("local reply %+v, forwarded %v; want a local 500", lr, s.RequestForwarded())
	}
	if strings.Contains(string(lr.Body), aliceKey) {
		t.Fatalf("500 body leaks the key: %s", lr.Body)
	}
	if !strings.Contains(e.CriticalLogs(), "a request arrived on a stream without a plugin context") {
		t.Fatalf("critical logs: %q", e.CriticalLogs())
	}
	if e.VM(0).Failed() {
		t.Fatalf("VM failed: %s", e.VM(0).FailureMessage())
	}
	if r := e.Do(Get(apiHost, "/things", h("x-api-key", aliceKey))); !r.Allowed() {
		t.Fatalf("next request: %d; want allowed", r.Status())
	}
}

// With DropLogsBelowLevel the host drops the plugin's debug lines at the
// default info level, as Envoy does; by default it keeps them for tests.
func TestHostDropsLogsBelowLevel(t *testing.T) {
	for _, drop := range []bool{false, true} {
		e, err := NewEnvoyHost(t, host.Config{PluginConfig: suiteConfig(t), SkipCanary: true, DropLogsBelowLevel: drop})
		if err != nil {
			t.Fatal(err)
		}
		e.Do(Get(apiHost, "/things", h("x-api-key", "wrong-key-000000000")))
		debug := 0
		for _, l := range e.Host.Logs() {
			if l.Level == host.LogDebug {
				debug++
			}
		}
		if drop != (debug == 0) {
			t.Fatalf("DropLogsBelowLevel %v: %d debug lines kept", drop, debug)
		}
	}
}

// The metric names are a fixed set defined at configuration.
func TestMetricNames(t *testing.T) {
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: suiteConfig(t), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.Metrics())
	for _, sc := range coreScenarios() {
		e.Do(sc.req)
	}
	names := e.Metrics()
	if len(names) != before {
		t.Fatalf("requests defined new metrics: %d -> %d", before, len(names))
	}
	for _, want := range []string{"wasm_authn.allowed", "wasm_authn.denied.no_rule", "wasm_authn.provider.keys.success",
		"wasm_authn.provider.keys.failure.invalid_credential", "wasm_authn.provider.staff.cache_hit", "wasm_authn.provider.staff.cache_miss"} {
		if _, ok := names[want]; !ok {
			t.Errorf("metric %s not defined", want)
		}
	}
	for n := range names {
		for _, s := range secrets {
			if strings.Contains(n, s) {
				t.Errorf("metric name %q holds a secret", n)
			}
		}
	}
}
