package host

import "fmt"

// Status is a proxy_status_t (proxy-wasm spec v0.2.1, "Types").
type Status uint32

// Status values returned by host functions.
const (
	StatusOK                   Status = 0
	StatusNotFound             Status = 1
	StatusBadArgument          Status = 2
	StatusSerializationFailure Status = 3
	StatusParseFailure         Status = 4
	StatusBadExpression        Status = 5 // UNCONFIRMED numeric value (proxy_wasm_common.h)
	StatusInvalidMemoryAccess  Status = 6
	StatusEmpty                Status = 7
	StatusCasMismatch          Status = 8
	StatusResultMismatch       Status = 9  // UNCONFIRMED numeric value (proxy_wasm_common.h)
	StatusInternalFailure      Status = 10 //
	StatusBrokenConnection     Status = 11 // UNCONFIRMED numeric value (proxy_wasm_common.h)
	StatusUnimplemented        Status = 12
)

var statusNames = map[Status]string{
	StatusOK: "Ok", StatusNotFound: "NotFound", StatusBadArgument: "BadArgument",
	StatusSerializationFailure: "SerializationFailure", StatusParseFailure: "ParseFailure",
	StatusBadExpression: "BadExpression", StatusInvalidMemoryAccess: "InvalidMemoryAccess",
	StatusEmpty: "Empty", StatusCasMismatch: "CasMismatch", StatusResultMismatch: "ResultMismatch",
	StatusInternalFailure: "InternalFailure", StatusBrokenConnection: "BrokenConnection",
	StatusUnimplemented: "Unimplemented",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", uint32(s))
}

// Action is the filter status Envoy's filter manager sees after a stream callback, that is the
// guest's return value after proxy-wasm-cpp-host's and Envoy's conversions
// (convertVmCallResultToFilter*Status, convertFilter*Status).
type Action int

// Header, data and trailer filter statuses, plus Held for data the filter manager buffered
// without calling the filter.
const (
	// Continue passes the headers, data or trailers on to the next filter (and the upstream).
	Continue Action = iota
	// StopIteration: headers stopped while body callbacks keep running (only with
	// Config.AllowOnHeadersStopIteration), or trailers stopped.
	StopIteration
	// StopAllIterationAndBuffer stops headers, body and trailers until proxy_continue_stream;
	// the filter manager buffers the body.
	StopAllIterationAndBuffer
	// StopAllIterationAndWatermark is what Envoy makes of a guest's "Pause" (1) from a header
	// callback, and of any value above 4. It stops headers, body and trailers until
	// proxy_continue_stream.
	StopAllIterationAndWatermark
	// StopIterationAndBuffer (body 1): the body is buffered; the next body callback sees the
	// whole buffer.
	StopIterationAndBuffer
	// StopIterationAndWatermark (body 2): the chunk is buffered by the filter manager; the next
	// body callback sees only the new chunk.
	StopIterationAndWatermark
	// StopIterationNoBuffer (body 3 and above): the chunk is neither forwarded nor buffered.
	StopIterationNoBuffer
	// Held means the filter chain was already stopped by this filter (StopAllIteration*): the
	// data or trailers were buffered by the filter manager and the filter was not called. They
	// reach the filter when the stream is continued.
	Held
)

var actionNames = [...]string{
	"Continue", "StopIteration", "StopAllIterationAndBuffer", "StopAllIterationAndWatermark",
	"StopIterationAndBuffer", "StopIterationAndWatermark", "StopIterationNoBuffer", "Held",
}

func (a Action) String() string {
	if int(a) >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// LogLevel is a proxy-wasm log level (Trace 0 ... Critical 5), also used for host messages.
type LogLevel uint32

// Log levels.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	}
	return fmt.Sprintf("LogLevel(%d)", uint32(l))
}

// MapType is a proxy_map_type_t.
type MapType uint32

// Header map types.
const (
	MapRequestHeaders          MapType = 0
	MapRequestTrailers         MapType = 1
	MapResponseHeaders         MapType = 2
	MapResponseTrailers        MapType = 3
	MapGrpcReceiveInitial      MapType = 4
	MapGrpcReceiveTrailing     MapType = 5
	MapHTTPCallResponseHeaders MapType = 6
	MapHTTPCallResponseTrailer MapType = 7
	mapTypeMax                         = MapHTTPCallResponseTrailer
)

// BufferType is a proxy_buffer_type_t.
type BufferType uint32

// Buffer types.
const (
	BufferHTTPRequestBody      BufferType = 0
	BufferHTTPResponseBody     BufferType = 1
	BufferDownstreamData       BufferType = 2
	BufferUpstreamData         BufferType = 3
	BufferHTTPCallResponseBody BufferType = 4
	BufferGrpcReceive          BufferType = 5
	BufferVMConfiguration      BufferType = 6
	BufferPluginConfiguration  BufferType = 7
	BufferCallData             BufferType = 8
	bufferTypeMax                         = BufferCallData
)

// StreamType is a proxy_stream_type_t.
type StreamType uint32

// Stream types.
const (
	StreamHTTPRequest  StreamType = 0
	StreamHTTPResponse StreamType = 1
	StreamDownstream   StreamType = 2
	StreamUpstream     StreamType = 3
)

// MetricType is a proxy_metric_type_t.
type MetricType uint32

// Metric types.
const (
	MetricCounter   MetricType = 0
	MetricGauge     MetricType = 1
	MetricHistogram MetricType = 2
)

func (t MetricType) String() string {
	switch t {
	case MetricCounter:
		return "counter"
	case MetricGauge:
		return "gauge"
	case MetricHistogram:
		return "histogram"
	}
	return fmt.Sprintf("MetricType(%d)", uint32(t))
}

// Profile selects the WASI host-call set and the restricted-callback allowlists of one
// proxy-wasm-cpp-host version.
type Profile int

const (
	// ProfileEnvoy139 is proxy-wasm-cpp-host after PR #533 (Envoy 1.39 and later): every WASI
	// function the Go runtime needs; poll_oneoff succeeds with 0 events and may be called during
	// _initialize and inside the allocator.
	ProfileEnvoy139 Profile = iota
	// ProfileEnvoy133 is the PR #427 host-call set (Envoy 1.33 to 1.38): poll_oneoff returns
	// ENOSYS (52); the WASI functions added by PR #533 do not exist, so a module importing them
	// fails to link; the older start-up and allocator allowlists apply.
	ProfileEnvoy133
)

func (p Profile) String() string {
	switch p {
	case ProfileEnvoy139:
		return "envoy-1.39"
	case ProfileEnvoy133:
		return "envoy-1.33"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// FailurePolicy is what a VM does with HTTP streams after it failed (a trap in any callback).
type FailurePolicy int

const (
	// FailClosed answers every stream callback with a local 503, empty body, response code
	// details "wasm_fail_stream" (Envoy FAIL_CLOSED, Istio FAIL_CLOSE, the default).
	FailClosed FailurePolicy = iota
	// FailOpen skips the plugin: stream callbacks return Continue without calling the VM
	// (proxy-wasm-cpp-host fail_open_).
	FailOpen
	// FailReload replaces a VM that failed at run time with a fresh one (the whole start-up
	// sequence runs again) when the next stream starts, at most once per Config.ReloadBackoff.
	// The stream that hit the trap, and streams while a reload is not allowed or fails, get
	// the FailClosed treatment.
	FailReload
)

func (p FailurePolicy) String() string {
	switch p {
	case FailClosed:
		return "fail-closed"
	case FailOpen:
		return "fail-open"
	case FailReload:
		return "fail-reload"
	}
	return fmt.Sprintf("FailurePolicy(%d)", int(p))
}
