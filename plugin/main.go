//go:build wasip1

// Command plugin is the wasm-authn proxy-wasm module. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o build/wasm-authn.wasm ./plugin
//
// It is a WASI reactor: the host calls _initialize (which runs init below)
// and then the proxy-wasm callbacks. main never runs.
package main

import (
	"github.com/wasm-authn/wasm-authn/internal/abi"
	"github.com/wasm-authn/wasm-authn/internal/filter"
)

func main() {}

func init() {
	// No host call but proxy_log is allowed here (Envoy traps the rest).
	abi.SetRootFactory(filter.NewRoot)
}
