//go:build wasip1

package abi

import (
	"runtime"
)

type streamState struct {
	s      Stream
	failed bool // a panic failed the stream; later callbacks pass through
	done   bool
}

var (
	roots = map[uint32]Root{}
	// The live streams: the newest one in newest, every other in streams.
	// A worker mostly runs one stream's callbacks to its end before the
	// next stream starts, so most streams never enter the map.
	newest struct {
		id uint32
		st *streamState
	}
	streams = map[uint32]*streamState{}
)

func addStream(id uint32, st *streamState) {
	if newest.st != nil && newest.id != id {
		streams[newest.id] = newest.st
	}
	delete(streams, id) // a context id the host reuses replaces its stream
	newest.id, newest.st = id, st
}

func lookupStream(id uint32) (*streamState, bool) {
	if newest.st != nil && newest.id == id {
		return newest.st, true
	}
	st, ok := streams[id]
	return st, ok
}

func removeStream(id uint32) {
	if newest.st != nil && newest.id == id {
		newest.st = nil
		return
	}
	delete(streams, id)
}

//go:wasmexport proxy_abi_version_0_2_1
func proxyABIVersion() {}

//go:wasmexport proxy_on_context_create
func proxyOnContextCreate(id, parent uint32) {
	defer func() { logPanic(recover(), "proxy_on_context_create") }()
	if parent == 0 {
		if newRoot == nil {
			Log(LogCritical, "wasm-authn: no root context registered")
			return
		}
		roots[id] = newRoot(id)
		return
	}
	r, ok := roots[parent]
	if !ok {
		return
	}
	st := spareState
	if st != nil {
		spareState = nil
	} else {
		st = &streamState{}
	}
	st.s = r.NewStream(id)
	addStream(id, st)
}

// spareState is the state of the latest deleted stream, for the next one.
var spareState *streamState

//go:wasmexport proxy_on_vm_start
func proxyOnVMStart(id, size uint32) (ok uint32) {
	defer func() {
		if logPanic(recover(), "proxy_on_vm_start") {
			ok = 0
		}
	}()
	readEnv()
	// Some hosts (the Go SDK's test emulator) pass root id 0 here; the VM
	// has nothing to start without a root, so that is not a failure.
	if r, found := roots[id]; found && !r.OnVMStart(int(size)) {
		return 0
	}
	return 1
}

//go:wasmexport proxy_on_configure
func proxyOnConfigure(id, size uint32) (ok uint32) {
	defer func() {
		if logPanic(recover(), "proxy_on_configure") {
			ok = 0
		}
		collect()
	}()
	r, found := roots[id]
	if !found || !r.OnConfigure(int(size)) {
		return 0
	}
	return 1
}

//go:wasmexport proxy_on_tick
func proxyOnTick(id uint32) {
	defer func() {
		logPanic(recover(), "proxy_on_tick")
		collect()
	}()
	if r, ok := roots[id]; ok {
		r.OnTick()
	}
}

//go:wasmexport proxy_on_http_call_response
func proxyOnHTTPCallResponse(id, token, numHeaders, bodySize, numTrailers uint32) {
	defer func() {
		logPanic(recover(), "proxy_on_http_call_response")
		collect()
	}()
	if r, ok := roots[id]; ok {
		r.OnHTTPCallResponse(token, int(numHeaders), int(bodySize), int(numTrailers))
	}
}

// streamCall runs f for stream id, failing the stream closed on a panic.
func streamCall(name string, id uint32, f func(Stream) Action) (action Action) {
	st, ok := lookupStream(id)
	if !ok {
		// A stream the plugin never created (no root for it): its request
		// was never judged, so it must not pass. Later callbacks of a
		// stream already answered pass through.
		if name == "proxy_on_request_headers" {
			Log(LogCritical, "wasm-authn: a request arrived on a stream without a plugin context")
			failClosed()
			return Pause
		}
		return Continue
	}
	if st.failed {
		return Continue
	}
	defer func() {
		if logPanic(recover(), name) {
			st.failed = true
			// The stream's own state is unknown: answer it here, with no
			// detail, and stop it.
			failClosed()
			action = Pause
		}
	}()
	return f(st.s)
}

// failClosed answers the current stream with a 500 without detail, or
// resets it if even that fails.
func failClosed() {
	if err := SendLocalResponse(500, "wasm_authn_internal_error",
		[]byte(`{"error":"internal_error","error_description":"the authentication filter failed"}`),
		[]Header{{"content-type", "application/json"}}, -1); err != nil {
		_ = CloseStream(StreamRequest)
	}
}

//go:wasmexport proxy_on_request_headers
func proxyOnRequestHeaders(id, numHeaders, endOfStream uint32) uint32 {
	return uint32(streamCall("proxy_on_request_headers", id, func(s Stream) Action {
		return s.OnRequestHeaders(int(numHeaders), endOfStream != 0)
	}))
}

//go:wasmexport proxy_on_request_body
func proxyOnRequestBody(id, size, endOfStream uint32) uint32 {
	return uint32(streamCall("proxy_on_request_body", id, func(s Stream) Action {
		return s.OnRequestBody(int(size), endOfStream != 0)
	}))
}

//go:wasmexport proxy_on_request_trailers
func proxyOnRequestTrailers(id, n uint32) uint32 {
	return uint32(streamCall("proxy_on_request_trailers", id, func(s Stream) Action {
		return s.OnRequestTrailers(int(n))
	}))
}

//go:wasmexport proxy_on_response_headers
func proxyOnResponseHeaders(id, numHeaders, endOfStream uint32) uint32 {
	return uint32(streamCall("proxy_on_response_headers", id, func(s Stream) Action {
		return s.OnResponseHeaders(int(numHeaders), endOfStream != 0)
	}))
}

//go:wasmexport proxy_on_response_body
func proxyOnResponseBody(id, size, endOfStream uint32) uint32 {
	return uint32(streamCall("proxy_on_response_body", id, func(s Stream) Action {
		return s.OnResponseBody(int(size), endOfStream != 0)
	}))
}

//go:wasmexport proxy_on_response_trailers
func proxyOnResponseTrailers(id, n uint32) uint32 {
	return uint32(streamCall("proxy_on_response_trailers", id, func(s Stream) Action {
		return s.OnResponseTrailers(int(n))
	}))
}

func finishStream(name string, id uint32) {
	st, ok := lookupStream(id)
	if !ok || st.done {
		return
	}
	st.done = true
	defer func() { logPanic(recover(), name) }()
	st.s.OnDone()
}

//go:wasmexport proxy_on_log
func proxyOnLog(id uint32) {
	finishStream("proxy_on_log", id)
}

//go:wasmexport proxy_on_done
func proxyOnDone(id uint32) uint32 {
	if _, ok := lookupStream(id); ok {
		finishStream("proxy_on_done", id)
	}
	return 1
}

//go:wasmexport proxy_on_delete
func proxyOnDelete(id uint32) {
	if st, ok := lookupStream(id); ok {
		finishStream("proxy_on_delete", id)
		removeStream(id)
		if rc, ok := st.s.(Recycler); ok && !st.failed {
			func() {
				defer func() { logPanic(recover(), "proxy_on_delete") }()
				rc.Recycle()
			}()
		}
		*st = streamState{}
		spareState = st
		collectAfterStream()
		return
	}
	delete(roots, id)
	collect()
}

// logPanic logs a panic recovered at the ABI boundary at critical, without
// the panic value, which could hold request data. It reports whether there
// was a panic. Use it as defer func() { logPanic(recover(), name) }().
func logPanic(v any, callback string) bool {
	if v == nil {
		return false
	}
	msg := "wasm-authn: internal error in " + callback
	if re, ok := v.(runtime.Error); ok {
		msg += ": " + re.Error()
	}
	Log(LogCritical, msg)
	return true
}
