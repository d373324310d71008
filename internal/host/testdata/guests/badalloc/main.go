//go:build wasip1

// Command badalloc calls WASI random_get from inside its allocator once armed (after
// proxy_on_configure): not on the allocator allowlist, so Envoy traps with "restricted_callback"
// the first time the host copies data into the guest.
package main

import (
	"unsafe"

	"github.com/wasm-authn/wasm-authn/internal/host/testdata/guests/internal/abi"
)

func main() {}

//go:wasmimport wasi_snapshot_preview1 random_get
func randomGet(buf unsafe.Pointer, size uint32) uint32

var armed bool

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func alloc(size uint32) *byte {
	if armed {
		var b [8]byte
		randomGet(unsafe.Pointer(&b[0]), 8)
	}
	return abi.Alloc(size)
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 {
	abi.GetBuffer(abi.PluginConfiguration, 0, size) // allocates while not armed: fine
	armed = true
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	abi.GetHeader(abi.RequestHeaders, ":path") // the host allocates: trap
	return 0
}
