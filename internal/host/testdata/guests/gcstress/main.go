//go:build wasip1

// Command gcstress forces garbage collections in every callback and inside its allocator, and
// keeps a fair amount of garbage around, to show whether the Go runtime's host calls during a GC
// stay within the allowlists (start-up and allocator) of a profile.
package main

import (
	"runtime"

	"github.com/wasm-authn/wasm-authn/internal/host/testdata/guests/internal/abi"
)

func main() {}

var (
	allocs  int
	garbage [][]byte
)

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func alloc(size uint32) *byte {
	allocs++
	if allocs%4 == 0 {
		runtime.GC()
	}
	return abi.Alloc(size)
}

func churn() {
	for i := 0; i < 64; i++ {
		garbage = append(garbage, make([]byte, 4096))
	}
	if len(garbage) > 1024 {
		garbage = nil
	}
	runtime.GC()
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) { churn() }

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 {
	churn()
	abi.GetBuffer(abi.PluginConfiguration, 0, size)
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	churn()
	hs, _, _ := abi.GetHeaders(abi.RequestHeaders)
	for _, h := range hs {
		abi.GetHeader(abi.RequestHeaders, h[0])
	}
	abi.GetProperty("request", "path")
	abi.AddHeader(abi.RequestHeaders, "x-gc", abi.Itoa(uint64(len(hs))))
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	churn()
	return 0
}

//go:wasmexport proxy_on_log
func onLog(id uint32) { churn() }
