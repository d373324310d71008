// Package host is a proxy-wasm ABI v0.2.1 host that behaves like Envoy's Wasm HTTP filter
// (Envoy with proxy-wasm-cpp-host and the V8 runtime), built on wazero.
//
// It loads a plugin compiled as a WASI reactor (for example with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared), starts it the way Envoy does
// (a canary VM that validates the configuration and is then discarded, followed by one VM per
// worker), and drives HTTP streams through it with Envoy's filter-chain semantics: the
// return-value mapping of each callback, deferred proxy_continue_stream and
// proxy_send_local_response, header-map availability per phase, the restricted host-call
// allowlists during start-up and inside the guest allocator, the fail-closed 503
// "wasm_fail_stream" after a trap, and so on.
//
// The host is a library. A Host owns the compiled module and its worker VMs; a VM runs one
// module instance and, like an Envoy worker thread, executes one guest call at a time; a Stream
// is one HTTP request/response exchange on a VM. Tests drive a Stream event by event
// (RequestHeaders, RequestBody, ...), while VM.RoundTrip runs a whole exchange in front of an
// http.Handler the way Envoy's filter chain and router would.
//
// Outbound calls (proxy_http_call) go to real HTTP servers: Config.Clusters maps an Envoy cluster
// name to a base URL. Responses are delivered to proxy_on_http_call_response on the VM that made
// the call, serialised with every other call on that VM.
//
// Two WASI profiles model the host-call sets of different Envoy releases: ProfileEnvoy139
// (proxy-wasm-cpp-host after PR #533, every WASI function the Go runtime imports) and
// ProfileEnvoy133 (the PR #427 set of Envoy 1.33 to 1.38, where poll_oneoff fails with ENOSYS).
// Behaviour that could not be confirmed against Envoy's source is marked UNCONFIRMED where it is
// modelled.
package host
