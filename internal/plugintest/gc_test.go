package plugintest

import (
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// With WASM_AUTHN_GC_STRESS=1 the plugin runs a full collection, and churns
// the heap, between every host call that handed it host-filled memory and
// its first read of that memory. If the allocator did not keep such buffers
// reachable, the collector would free them and the churn would overwrite
// them: header values, configuration bytes and properties would be garbage
// and the scenarios would fail. The host enforces Envoy's allowlists inside
// the allocator and at start-up under both profiles, so the test also shows
// that no collection runs where it would trap. Profile: envoy-1.39+ (see
// TestEnvoy133CollectionFailsVM for the older host).
func TestHostMemoryReachableUnderGCStress(t *testing.T) {
	for _, p := range Profiles[:1] {
		t.Run(p.Name, func(t *testing.T) {
			e, err := NewEnvoyHost(t, host.Config{
				PluginConfig: suiteConfig(t),
				Profile:      p.Profile,
				Env:          map[string]string{"WASM_AUTHN_GC_STRESS": "1"},
			})
			if err != nil {
				t.Fatal(err)
			}
			for round := 0; round < 3; round++ {
				for _, sc := range coreScenarios() {
					r := e.Do(sc.req)
					t.Run(sc.name, func(t *testing.T) { checkScenario(t, sc, r) })
				}
			}
			for i := 0; i < e.NumVMs(); i++ {
				if e.VM(i).Failed() {
					t.Fatalf("VM %d failed: %s", i, e.VM(i).FailureMessage())
				}
			}
			if strings.Contains(e.CriticalLogs(), "internal error") {
				t.Fatalf("plugin errors: %s", e.CriticalLogs())
			}
		})
	}
}

// Why Envoy 1.33-1.38 is not supported, under the envoy-1.33-1.38 profile:
// every garbage collection ends in startTheWorld, which polls the network
// poller with a zero timeout; on wasip1 that is a poll_oneoff call, which
// those hosts fail with ENOSYS, and the Go runtime throws (golang/go#78513).
// The module links and serves there until its first collection, which
// fails the worker's VM; Envoy then fails every stream closed (503
// wasm_fail_stream).
func TestEnvoy133CollectionFailsVM(t *testing.T) {
	start := func(env map[string]string) *EnvoyHost {
		e, err := NewEnvoyHost(t, host.Config{PluginConfig: suiteConfig(t), Profile: host.ProfileEnvoy133, SkipCanary: true, Env: env})
		if err != nil {
			t.Fatalf("the module does not start: %v", err)
		}
		return e
	}
	ok := Get(apiHost, "/things", h("x-api-key", aliceKey))
	if r := start(nil).Do(ok); !r.Allowed() {
		t.Fatalf("before any collection: status %d; want allowed", r.Status())
	}
	// WASM_AUTHN_GC_STRESS makes the first request collect.
	e := start(map[string]string{"WASM_AUTHN_GC_STRESS": "1"})
	r := e.Do(ok)
	if r.Local == nil || r.Local.Status != 503 || r.Local.Details != "wasm_fail_stream" {
		t.Fatalf("after a collection: %+v; want the host's fail-closed 503", r.Local)
	}
	if !e.VM(0).Failed() || !strings.Contains(e.VM(0).FailureMessage()+strings.Join(e.Logs(), "\n"), "poll_oneoff") {
		t.Fatalf("VM failed=%v: %s", e.VM(0).Failed(), e.VM(0).FailureMessage())
	}
	if r := e.Do(ok); r.Status() != 503 {
		t.Fatalf("next request on the failed VM: %d; want 503", r.Status())
	}
}
