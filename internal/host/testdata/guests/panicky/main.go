//go:build wasip1

// Command panicky panics in proxy_on_request_headers when the path is "/panic": the Go runtime
// turns the panic into an "unreachable" trap, which fails the VM.
package main

import "github.com/wasm-authn/wasm-authn/internal/host/testdata/guests/internal/abi"

func main() {}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func alloc(size uint32) *byte { return abi.Alloc(size) }

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	path, _ := abi.GetHeader(abi.RequestHeaders, ":path")
	if path == "/panic" {
		panic("panicky: boom")
	}
	abi.AddHeader(abi.RequestHeaders, "x-panicky", "passed")
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	abi.AddHeader(abi.ResponseHeaders, "x-panicky-response", "yes")
	return 0
}

//go:wasmexport proxy_on_log
func onLog(id uint32) { abi.Info("panicky: on_log") }
