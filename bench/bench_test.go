package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
	"github.com/wasm-authn/wasm-authn/internal/plugintest"
)

// Secrets of the benchmark configuration. carol's hash is bcrypt at cost 10,
// made by htpasswd -nbB -C 10 (apache2-utils).
const (
	benchKey   = "bench-key-0000000001"
	carolHash  = `carol:$2y$10$Og/grta2OEuNlSSDbU7lpOkD/3./9.zFcrOGjvm58BEHTdCHbCFIi`
	carolCreds = "carol:slow-hash"
)

func digest(k string) string {
	s := sha256.Sum256([]byte(k))
	return hex.EncodeToString(s[:])
}

// benchConfig has a pass-through rule, an API-key rule with nKeys keys and
// two Basic rules, cached and uncached.
func benchConfig(nKeys int) []byte {
	var keys []string
	keys = append(keys, fmt.Sprintf(`{"sha256":%q,"consumer":"bench"}`, digest(benchKey)))
	for i := 1; i < nKeys; i++ {
		keys = append(keys, fmt.Sprintf(`{"sha256":%q,"consumer":"c%d"}`, digest(fmt.Sprintf("other-key-%012d", i)), i))
	}
	return []byte(`{"providers":[
		{"name":"keys","api_key":{"keys":[` + strings.Join(keys, ",") + `]}},
		{"name":"cached","basic":{"htpasswd":"` + carolHash + `"}},
		{"name":"uncached","basic":{"htpasswd":"` + carolHash + `","cache":{"max_entries":0}}}],
	"rules":[
		{"name":"open","match":{"path":{"prefix":"/open/"}},"allow_anonymous":true},
		{"name":"cached","match":{"path":{"prefix":"/cached/"}},"require":{"provider":"cached"}},
		{"name":"uncached","match":{"path":{"prefix":"/uncached/"}},"require":{"provider":"uncached"}},
		{"name":"api","match":{"path":{"prefix":"/api/"}},"require":{"provider":"keys"}}]}`)
}

// apiKeyConfig has one API-key provider with n keys and one rule.
func apiKeyConfig(nKeys int) []byte {
	keys := make([]string, nKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf(`{"sha256":%q,"consumer":"c%d"}`, digest(fmt.Sprintf("other-key-%012d", i)), i)
	}
	return []byte(`{"providers":[{"name":"keys","api_key":{"keys":[` + strings.Join(keys, ",") +
		`]}}],"rules":[{"name":"api","require":{"provider":"keys"}}]}`)
}

func get(path string, extra ...[2]string) plugintest.Request {
	return plugintest.Get("bench.example.com", path, append([][2]string{{"user-agent", "bench"}, {"accept", "*/*"}, {"x-request-id", "0f4b7f0e-6a2d-4f65-9c7e-2f9f2b8c1d00"}}, extra...)...)
}

func startHost(b *testing.B, nKeys int) *host.VM {
	b.Helper()
	e, err := plugintest.NewEnvoyHost(b, host.Config{PluginConfig: benchConfig(nKeys), SkipCanary: true, DropLogsBelowLevel: true})
	if err != nil {
		b.Fatal(err)
	}
	return e.VM(0)
}

func run(b *testing.B, vm *host.VM, req plugintest.Request, wantAllowed bool) {
	b.Helper()
	if r := plugintest.DoOn(vm, host.Connection{}, req); r.Allowed() != wantAllowed {
		b.Fatalf("request allowed=%v (%d); want %v", r.Allowed(), r.Status(), wantAllowed)
	}
	b.ReportAllocs()
	for b.Loop() {
		plugintest.DoOn(vm, host.Connection{}, req)
	}
}

// BenchmarkRequest measures one whole stream (create, request headers, log,
// done, delete) through the real .wasm. "floor" is a pass-through rule:
// the plugin reads and routes the request but needs no credential. Every
// other request alternates with the floor in the same loop (see
// interleave), so that its ratio to the floor does not take in the
// machine's drift between two benchmarks; only the uncached bcrypt
// request, whose ratio says nothing, runs alone.
func BenchmarkRequest(b *testing.B) {
	vm := startHost(b, 1)
	floor := get("/open/x")
	basicHeader := [2]string{"authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(carolCreds))}
	withFloor := func(vm *host.VM, req plugintest.Request, allowed bool) func(*testing.B) {
		return func(b *testing.B) {
			interleave(b, []step{{"req", expect(b, vm, req, allowed)}, {"floor", expect(b, vm, floor, true)}})
		}
	}
	b.Run("floor", func(b *testing.B) { run(b, vm, floor, true) })
	b.Run("api_key", withFloor(vm, get("/api/x", [2]string{"x-api-key", benchKey}), true))
	b.Run("api_key_denied", withFloor(vm, get("/api/x", [2]string{"x-api-key", "wrong-key-000000000"}), false))
	b.Run("basic_cached_bcrypt10", withFloor(vm, get("/cached/x", basicHeader), true))
	b.Run("basic_uncached_bcrypt10", func(b *testing.B) { run(b, vm, get("/uncached/x", basicHeader), true) })
	vm10k := startHost(b, 10000)
	b.Run("api_key_10000_keys", withFloor(vm10k, get("/api/x", [2]string{"x-api-key", benchKey}), true))
}

// expect checks that req is allowed (or denied) on vm and returns a step
// sending it.
func expect(b *testing.B, vm *host.VM, req plugintest.Request, allowed bool) func() {
	b.Helper()
	if r := plugintest.DoOn(vm, host.Connection{}, req); r.Allowed() != allowed {
		b.Fatalf("request allowed=%v (%d); want %v", r.Allowed(), r.Status(), allowed)
	}
	return func() { plugintest.DoOn(vm, host.Connection{}, req) }
}

// BenchmarkStartVM measures starting a worker VM from the compiled module
// and configuring it: instantiation, _initialize, proxy_on_vm_start and
// proxy_on_configure with n API keys, as Envoy does per worker thread.
func BenchmarkStartVM(b *testing.B) {
	mod := plugintest.Module(b)
	for _, n := range []int{1, 10000} {
		cfg := apiKeyConfig(n)
		b.Run(fmt.Sprintf("%d_keys", n), func(b *testing.B) {
			h, err := host.New(context.Background(), host.Config{Module: mod, PluginConfig: cfg, SkipCanary: true, DropLogsBelowLevel: true})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.AddWorker(); err != nil {
					b.Fatal(err)
				}
				h.CloseWorker()
			}
			b.ReportMetric(float64(len(cfg)), "config-bytes")
		})
	}
}

// BenchmarkModuleSize reports the size of the .wasm.
func BenchmarkModuleSize(b *testing.B) {
	mod := plugintest.Module(b)
	for b.Loop() {
	}
	b.ReportMetric(float64(len(mod)), "wasm-bytes")
}
