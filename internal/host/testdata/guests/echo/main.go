//go:build wasip1

// Command echo is a well-behaved test guest that does what an auth plugin does: it reads headers
// and properties, adds request headers, denies one path with a local reply, pauses requests under
// a prefix while it asks a cluster, resumes or denies on the answer, and keeps metrics, shared
// data and a tick. Its plugin configuration is "key=value" lines: cluster, deny, callout,
// timeout, tick.
package main

import (
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/host/testdata/guests/internal/abi"
)

func main() {}

var (
	cfg                                       = map[string]string{}
	requests, active, bodyBytes, ticks, calls uint32
	pending                                   = map[uint32]uint32{} // token -> stream context
)

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func alloc(size uint32) *byte { return abi.Alloc(size) }

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_vm_start
func onVMStart(id, size uint32) uint32 {
	vmcfg, _ := abi.GetBuffer(abi.VMConfiguration, 0, size)
	abi.Info("echo vm_start vm_config=" + string(vmcfg))
	return 1
}

func atoi(s string) uint32 {
	var n uint32
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint32(c-'0')
	}
	return n
}

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 {
	raw, _ := abi.GetBuffer(abi.PluginConfiguration, 0, size)
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			cfg[k] = v
		}
	}
	if cfg["reject"] == "yes" {
		abi.Log(5, "echo: configuration rejected")
		return 0
	}
	requests, _ = abi.DefineMetric(0, "echo_requests_total")
	active, _ = abi.DefineMetric(1, "echo_active")
	bodyBytes, _ = abi.DefineMetric(2, "echo_body_bytes")
	ticks, _ = abi.DefineMetric(0, "echo_ticks_total")
	calls, _ = abi.DefineMetric(0, "echo_callouts_total")
	if t := atoi(cfg["tick"]); t > 0 {
		abi.SetTickPeriod(t)
	}
	// Count configured VMs across workers with a CAS loop on shared data.
	for i := 0; i < 10; i++ {
		v, cas, _ := abi.GetSharedData("echo_configured")
		n := atoi(string(v)) + 1
		if abi.SetSharedData("echo_configured", []byte(abi.Itoa(uint64(n))), cas) == 0 {
			break
		}
	}
	abi.Info("echo configured")
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	abi.IncrementMetric(requests, 1)
	abi.IncrementMetric(active, 1)
	path, _ := abi.GetHeader(abi.RequestHeaders, ":path")
	if d := cfg["deny"]; d != "" && path == d {
		abi.SendLocalResponse(403, "echo denied", []byte("denied by echo"), [][2]string{{"X-Echo-Denied", "1"}}, -1)
		return 0 // ignored: a local reply stops iteration
	}
	if p := cfg["callout"]; p != "" && strings.HasPrefix(path, p) {
		token, st := abi.HTTPCall(cfg["cluster"], [][2]string{
			{":method", "GET"}, {":path", "/check?path=" + path}, {":authority", "auth.local"},
			{"x-echo-context", abi.Itoa(uint64(id))},
		}, nil, atoi(cfg["timeout"]))
		if st != 0 {
			abi.Log(4, "echo: http_call failed with status "+abi.Itoa(uint64(st)))
			abi.SendLocalResponse(500, "echo callout failed", nil, nil, -1)
			return 1
		}
		abi.IncrementMetric(calls, 1)
		pending[token] = id
		return 1 // Pause: StopAllIterationAndWatermark until the callout answers
	}
	src, _ := abi.GetProperty("source", "address")
	p, _ := abi.GetProperty("request", "path")
	abi.AddHeader(abi.RequestHeaders, "X-Echo-Source", string(src))
	abi.AddHeader(abi.RequestHeaders, "x-echo-path", string(p))
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, size, eos uint32) uint32 {
	abi.RecordMetric(bodyBytes, uint64(size))
	return 0
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(root, token, nh, bs, nt uint32) {
	id, ok := pending[token]
	delete(pending, token)
	if !ok {
		return
	}
	if abi.SetEffectiveContext(id) != 0 {
		abi.Info("echo: stream " + abi.Itoa(uint64(id)) + " is gone")
		return
	}
	if nh == 0 {
		abi.SendLocalResponse(503, "echo auth unavailable", []byte("auth unavailable"), nil, -1)
		return
	}
	status, _ := abi.GetHeader(abi.HTTPCallResponseHeaders, ":status")
	body, _ := abi.GetBuffer(abi.HTTPCallResponseBody, 0, bs)
	if status != "200" {
		abi.SendLocalResponse(403, "echo auth denied", []byte("forbidden: "+status), nil, -1)
		return
	}
	abi.AddHeader(abi.RequestHeaders, "x-auth-result", string(body))
	abi.ContinueStream(0)
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	abi.AddHeader(abi.ResponseHeaders, "x-echo-response", "yes")
	return 0
}

//go:wasmexport proxy_on_log
func onLog(id uint32) {
	abi.IncrementMetric(active, -1)
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 { return 1 }

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {}

//go:wasmexport proxy_on_tick
func onTick(id uint32) {
	abi.IncrementMetric(ticks, 1)
}
