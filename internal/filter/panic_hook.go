//go:build wasip1 && wasmauthn_panictest

package filter

// In test builds only (-tags wasmauthn_panictest), a request carrying
// x-wasm-authn-test-panic panics inside the stream callback, to prove that
// the ABI boundary recovers and fails that stream closed.
func init() {
	testPanic = func(req headerLister) {
		for _, h := range req.list() {
			if h == "x-wasm-authn-test-panic" {
				var m map[string]int
				m["boom"]++ // nil map write: a runtime error
			}
		}
	}
}
