// Package abi is wasm-authn's binding of the proxy-wasm ABI v0.2.1 for the
// upstream Go toolchain (GOOS=wasip1, -buildmode=c-shared).
//
// Callbacks are //go:wasmexport functions; host calls are //go:wasmimport
// functions in module "env". The package owns three host quirks so that the
// rest of the plugin never sees them:
//
//   - Memory the host fills through proxy_on_memory_allocate is invisible to
//     Go's garbage collector. The allocator pins every buffer it hands out
//     until the host call that filled it returns and the binding takes it.
//   - The host traps any call but a short allowlist while _initialize and the
//     allocator run. The garbage collector is therefore never started by an
//     allocation: automatic collection is switched off at start-up and the
//     binding collects at safe points, when a callback returns.
//   - A panic must never reach the runtime (it traps the worker's VM). Every
//     callback recovers, logs at critical, and fails the stream closed.
//
// Everything outside wasip1 builds sees only the enums in this file.
package abi

// Status is a proxy_status_t returned by host calls.
type Status uint32

// Host call statuses (proxy-wasm spec v0.2.1).
const (
	StatusOK                   Status = 0
	StatusNotFound             Status = 1
	StatusBadArgument          Status = 2
	StatusSerializationFailure Status = 3
	StatusParseFailure         Status = 4
	StatusInvalidMemoryAccess  Status = 6
	StatusEmpty                Status = 7
	StatusCasMismatch          Status = 8
	StatusInternalFailure      Status = 10
	StatusUnimplemented        Status = 12
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusNotFound:
		return "not found"
	case StatusBadArgument:
		return "bad argument"
	case StatusSerializationFailure:
		return "serialization failure"
	case StatusParseFailure:
		return "parse failure"
	case StatusInvalidMemoryAccess:
		return "invalid memory access"
	case StatusEmpty:
		return "empty"
	case StatusCasMismatch:
		return "cas mismatch"
	case StatusInternalFailure:
		return "internal failure"
	case StatusUnimplemented:
		return "unimplemented"
	}
	return "unknown status"
}

// Error wraps a non-OK status of a named host call.
type Error struct {
	Call   string
	Status Status
}

func (e *Error) Error() string { return e.Call + ": " + e.Status.String() }

// statusErr returns nil for StatusOK and an *Error otherwise.
func statusErr(call string, s uint32) error {
	if Status(s) == StatusOK {
		return nil
	}
	return &Error{Call: call, Status: Status(s)}
}

// IsStatus reports whether err is a host-call error with status s.
func IsStatus(err error, s Status) bool {
	e, ok := err.(*Error)
	return ok && e.Status == s
}

// Action is what a stream callback tells the host to do next.
type Action uint32

const (
	// Continue lets the stream go on to the next filter.
	Continue Action = 0
	// Pause stops the stream (Envoy: StopAllIterationAndWatermark) until
	// ContinueStream or a local reply.
	Pause Action = 1
)

// MapType selects a header map.
type MapType uint32

const (
	MapRequestHeaders          MapType = 0
	MapRequestTrailers         MapType = 1
	MapResponseHeaders         MapType = 2
	MapResponseTrailers        MapType = 3
	MapHTTPCallResponseHeaders MapType = 6
	MapHTTPCallResponseTrail   MapType = 7
)

// BufferType selects a host buffer.
type BufferType uint32

const (
	BufferRequestBody        BufferType = 0
	BufferResponseBody       BufferType = 1
	BufferHTTPCallResponse   BufferType = 4
	BufferVMConfiguration    BufferType = 6
	BufferPluginConfiguraton BufferType = 7
	BufferForeignCallArgs    BufferType = 8
)

// StreamType selects the direction of ContinueStream and CloseStream.
type StreamType uint32

const (
	StreamRequest  StreamType = 0
	StreamResponse StreamType = 1
)

// MetricType is the kind of a metric.
type MetricType uint32

const (
	MetricCounter   MetricType = 0
	MetricGauge     MetricType = 1
	MetricHistogram MetricType = 2
)

// LogLevel is a proxy_log level.
type LogLevel uint32

const (
	LogTrace    LogLevel = 0
	LogDebug    LogLevel = 1
	LogInfo     LogLevel = 2
	LogWarn     LogLevel = 3
	LogError    LogLevel = 4
	LogCritical LogLevel = 5
)
