//go:build wasip1

package abi

import (
	"strings"
	"unsafe"
)

func strPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// Log writes msg to the host log at level. It is the only host call allowed
// in init() and in the allocator.
func Log(level LogLevel, msg string) {
	proxyLog(uint32(level), strPtr(msg), uint32(len(msg)))
}

// ret receives what host calls write back. A local variable passed by
// address to a wasmimport function escapes to the heap, an allocation per
// call; the VM runs one callback at a time and every call reads ret as soon
// as the host returns, before any other host call (the allocator the host
// may call meanwhile does not touch it).
var ret struct{ ptr, size, cas uint32 }

// retSlots clears and returns the pointer and size slots of ret.
func retSlots() (*uint32, *uint32) {
	ret.ptr, ret.size = 0, 0
	return &ret.ptr, &ret.size
}

// received turns the (pointer, size) a host call wrote into a Go slice.
func received(call string, ptr, size uint32) ([]byte, error) {
	b, ok := take(ptr, size)
	if !ok {
		return nil, &Error{Call: call, Status: StatusInvalidMemoryAccess}
	}
	return b, nil
}

// GetProperty reads a host property. The path segments are joined with NUL
// bytes, as Envoy expects. Values keep the host's encoding (strings raw,
// integers 8-byte little-endian, booleans one byte).
func GetProperty(path ...string) ([]byte, error) {
	p := strings.Join(path, "\x00")
	ptr, size := retSlots()
	if err := statusErr("proxy_get_property", proxyGetProperty(strPtr(p), uint32(len(p)), ptr, size)); err != nil {
		return nil, err
	}
	return received("proxy_get_property", *ptr, *size)
}

// SendLocalResponse asks the host to answer the current stream itself. The
// host sends it after the callback returns and stops the filter chain.
func SendLocalResponse(status uint32, details string, body []byte, headers []Header, grpcStatus int32) error {
	h := EncodePairs(headers)
	return statusErr("proxy_send_local_response", proxySendLocalResponse(status,
		strPtr(details), uint32(len(details)), bytesPtr(body), uint32(len(body)),
		bytesPtr(h), uint32(len(h)), grpcStatus))
}

// GetSharedData reads a value shared by every VM with the same vm_id, and
// its compare-and-swap token.
func GetSharedData(key string) ([]byte, uint32, error) {
	ptr, size := retSlots()
	ret.cas = 0
	if err := statusErr("proxy_get_shared_data", proxyGetSharedData(strPtr(key), uint32(len(key)), ptr, size, &ret.cas)); err != nil {
		return nil, 0, err
	}
	cas := ret.cas
	b, err := received("proxy_get_shared_data", *ptr, *size)
	return b, cas, err
}

// SetSharedData stores a shared value. A non-zero cas that no longer matches
// fails with StatusCasMismatch.
func SetSharedData(key string, value []byte, cas uint32) error {
	return statusErr("proxy_set_shared_data", proxySetSharedData(strPtr(key), uint32(len(key)), bytesPtr(value), uint32(len(value)), cas))
}

// GetHeader returns the FIRST value of key in map m (Envoy returns only the
// first of repeated headers; use VisitHeaders to see them all).
func GetHeader(m MapType, key string) (string, error) {
	ptr, size := retSlots()
	if err := statusErr("proxy_get_header_map_value", proxyGetHeaderMapValue(uint32(m), strPtr(key), uint32(len(key)), ptr, size)); err != nil {
		return "", err
	}
	b, err := received("proxy_get_header_map_value", *ptr, *size)
	return string(b), err
}

// VisitHeaders calls count with the number of entries of map m, then f
// with each entry in the host's order, duplicates included (see
// VisitPairs). Reading the map this way saves building a slice the caller
// would only copy.
func VisitHeaders(m MapType, count func(n int), f func(key, value string)) error {
	ptr, size := retSlots()
	if err := statusErr("proxy_get_header_map_pairs", proxyGetHeaderMapPairs(uint32(m), ptr, size)); err != nil {
		return err
	}
	b, err := received("proxy_get_header_map_pairs", *ptr, *size)
	if err != nil {
		return err
	}
	if VisitPairs(b, count, f) != nil {
		return &Error{Call: "proxy_get_header_map_pairs", Status: StatusParseFailure}
	}
	return nil
}

// SetHeaders replaces the whole map m.
func SetHeaders(m MapType, hs []Header) error {
	b := EncodePairs(hs)
	return statusErr("proxy_set_header_map_pairs", proxySetHeaderMapPairs(uint32(m), bytesPtr(b), uint32(len(b))))
}

// AddHeader appends a value to key in map m.
func AddHeader(m MapType, key, value string) error {
	return statusErr("proxy_add_header_map_value", proxyAddHeaderMapValue(uint32(m), strPtr(key), uint32(len(key)), strPtr(value), uint32(len(value))))
}

// ReplaceHeader sets key to value in map m, replacing every existing value.
func ReplaceHeader(m MapType, key, value string) error {
	return statusErr("proxy_replace_header_map_value", proxyReplaceHeaderMapValue(uint32(m), strPtr(key), uint32(len(key)), strPtr(value), uint32(len(value))))
}

// RemoveHeader removes every value of key from map m.
func RemoveHeader(m MapType, key string) error {
	return statusErr("proxy_remove_header_map_value", proxyRemoveHeaderMapValue(uint32(m), strPtr(key), uint32(len(key))))
}

// GetBuffer reads up to maxSize bytes from start of buffer t.
func GetBuffer(t BufferType, start, maxSize uint32) ([]byte, error) {
	ptr, size := retSlots()
	if err := statusErr("proxy_get_buffer_bytes", proxyGetBufferBytes(uint32(t), start, maxSize, ptr, size)); err != nil {
		return nil, err
	}
	return received("proxy_get_buffer_bytes", *ptr, *size)
}

// SetBuffer replaces size bytes at start of buffer t with data.
func SetBuffer(t BufferType, start, size uint32, data []byte) error {
	return statusErr("proxy_set_buffer_bytes", proxySetBufferBytes(uint32(t), start, size, bytesPtr(data), uint32(len(data))))
}

// ContinueStream resumes a paused stream after the callback returns.
func ContinueStream(t StreamType) error {
	return statusErr("proxy_continue_stream", proxyContinueStream(uint32(t)))
}

// CloseStream resets the stream.
func CloseStream(t StreamType) error {
	return statusErr("proxy_close_stream", proxyCloseStream(uint32(t)))
}

// HTTPCall sends a request to the named cluster (an Envoy cluster name, not
// a URL). headers must hold :method, :path and :authority. The response is
// delivered to the ROOT context's OnHTTPCallResponse with the returned token.
// timeoutMillis 0 means no timeout.
func HTTPCall(cluster string, headers []Header, body []byte, trailers []Header, timeoutMillis uint32) (uint32, error) {
	h := EncodePairs(headers)
	var t []byte
	if len(trailers) > 0 {
		t = EncodePairs(trailers)
	}
	var token uint32
	err := statusErr("proxy_http_call", proxyHTTPCall(strPtr(cluster), uint32(len(cluster)), bytesPtr(h), uint32(len(h)),
		bytesPtr(body), uint32(len(body)), bytesPtr(t), uint32(len(t)), timeoutMillis, &token))
	return token, err
}

// CallForeignFunction calls a host extension such as Envoy's verify_signature.
func CallForeignFunction(name string, args []byte) ([]byte, error) {
	ptr, size := retSlots()
	if err := statusErr("proxy_call_foreign_function", proxyCallForeignFunction(strPtr(name), uint32(len(name)), bytesPtr(args), uint32(len(args)), ptr, size)); err != nil {
		return nil, err
	}
	return received("proxy_call_foreign_function", *ptr, *size)
}

// SetTickPeriod arms the root context's timer; 0 disables it.
func SetTickPeriod(millis uint32) error {
	return statusErr("proxy_set_tick_period_milliseconds", proxySetTickPeriodMilliseconds(millis))
}

// SetEffectiveContext makes later host calls act on context id, e.g. a
// stream when handling a callout response in the root context.
func SetEffectiveContext(id uint32) error {
	return statusErr("proxy_set_effective_context", proxySetEffectiveContext(id))
}

// DefineMetric defines a metric and returns its id.
func DefineMetric(t MetricType, name string) (uint32, error) {
	var id uint32
	err := statusErr("proxy_define_metric", proxyDefineMetric(uint32(t), strPtr(name), uint32(len(name)), &id))
	return id, err
}

// IncrementMetric adds delta (> 0 for counters) to metric id.
func IncrementMetric(id uint32, delta int64) error {
	return statusErr("proxy_increment_metric", proxyIncrementMetric(id, delta))
}

// RecordMetric records value: counters add it, gauges set it.
func RecordMetric(id uint32, value uint64) error {
	return statusErr("proxy_record_metric", proxyRecordMetric(id, value))
}

// GetMetric reads a counter or gauge.
func GetMetric(id uint32) (uint64, error) {
	var v uint64
	err := statusErr("proxy_get_metric", proxyGetMetric(id, &v))
	return v, err
}
