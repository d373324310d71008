//go:build wasip1

// Package abi is the guest side of the proxy-wasm ABI for the host's test guests: raw
// //go:wasmimport declarations and small helpers. It is deliberately minimal and independent of
// any SDK.
package abi

import (
	"encoding/binary"
	"unsafe"
)

//go:wasmimport env proxy_log
func proxyLog(level uint32, ptr *byte, size uint32) uint32

//go:wasmimport env proxy_get_log_level
func proxyGetLogLevel(out *uint32) uint32

//go:wasmimport env proxy_get_property
func proxyGetProperty(pathPtr *byte, pathSize uint32, valuePtr *uint32, valueSize *uint32) uint32

//go:wasmimport env proxy_set_property
func proxySetProperty(keyPtr *byte, keySize uint32, valuePtr *byte, valueSize uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(t, start, length uint32, ptr *uint32, size *uint32) uint32

//go:wasmimport env proxy_set_buffer_bytes
func proxySetBufferBytes(t, start, length uint32, ptr *byte, size uint32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func proxyGetHeaderMapPairs(t uint32, ptr *uint32, size *uint32) uint32

//go:wasmimport env proxy_set_header_map_pairs
func proxySetHeaderMapPairs(t uint32, ptr *byte, size uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(t uint32, keyPtr *byte, keySize uint32, valuePtr *uint32, valueSize *uint32) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(t uint32, keyPtr *byte, keySize uint32, valuePtr *byte, valueSize uint32) uint32

//go:wasmimport env proxy_replace_header_map_value
func proxyReplaceHeaderMapValue(t uint32, keyPtr *byte, keySize uint32, valuePtr *byte, valueSize uint32) uint32

//go:wasmimport env proxy_remove_header_map_value
func proxyRemoveHeaderMapValue(t uint32, keyPtr *byte, keySize uint32) uint32

//go:wasmimport env proxy_get_header_map_size
func proxyGetHeaderMapSize(t uint32, out *uint32) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status uint32, detailsPtr *byte, detailsSize uint32, bodyPtr *byte, bodySize uint32, headersPtr *byte, headersSize uint32, grpcStatus int32) uint32

//go:wasmimport env proxy_continue_stream
func proxyContinueStream(t uint32) uint32

//go:wasmimport env proxy_close_stream
func proxyCloseStream(t uint32) uint32

//go:wasmimport env proxy_http_call
func proxyHTTPCall(upPtr *byte, upSize uint32, hPtr *byte, hSize uint32, bPtr *byte, bSize uint32, tPtr *byte, tSize uint32, timeout uint32, token *uint32) uint32

//go:wasmimport env proxy_set_effective_context
func proxySetEffectiveContext(id uint32) uint32

//go:wasmimport env proxy_define_metric
func proxyDefineMetric(t uint32, namePtr *byte, nameSize uint32, id *uint32) uint32

//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(id uint32, delta int64) uint32

//go:wasmimport env proxy_record_metric
func proxyRecordMetric(id uint32, v uint64) uint32

//go:wasmimport env proxy_get_metric
func proxyGetMetric(id uint32, out *uint64) uint32

//go:wasmimport env proxy_get_shared_data
func proxyGetSharedData(keyPtr *byte, keySize uint32, valuePtr *uint32, valueSize *uint32, cas *uint32) uint32

//go:wasmimport env proxy_set_shared_data
func proxySetSharedData(keyPtr *byte, keySize uint32, valuePtr *byte, valueSize uint32, cas uint32) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTickPeriod(ms uint32) uint32

//go:wasmimport env proxy_call_foreign_function
func proxyCallForeignFunction(namePtr *byte, nameSize uint32, argsPtr *byte, argsSize uint32, resPtr *uint32, resSize *uint32) uint32

//go:wasmimport env proxy_get_current_time_nanoseconds
func proxyGetCurrentTime(out *uint64) uint32

// Map and buffer types.
const (
	RequestHeaders          = 0
	RequestTrailers         = 1
	ResponseHeaders         = 2
	ResponseTrailers        = 3
	HTTPCallResponseHeaders = 6
	HTTPCallResponseTrailer = 7

	RequestBody          = 0
	ResponseBody         = 1
	HTTPCallResponseBody = 4
	VMConfiguration      = 6
	PluginConfiguration  = 7
)

// pinned keeps host-written allocations reachable until the guest has copied them: the Go GC
// cannot see pointers held by the host.
var pinned = map[uintptr][]byte{}

// Alloc is the body of proxy_on_memory_allocate.
func Alloc(size uint32) *byte {
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	p := &b[0]
	pinned[uintptr(unsafe.Pointer(p))] = b
	return p
}

// take copies and releases a host allocation.
func take(ptr, size uint32) []byte {
	if ptr == 0 || size == 0 {
		return nil
	}
	b, ok := pinned[uintptr(ptr)]
	if !ok {
		return nil
	}
	delete(pinned, uintptr(ptr))
	out := make([]byte, size)
	copy(out, b[:size])
	return out
}

// Pinned reports how many host allocations are still outstanding.
func Pinned() int { return len(pinned) }

func ptr(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

func sptr(s string) (*byte, uint32) {
	if s == "" {
		return nil, 0
	}
	b := []byte(s)
	return &b[0], uint32(len(b))
}

// Log logs at level.
func Log(level uint32, msg string) uint32 {
	p, n := sptr(msg)
	return proxyLog(level, p, n)
}

// Logf is Log at info.
func Info(msg string) { Log(2, msg) }

// LogLevel returns proxy_get_log_level.
func LogLevel() (uint32, uint32) {
	var v uint32
	st := proxyGetLogLevel(&v)
	return v, st
}

// JoinPath joins property path segments with NUL.
func JoinPath(parts ...string) string {
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += "\x00"
		}
		s += p
	}
	return s
}

// GetPropertyRaw calls proxy_get_property with an already encoded path.
func GetPropertyRaw(path string) ([]byte, uint32) {
	p, n := sptr(path)
	var vp, vs uint32
	st := proxyGetProperty(p, n, &vp, &vs)
	return take(vp, vs), st
}

// GetProperty reads a property given as segments.
func GetProperty(parts ...string) ([]byte, uint32) { return GetPropertyRaw(JoinPath(parts...)) }

// SetProperty calls proxy_set_property.
func SetProperty(key string, value []byte) uint32 {
	p, n := sptr(key)
	return proxySetProperty(p, n, ptr(value), uint32(len(value)))
}

// GetBuffer calls proxy_get_buffer_bytes.
func GetBuffer(t, start, length uint32) ([]byte, uint32) {
	var vp, vs uint32
	st := proxyGetBufferBytes(t, start, length, &vp, &vs)
	return take(vp, vs), st
}

// SetBuffer calls proxy_set_buffer_bytes.
func SetBuffer(t, start, length uint32, data []byte) uint32 {
	return proxySetBufferBytes(t, start, length, ptr(data), uint32(len(data)))
}

// MarshalPairs serializes a header map.
func MarshalPairs(pairs [][2]string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(pairs)))
	for _, p := range pairs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[0])))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[1])))
	}
	for _, p := range pairs {
		b = append(b, p[0]...)
		b = append(b, 0)
		b = append(b, p[1]...)
		b = append(b, 0)
	}
	return b
}

// UnmarshalPairs parses a header map.
func UnmarshalPairs(b []byte) [][2]string {
	if len(b) < 4 {
		return nil
	}
	n := int(binary.LittleEndian.Uint32(b))
	pos := 4 + 8*n
	if pos > len(b) {
		return nil
	}
	out := make([][2]string, n)
	for i := 0; i < n; i++ {
		kl := int(binary.LittleEndian.Uint32(b[4+8*i:]))
		vl := int(binary.LittleEndian.Uint32(b[8+8*i:]))
		if pos+kl+vl+2 > len(b) {
			return nil
		}
		out[i][0] = string(b[pos : pos+kl])
		pos += kl + 1
		out[i][1] = string(b[pos : pos+vl])
		pos += vl + 1
	}
	return out
}

// GetHeaders calls proxy_get_header_map_pairs and also returns the raw size.
func GetHeaders(t uint32) ([][2]string, uint32, uint32) {
	var vp, vs uint32
	st := proxyGetHeaderMapPairs(t, &vp, &vs)
	raw := take(vp, vs)
	return UnmarshalPairs(raw), vs, st
}

// SetHeaders calls proxy_set_header_map_pairs.
func SetHeaders(t uint32, pairs [][2]string) uint32 {
	b := MarshalPairs(pairs)
	return proxySetHeaderMapPairs(t, ptr(b), uint32(len(b)))
}

// GetHeader calls proxy_get_header_map_value.
func GetHeader(t uint32, key string) (string, uint32) {
	p, n := sptr(key)
	var vp, vs uint32
	st := proxyGetHeaderMapValue(t, p, n, &vp, &vs)
	return string(take(vp, vs)), st
}

// AddHeader calls proxy_add_header_map_value.
func AddHeader(t uint32, key, value string) uint32 {
	kp, kn := sptr(key)
	vp, vn := sptr(value)
	return proxyAddHeaderMapValue(t, kp, kn, vp, vn)
}

// ReplaceHeader calls proxy_replace_header_map_value.
func ReplaceHeader(t uint32, key, value string) uint32 {
	kp, kn := sptr(key)
	vp, vn := sptr(value)
	return proxyReplaceHeaderMapValue(t, kp, kn, vp, vn)
}

// RemoveHeader calls proxy_remove_header_map_value.
func RemoveHeader(t uint32, key string) uint32 {
	kp, kn := sptr(key)
	return proxyRemoveHeaderMapValue(t, kp, kn)
}

// HeaderMapSize calls proxy_get_header_map_size.
func HeaderMapSize(t uint32) (uint32, uint32) {
	var v uint32
	st := proxyGetHeaderMapSize(t, &v)
	return v, st
}

// SendLocalResponse calls proxy_send_local_response.
func SendLocalResponse(status uint32, details string, body []byte, headers [][2]string, grpc int32) uint32 {
	dp, dn := sptr(details)
	var hb []byte
	if len(headers) > 0 {
		hb = MarshalPairs(headers)
	}
	return proxySendLocalResponse(status, dp, dn, ptr(body), uint32(len(body)), ptr(hb), uint32(len(hb)), grpc)
}

// ContinueStream calls proxy_continue_stream.
func ContinueStream(t uint32) uint32 { return proxyContinueStream(t) }

// CloseStream calls proxy_close_stream.
func CloseStream(t uint32) uint32 { return proxyCloseStream(t) }

// SetEffectiveContext calls proxy_set_effective_context.
func SetEffectiveContext(id uint32) uint32 { return proxySetEffectiveContext(id) }

// HTTPCall calls proxy_http_call.
func HTTPCall(cluster string, headers [][2]string, body []byte, timeoutMs uint32) (uint32, uint32) {
	up, un := sptr(cluster)
	hb := MarshalPairs(headers)
	var token uint32
	st := proxyHTTPCall(up, un, ptr(hb), uint32(len(hb)), ptr(body), uint32(len(body)), nil, 0, timeoutMs, &token)
	return token, st
}

// DefineMetric calls proxy_define_metric.
func DefineMetric(t uint32, name string) (uint32, uint32) {
	p, n := sptr(name)
	var id uint32
	st := proxyDefineMetric(t, p, n, &id)
	return id, st
}

// IncrementMetric calls proxy_increment_metric.
func IncrementMetric(id uint32, delta int64) uint32 { return proxyIncrementMetric(id, delta) }

// RecordMetric calls proxy_record_metric.
func RecordMetric(id uint32, v uint64) uint32 { return proxyRecordMetric(id, v) }

// GetMetric calls proxy_get_metric.
func GetMetric(id uint32) (uint64, uint32) {
	var v uint64
	st := proxyGetMetric(id, &v)
	return v, st
}

// GetSharedData calls proxy_get_shared_data.
func GetSharedData(key string) ([]byte, uint32, uint32) {
	p, n := sptr(key)
	var vp, vs, cas uint32
	st := proxyGetSharedData(p, n, &vp, &vs, &cas)
	return take(vp, vs), cas, st
}

// SetSharedData calls proxy_set_shared_data.
func SetSharedData(key string, value []byte, cas uint32) uint32 {
	p, n := sptr(key)
	return proxySetSharedData(p, n, ptr(value), uint32(len(value)), cas)
}

// SetTickPeriod calls proxy_set_tick_period_milliseconds.
func SetTickPeriod(ms uint32) uint32 { return proxySetTickPeriod(ms) }

// CallForeign calls proxy_call_foreign_function.
func CallForeign(name string, args []byte) ([]byte, uint32) {
	p, n := sptr(name)
	var rp, rs uint32
	st := proxyCallForeignFunction(p, n, ptr(args), uint32(len(args)), &rp, &rs)
	return take(rp, rs), st
}

// Now calls proxy_get_current_time_nanoseconds.
func Now() (uint64, uint32) {
	var v uint64
	st := proxyGetCurrentTime(&v)
	return v, st
}

// Itoa formats an unsigned number without strconv (keeps guests tiny).
func Itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// Hex encodes b in lower-case hex.
func Hex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&15]
	}
	return string(out)
}
