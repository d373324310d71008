//go:build wasip1 && wasmauthn_panictest

package filter

import "github.com/wasm-authn/wasm-authn/internal/authn"

// In test builds only (-tags wasmauthn_panictest), a request carrying
// x-wasm-authn-test-panic panics inside the stream callback, to prove that
// the ABI boundary recovers and fails that stream closed.
func init() {
	testPanic = func(req *authn.Request) {
		if len(req.Values("x-wasm-authn-test-panic")) > 0 {
			var m map[string]int
			m["boom"]++ // nil map write: a runtime error
		}
	}
}
