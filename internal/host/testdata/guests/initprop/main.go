//go:build wasip1

// Command initprop calls proxy_get_property from init(), which runs inside _initialize: Envoy
// traps it ("restricted_callback") and the VM fails to start.
package main

import "github.com/wasm-authn/wasm-authn/internal/host/testdata/guests/internal/abi"

func main() {}

func init() {
	abi.Info("initprop: init runs")
	abi.GetProperty("plugin_name")
	abi.Info("initprop: not reached")
}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func alloc(size uint32) *byte { return abi.Alloc(size) }

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 { return 1 }
