package host

import (
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// envFunctions returns the env.proxy_* host functions (and the two helper functions cpp-host
// registers under env) for an ABI version, with cpp-host's semantics (src/exports.cc) and Envoy's
// (source/extensions/common/wasm/context.cc).
func envFunctions(abi abiVersion) []hostFn {
	st := func(s []uint64, v Status) { s[0] = uint64(v) }
	fs := []hostFn{
		{name: "pthread_equal", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			if u32(s[0]) == u32(s[1]) {
				s[0] = 1
			} else {
				s[0] = 0
			}
		}},
		{name: "emscripten_notify_memory_growth", params: p32(1), fn: func(*instance, []uint64) {}},

		{name: "proxy_log", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) {
			level := u32(s[0])
			if level > uint32(LogCritical) {
				st(s, StatusBadArgument)
				return
			}
			if _, ok := in.mem.Read(u32(s[1]), u32(s[2])); !ok {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			if in.host.cfg.DropLogsBelowLevel && LogLevel(level) < in.host.logLevel {
				st(s, StatusOK)
				return
			}
			msg, _ := in.readString(u32(s[1]), u32(s[2]))
			in.log(LogLevel(level), SourceProxyLog, msg)
			st(s, StatusOK)
		}},
		{name: "proxy_get_status", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) {
			root := in.rootOf(in.contextOrEffective())
			if !in.writeU32(u32(s[0]), root.statusCode) || !in.copyOut([]byte(root.statusMsg), u32(s[1]), u32(s[2])) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_set_property", params: p32(4), results: p32(1), fn: func(in *instance, s []uint64) {
			key, ok1 := in.read(u32(s[0]), u32(s[1]))
			val, ok2 := in.read(u32(s[2]), u32(s[3]))
			if !ok1 || !ok2 {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, in.setProperty(in.contextOrEffective(), string(key), val))
		}},
		{name: "proxy_get_property", params: p32(4), results: p32(1), fn: func(in *instance, s []uint64) {
			path, ok := in.read(u32(s[0]), u32(s[1]))
			if !ok {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			v, status := in.getProperty(in.contextOrEffective(), path)
			if status != StatusOK {
				st(s, status)
				return
			}
			if !in.copyOut(v, u32(s[2]), u32(s[3])) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_send_local_response", params: p32(8), results: p32(1), fn: func(in *instance, s []uint64) {
			details, ok1 := in.read(u32(s[1]), u32(s[2]))
			body, ok2 := in.read(u32(s[3]), u32(s[4]))
			hdrs, ok3 := in.read(u32(s[5]), u32(s[6]))
			if !ok1 || !ok2 || !ok3 {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			c := in.contextOrEffective()
			lr := &LocalReply{
				Status:     int(u32(s[0])),
				Details:    replaceWhitespace(string(details)),
				Body:       body,
				GrpcStatus: -1,
			}
			// Context::sendLocalResponse: 0..16 (Ok..MaximumKnown) is a gRPC status; anything
			// else (typically -1) means none.
			if g := int32(u32(s[7])); g >= 0 && g <= 16 {
				lr.GrpcStatus = int(g)
			}
			for _, p := range unmarshalPairs(hdrs) {
				lr.Headers = append(lr.Headers, [2]string{strings.ToLower(p[0]), p[1]})
			}
			if c.stream != nil {
				strm := c.stream
				in.addAfter(func() { strm.sendLocalReply(lr) })
			}
			in.stopNext = true
			st(s, StatusOK)
		}},
		{name: "proxy_get_shared_data", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			key, ok := in.read(u32(s[0]), u32(s[1]))
			if !ok {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			v, cas, status := in.host.shared.Get(in.host.cfg.VMID, string(key))
			if status != StatusOK {
				st(s, status)
				return
			}
			if !in.copyOut(v, u32(s[2]), u32(s[3])) || !in.writeU32(u32(s[4]), cas) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_set_shared_data", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			key, ok1 := in.read(u32(s[0]), u32(s[1]))
			val, ok2 := in.read(u32(s[2]), u32(s[3]))
			if !ok1 || !ok2 {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, in.host.shared.Set(in.host.cfg.VMID, string(key), val, u32(s[4])))
		}},
		// Shared queues are not modelled.
		{name: "proxy_register_shared_queue", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusUnimplemented) }},
		{name: "proxy_resolve_shared_queue", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusUnimplemented) }},
		{name: "proxy_dequeue_shared_queue", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusUnimplemented) }},
		{name: "proxy_enqueue_shared_queue", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusUnimplemented) }},

		{name: "proxy_get_header_map_value", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			t := MapType(u32(s[0]))
			if t > mapTypeMax {
				st(s, StatusBadArgument)
				return
			}
			key, ok := in.read(u32(s[1]), u32(s[2]))
			if !ok {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			c := in.contextOrEffective()
			m := in.constMap(c, t)
			if m == nil {
				if c.stream != nil && c.stream.logPhase {
					st(s, StatusNotFound) // maps may be missing in the access-log phase
					return
				}
				st(s, StatusBadArgument) // the map is not available in this phase
				return
			}
			vs := m.get(string(key))
			if len(vs) == 0 {
				st(s, StatusNotFound)
				return
			}
			// Only the first value of a repeated header (an Envoy TODO flags this as a
			// potential security issue).
			if !in.copyOut([]byte(vs[0]), u32(s[3]), u32(s[4])) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_add_header_map_value", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			in.mutateMap(s, true, func(m *headerMap, k, v string) { m.add(k, v) })
		}},
		{name: "proxy_replace_header_map_value", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			in.mutateMap(s, true, func(m *headerMap, k, v string) { m.set(k, v) })
		}},
		{name: "proxy_remove_header_map_value", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) {
			in.mutateMap(s, false, func(m *headerMap, k, _ string) { m.remove(k) })
		}},
		{name: "proxy_get_header_map_pairs", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) {
			t := MapType(u32(s[0]))
			if t > mapTypeMax {
				st(s, StatusBadArgument)
				return
			}
			// Context::getHeaderMapPairs: an unavailable map is an empty one, and OK.
			var pairs [][2]string
			if m := in.constMap(in.contextOrEffective(), t); m != nil {
				pairs = m.pairs()
			}
			if len(pairs) == 0 {
				if !in.copyOut(nil, u32(s[1]), u32(s[2])) {
					st(s, StatusInvalidMemoryAccess)
					return
				}
				st(s, StatusOK)
				return
			}
			if !in.copyOut(marshalPairs(pairs), u32(s[1]), u32(s[2])) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_set_header_map_pairs", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) {
			t := MapType(u32(s[0]))
			if t > mapTypeMax {
				st(s, StatusBadArgument)
				return
			}
			data, ok := in.read(u32(s[1]), u32(s[2]))
			if !ok {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			m := in.mutableMap(in.contextOrEffective(), t)
			if m == nil {
				st(s, StatusBadArgument)
				return
			}
			m.replaceAll(unmarshalPairs(data))
			st(s, StatusOK)
		}},
		{name: "proxy_get_header_map_size", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			t := MapType(u32(s[0]))
			if t > mapTypeMax {
				st(s, StatusBadArgument)
				return
			}
			// Context::getHeaderMapSize uses the mutable map lookup: HTTP-call response maps are
			// BadArgument here even inside proxy_on_http_call_response.
			m := in.mutableMap(in.contextOrEffective(), t)
			if m == nil {
				st(s, StatusBadArgument)
				return
			}
			if !in.writeU32(u32(s[1]), uint32(m.byteSize())) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},

		{name: "proxy_get_buffer_status", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) {
			b, ok := in.bufferArg(s)
			if !ok {
				return
			}
			if !in.writeU32(u32(s[1]), uint32(len(b.data))) || !in.writeU32(u32(s[2]), 0) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_get_buffer_bytes", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			b, ok := in.bufferArg(s)
			if !ok {
				return
			}
			start, length := uint64(u32(s[1])), uint64(u32(s[2]))
			size := uint64(len(b.data))
			// Don't overread: clamp start and length to the buffer.
			if start > size {
				length = 0
			} else if start+length > size {
				length = size - start
			}
			if length == 0 {
				if !in.writeU32(u32(s[3]), 0) || !in.writeU32(u32(s[4]), 0) {
					st(s, StatusInvalidMemoryAccess)
					return
				}
				st(s, StatusOK)
				return
			}
			if !in.copyOut(b.data[start:start+length], u32(s[3]), u32(s[4])) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_set_buffer_bytes", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			b, ok := in.bufferArg(s)
			if !ok {
				return
			}
			data, ok := in.read(u32(s[3]), u32(s[4]))
			if !ok {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, b.copyFrom(int(u32(s[1])), int(u32(s[2])), data))
		}},

		{name: "proxy_http_call", params: p32(10), results: p32(1), fn: func(in *instance, s []uint64) {
			up, ok1 := in.read(u32(s[0]), u32(s[1]))
			hdrs, ok2 := in.read(u32(s[2]), u32(s[3]))
			body, ok3 := in.read(u32(s[4]), u32(s[5]))
			trl, ok4 := in.read(u32(s[6]), u32(s[7]))
			if !ok1 || !ok2 || !ok3 || !ok4 {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			tokenPtr := u32(s[9])
			// Write 0 first to validate the memory before starting the call.
			if !in.writeU32(tokenPtr, 0) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			root := in.rootOf(in.contextOrEffective())
			token, status := in.httpCall(root, string(up), unmarshalPairs(hdrs), body, unmarshalPairs(trl), int32(u32(s[8])))
			in.writeU32(tokenPtr, token)
			st(s, status)
		}},
		// gRPC callouts are not modelled.
		{name: "proxy_grpc_call", params: p32(12), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusUnimplemented) }},
		{name: "proxy_grpc_stream", params: p32(9), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusUnimplemented) }},
		{name: "proxy_grpc_close", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusNotFound) }},
		{name: "proxy_grpc_cancel", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusNotFound) }},
		{name: "proxy_grpc_send", params: p32(4), results: p32(1), fn: func(in *instance, s []uint64) { st(s, StatusBadArgument) }},

		{name: "proxy_set_tick_period_milliseconds", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) {
			// Always the root context's timer (ContextBase::setTimerPeriod); 0 disables it.
			in.setTickPeriod(u32(s[0]))
			st(s, StatusOK)
		}},
		{name: "proxy_get_current_time_nanoseconds", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) {
			if !in.writeU64(u32(s[0]), uint64(in.host.clock.Now().UnixNano())) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_define_metric", params: p32(4), results: p32(1), fn: func(in *instance, s []uint64) {
			name, ok := in.read(u32(s[1]), u32(s[2]))
			if !ok {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			id, status := in.defineMetric(u32(s[0]), string(name))
			if status != StatusOK {
				st(s, status)
				return
			}
			if !in.writeU32(u32(s[3]), id) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_increment_metric", params: []api.ValueType{i32, i64}, results: p32(1), fn: func(in *instance, s []uint64) {
			st(s, in.incrementMetric(u32(s[0]), int64(s[1])))
		}},
		{name: "proxy_record_metric", params: []api.ValueType{i32, i64}, results: p32(1), fn: func(in *instance, s []uint64) {
			st(s, in.recordMetric(u32(s[0]), s[1]))
		}},
		{name: "proxy_get_metric", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			v, status := in.getMetric(u32(s[0]))
			if status != StatusOK {
				st(s, status)
				return
			}
			if !in.writeU64(u32(s[1]), v) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}},
		{name: "proxy_set_effective_context", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) {
			id := u32(s[0])
			if id != 0 && in.contexts[id] == nil {
				st(s, StatusBadArgument)
				return
			}
			in.effective = id
			st(s, StatusOK)
		}},
		{name: "proxy_done", params: nil, results: p32(1), fn: func(in *instance, s []uint64) {
			// WasmBase::done only knows root contexts that are draining at shutdown, which this
			// host never does.
			st(s, StatusNotFound)
		}},
		{name: "proxy_call_foreign_function", params: p32(6), results: p32(1), fn: func(in *instance, s []uint64) {
			name, ok1 := in.read(u32(s[0]), u32(s[1]))
			args, ok2 := in.read(u32(s[2]), u32(s[3]))
			if !ok1 || !ok2 {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			f := in.host.cfg.ForeignFunctions[string(name)]
			if f == nil {
				st(s, StatusNotFound)
				return
			}
			result, status := f(args)
			resPtr, resSizePtr := u32(s[4]), u32(s[5])
			var addr uint32
			if resPtr != 0 && len(result) > 0 {
				p, ok := in.alloc(uint32(len(result)))
				if !ok || !in.write(p, result) {
					st(s, StatusInvalidMemoryAccess)
					return
				}
				addr = p
			}
			if resPtr != 0 && !in.writeU32(resPtr, addr) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			if resSizePtr != 0 && !in.writeU32(resSizePtr, uint32(len(result))) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, status)
		}},
	}
	if abi == abi020 || abi == abi021 {
		fs = append(fs,
			hostFn{name: "proxy_continue_stream", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) {
				t := StreamType(u32(s[0]))
				if t > StreamUpstream {
					st(s, StatusBadArgument)
					return
				}
				st(s, in.continueStream(in.contextOrEffective(), t))
			}},
			hostFn{name: "proxy_close_stream", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) {
				t := StreamType(u32(s[0]))
				if t > StreamUpstream {
					st(s, StatusBadArgument)
					return
				}
				c := in.contextOrEffective()
				if (t == StreamHTTPRequest || t == StreamHTTPResponse) && c.stream != nil {
					strm := c.stream
					in.addAfter(func() { strm.resetByPlugin() })
				}
				st(s, StatusOK)
			}},
		)
	}
	if abi == abi021 {
		fs = append(fs, hostFn{name: "proxy_get_log_level", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) {
			if !in.writeU32(u32(s[0]), uint32(in.host.logLevel)) {
				st(s, StatusInvalidMemoryAccess)
				return
			}
			st(s, StatusOK)
		}})
	}
	return fs
}

// replaceWhitespace is StringUtil::replaceAllEmptySpace, applied to local-reply details.
func replaceWhitespace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return '_'
		}
		return r
	}, s)
}

// mutateMap implements add/replace/remove: BadArgument when the map is not mutable in this phase.
// bufferArg resolves a buffer call's buffer type (s[0]) in the current
// context; when it cannot, it writes the status (BadArgument for an unknown
// type, NotFound for a buffer the context lacks) and reports false.
func (in *instance) bufferArg(s []uint64) (*bufRef, bool) {
	t := BufferType(u32(s[0]))
	if t > bufferTypeMax {
		s[0] = uint64(StatusBadArgument)
		return nil, false
	}
	b := in.buffer(in.contextOrEffective(), t)
	if b == nil {
		s[0] = uint64(StatusNotFound)
		return nil, false
	}
	return b, true
}

func (in *instance) mutateMap(s []uint64, withValue bool, f func(m *headerMap, k, v string)) {
	t := MapType(u32(s[0]))
	if t > mapTypeMax {
		s[0] = uint64(StatusBadArgument)
		return
	}
	key, ok := in.readString(u32(s[1]), u32(s[2]))
	var val string
	if ok && withValue {
		val, ok = in.readString(u32(s[3]), u32(s[4]))
	}
	if !ok {
		s[0] = uint64(StatusInvalidMemoryAccess)
		return
	}
	m := in.mutableMap(in.contextOrEffective(), t)
	if m == nil {
		s[0] = uint64(StatusBadArgument)
		return
	}
	f(m, key, val)
	s[0] = uint64(StatusOK)
}

func (in *instance) setTickPeriod(ms uint32) {
	in.tickPeriod = time.Duration(ms) * time.Millisecond
}
