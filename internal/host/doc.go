// Package host is a proxy-wasm ABI v0.2.1 host that behaves like Envoy's Wasm HTTP filter
// (Envoy with proxy-wasm-cpp-host and the V8 runtime), built on wazero.
//
// It loads a plugin compiled as a WASI reactor (for example with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared), starts it the way Envoy does, and drives
// HTTP streams through it with Envoy's filter-chain semantics.
//
// # Shape
//
// A Host owns the compiled module, its worker VMs, its metrics, shared data and logs. New starts a
// throw-away base VM (_initialize only) and a canary VM (the whole start-up sequence), as Envoy
// does to validate a plugin, then Config.Workers worker VMs. A VM runs one module instance and,
// like an Envoy worker thread, one guest call at a time; Go globals in the plugin are per VM. A
// Stream is one HTTP exchange on a VM, driven event by event (RequestHeaders, RequestBody, ...,
// Close); VM.RoundTrip runs a whole exchange in front of an http.Handler the way the filter chain
// and router would, and Host.Handler wraps that into an http.Handler for a local gateway.
//
// proxy_http_call goes to real HTTP servers: Config.Clusters maps an Envoy cluster name to a base
// URL. The response is delivered to proxy_on_http_call_response on the root context of the VM
// that made the call, serialised with every other call on that VM, possibly after the stream that
// made the call is gone.
//
// # What is modelled
//
//   - Loading: the ABI from the first proxy_abi_version_* export in export order (0.2.0 and 0.2.1
//     run; 0.1.0 is refused); "malloc" before "proxy_on_memory_allocate"; a missing import or an
//     import signature other than cpp-host's is a load error with Envoy's message.
//   - Start-up: _initialize then main or __main_void (a reactor), or _start (a command), under the
//     start-up allowlist; then proxy_on_context_create(root, 0), proxy_on_vm_start and
//     proxy_on_configure. Context ids count from 1 and are never reused. The plugin configuration
//     (buffer 7) exists only during proxy_on_configure.
//   - Restricted callbacks: during start-up and inside every host-to-guest allocation only the
//     profile's allowlist may be called; anything else traps with "restricted_callback"
//     (RestrictedCallbackError names the import) and fails the VM.
//   - Streams: lazy proxy_on_context_create; Envoy's conversion of every callback's return value;
//     proxy_continue_stream and proxy_send_local_response as after-VM-call actions; a local reply
//     forces a stop and passes through this filter's response callbacks; body buffering
//     (StopIterationAndBuffer, ...AndWatermark, ...NoBuffer) and data held while a header callback
//     stopped everything, replayed through the filter on continue; header maps mutable only while
//     the filter holds them; access-log copies in proxy_on_log; proxy_on_log, proxy_on_done,
//     proxy_on_delete at Close.
//   - Failure: a trap in any callback fails the VM; later callbacks are skipped; streams get a
//     local 503 "wasm_fail_stream" (FailClosed), pass through (FailOpen), or the VM is reloaded
//     (FailReload).
//   - Properties: the CEL paths Envoy exposes, with its encodings (see Connection and TLSInfo for
//     the connection and TLS properties; Envoy exposes only the first URI and DNS SAN).
//   - Shared data (SharedStore), metrics, ticks, logs (proxy_log, and WASI fd 1 and 2), the WASI
//     set of each Profile with cpp-host's return codes, foreign functions (VerifySignature is
//     Envoy's verify_signature).
//
// # Differences and UNCONFIRMED behaviour
//
//   - Wait and RoundTrip return ErrVMFailed when the VM fails while a stream is stopped; Envoy
//     would keep such a stream until a timeout.
//   - A callout to a cluster whose server refuses the connection gets a synthesized 503 response
//     ("upstream connect error ..."), as Envoy's async client does; a response cut after its
//     headers is a failure (0 headers, 0 bytes, 0 trailers). A callout timeout is a synthesized
//     504 "upstream request timeout". Exact wording UNCONFIRMED.
//   - proxy_continue_stream called in the very callback that then returns Pause continues the
//     stream once the callback returned (Envoy asserts in debug builds).
//   - Local replies carry content-length (also "0") and, with a body, content-type text/plain
//     (UNCONFIRMED for the empty body). A local reply after response headers arrived replaces the
//     response without calling the response callbacks again (UNCONFIRMED).
//   - x-request-id and x-forwarded-proto are added by RoundTrip before the filter runs, as the
//     connection manager does (UNCONFIRMED set and order).
//   - Missing SAN / peer digest: SerializationFailure (3) by default, as the fact sheet's Envoy
//     source says; current Envoy main returns NotFound (1) and adds connection.peer_certificate
//     (Config.NewerSSLProperties).
//   - gRPC callouts and shared queues are not modelled (Unimplemented).
package host
