//go:build wasip1

// Command probe is a scriptable test guest. Its plugin configuration holds one line per phase,
// "phase: command; command; ...", and the VM configuration may hold a "vm_start:" line. Every
// callback logs "probe|<phase>|enter|<arguments>" and every command logs
// "probe|<phase>|<command>|<result>", so tests can check what the host did from inside the guest.
package main

import (
	"runtime"
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/host/testdata/guests/internal/abi"
)

func main() {}

var (
	scripts = map[string][]string{}
	metrics = map[string]uint32{}
	callers = map[uint32]uint32{} // http call token -> stream context id
	rootID  uint32
)

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func alloc(size uint32) *byte { return abi.Alloc(size) }

func parseScripts(cfg string) {
	for _, line := range strings.Split(cfg, "\n") {
		phase, cmds, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		phase = strings.TrimSpace(phase)
		for _, c := range strings.Split(cmds, ";") {
			if c = strings.TrimSpace(c); c != "" {
				scripts[phase] = append(scripts[phase], c)
			}
		}
	}
}

// unescape decodes %XX escapes.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

func atoi(s string) uint64 {
	var n uint64
	neg := false
	for i, c := range s {
		if i == 0 && c == '-' {
			neg = true
			continue
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

func u(v uint32) string { return abi.Itoa(uint64(v)) }

// run executes the script of a phase and returns the callback's return value.
func run(phase string, ctxID uint32, def uint32) uint32 {
	ret := def
	for _, c := range scripts[phase] {
		args := strings.Split(c, " ")
		for i := range args {
			args[i] = unescape(args[i])
		}
		res := exec(args, ctxID, &ret)
		abi.Info("probe|" + phase + "|" + c + "|" + res)
	}
	return ret
}

func exec(a []string, ctxID uint32, ret *uint32) string {
	n := func(i int) uint32 { return uint32(atoi(a[i])) }
	switch a[0] {
	case "return":
		*ret = n(1)
		return "ok"
	case "ctx":
		return u(ctxID)
	case "prop":
		v, st := abi.GetProperty(a[1:]...)
		return u(st) + ":" + abi.Hex(v)
	case "propraw":
		p := ""
		if len(a) > 1 {
			p = a[1]
		}
		v, st := abi.GetPropertyRaw(p)
		return u(st) + ":" + abi.Hex(v)
	case "setprop":
		return u(abi.SetProperty(a[1], []byte(a[2])))
	case "getbuf":
		v, st := abi.GetBuffer(n(1), n(2), n(3))
		return u(st) + ":" + abi.Hex(v)
	case "setbuf":
		return u(abi.SetBuffer(n(1), n(2), n(3), []byte(a[4])))
	case "pairs":
		pairs, size, st := abi.GetHeaders(n(1))
		s := u(st) + ":" + u(size)
		for _, p := range pairs {
			s += ":" + p[0] + "=" + p[1]
		}
		return s
	case "get":
		v, st := abi.GetHeader(n(1), a[2])
		return u(st) + ":" + v
	case "add":
		return u(abi.AddHeader(n(1), a[2], a[3]))
	case "replace":
		return u(abi.ReplaceHeader(n(1), a[2], a[3]))
	case "remove":
		return u(abi.RemoveHeader(n(1), a[2]))
	case "setpairs":
		var pairs [][2]string
		for i := 2; i+1 < len(a); i += 2 {
			pairs = append(pairs, [2]string{a[i], a[i+1]})
		}
		return u(abi.SetHeaders(n(1), pairs))
	case "size":
		v, st := abi.HeaderMapSize(n(1))
		return u(st) + ":" + u(v)
	case "local":
		var hs [][2]string
		for i := 4; i+1 < len(a); i += 2 {
			hs = append(hs, [2]string{a[i], a[i+1]})
		}
		return u(abi.SendLocalResponse(n(1), a[2], []byte(a[3]), hs, -1))
	case "continue":
		return u(abi.ContinueStream(n(1)))
	case "close":
		return u(abi.CloseStream(n(1)))
	case "call":
		// call cluster method path authority timeout [body]
		var body []byte
		if len(a) > 6 {
			body = []byte(a[6])
		}
		hs := [][2]string{}
		if a[2] != "-" {
			hs = append(hs, [2]string{":method", a[2]})
		}
		if a[3] != "-" {
			hs = append(hs, [2]string{":path", a[3]})
		}
		if a[4] != "-" {
			hs = append(hs, [2]string{":authority", a[4]})
		}
		hs = append(hs, [2]string{"x-probe-ctx", u(ctxID)})
		token, st := abi.HTTPCall(a[1], hs, body, n(5))
		if st == 0 {
			callers[token] = ctxID
		}
		return u(st) + ":" + u(token)
	case "effective":
		id := uint32(0)
		if a[1] == "caller" {
			id = callers[ctxID] // in http_call_response, ctxID is the token
		} else {
			id = n(1)
		}
		return u(abi.SetEffectiveContext(id))
	case "metric":
		switch a[1] {
		case "define":
			id, st := abi.DefineMetric(n(2), a[3])
			metrics[a[3]] = id
			return u(st) + ":" + u(id)
		case "inc":
			return u(abi.IncrementMetric(metrics[a[2]], int64(atoi(a[3]))))
		case "incid":
			return u(abi.IncrementMetric(n(2), int64(atoi(a[3]))))
		case "rec":
			return u(abi.RecordMetric(metrics[a[2]], atoi(a[3])))
		case "get":
			v, st := abi.GetMetric(metrics[a[2]])
			return u(st) + ":" + abi.Itoa(v)
		case "getid":
			v, st := abi.GetMetric(n(2))
			return u(st) + ":" + abi.Itoa(v)
		}
	case "shared":
		switch a[1] {
		case "get":
			v, cas, st := abi.GetSharedData(a[2])
			return u(st) + ":" + u(cas) + ":" + string(v)
		case "set":
			return u(abi.SetSharedData(a[2], []byte(a[3]), n(4)))
		}
	case "tick":
		return u(abi.SetTickPeriod(n(1)))
	case "foreign":
		var arg []byte
		if len(a) > 2 {
			arg = fromHex(a[2])
		}
		v, st := abi.CallForeign(a[1], arg)
		return u(st) + ":" + abi.Hex(v)
	case "loglevel":
		v, st := abi.LogLevel()
		return u(st) + ":" + u(v)
	case "log":
		return u(abi.Log(n(1), a[2]))
	case "now":
		v, st := abi.Now()
		return u(st) + ":" + abi.Itoa(v)
	case "panic":
		panic("probe panic")
	case "gc":
		runtime.GC()
		return "ok"
	case "pinned":
		return abi.Itoa(uint64(abi.Pinned()))
	}
	return "unknown command"
}

func fromHex(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = unhex(s[2*i])<<4 | unhex(s[2*i+1])
	}
	return b
}

func enter(phase string, args ...uint32) {
	s := "probe|" + phase + "|enter|"
	for i, a := range args {
		if i > 0 {
			s += ","
		}
		s += u(a)
	}
	abi.Info(s)
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {
	enter("context_create", id, parent)
	if parent == 0 {
		rootID = id
		return
	}
	run("context_create", id, 0)
}

//go:wasmexport proxy_on_vm_start
func onVMStart(id, size uint32) uint32 {
	enter("vm_start", id, size)
	cfg, _ := abi.GetBuffer(abi.VMConfiguration, 0, size)
	parseScripts(string(cfg))
	return run("vm_start", id, 1)
}

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 {
	enter("configure", id, size)
	cfg, _ := abi.GetBuffer(abi.PluginConfiguration, 0, size)
	parseScripts(string(cfg))
	return run("configure", id, 1)
}

//go:wasmexport proxy_on_tick
func onTick(id uint32) {
	enter("tick", id)
	run("tick", id, 0)
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	enter("request_headers", id, n, eos)
	return run("request_headers", id, 0)
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, size, eos uint32) uint32 {
	enter("request_body", id, size, eos)
	return run("request_body", id, 0)
}

//go:wasmexport proxy_on_request_trailers
func onRequestTrailers(id, n uint32) uint32 {
	enter("request_trailers", id, n)
	return run("request_trailers", id, 0)
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	enter("response_headers", id, n, eos)
	return run("response_headers", id, 0)
}

//go:wasmexport proxy_on_response_body
func onResponseBody(id, size, eos uint32) uint32 {
	enter("response_body", id, size, eos)
	return run("response_body", id, 0)
}

//go:wasmexport proxy_on_response_trailers
func onResponseTrailers(id, n uint32) uint32 {
	enter("response_trailers", id, n)
	return run("response_trailers", id, 0)
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(id, token, nh, bs, nt uint32) {
	enter("http_call_response", id, token, nh, bs, nt)
	// Commands see the token as their context argument ("effective caller").
	run("http_call_response", token, 0)
}

//go:wasmexport proxy_on_log
func onLog(id uint32) {
	enter("log", id)
	run("log", id, 0)
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 {
	enter("done", id)
	return run("done", id, 1)
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {
	enter("delete", id)
	run("delete", id, 0)
}
