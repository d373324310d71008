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
// TestEnvoy133ModuleFailsToLoad for the older host).
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

// Why Envoy 1.33-1.38 is not supported, under the envoy-1.33-1.38 profile.
// Those hosts lack the WASI calls proxy-wasm-cpp-host added in PR #533, and
// the module imports one of them (path_filestat_get, through Go's os
// package, which crypto/x509 brings in with golang-jwt): Envoy refuses to
// load it. Even a module without that import could not run there: every
// garbage collection ends in startTheWorld, which polls the network poller
// with a zero timeout, a poll_oneoff call those hosts fail with ENOSYS, and
// the Go runtime throws (golang/go#78513).
func TestEnvoy133ModuleFailsToLoad(t *testing.T) {
	_, err := NewEnvoyHost(t, host.Config{PluginConfig: suiteConfig(t), Profile: host.ProfileEnvoy133, SkipCanary: true})
	if err == nil {
		t.Fatal("the plugin started under envoy-1.33-1.38; want a missing import")
	}
	if !strings.Contains(err.Error(), "missing import") || !strings.Contains(err.Error(), "path_filestat_get") {
		t.Fatalf("error %v does not name the missing WASI import", err)
	}
	// The same module, configuration and collection stress start under
	// envoy-1.39+.
	if _, err := NewEnvoyHost(t, host.Config{PluginConfig: suiteConfig(t), SkipCanary: true,
		Env: map[string]string{"WASM_AUTHN_GC_STRESS": "1"}}); err != nil {
		t.Fatal(err)
	}
}
