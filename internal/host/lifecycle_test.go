package host

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Labels in the raw modules' data segment.
const rawData = "INITMAINSTRTMALCPOMAVOID"

const (
	lblInit = 0
	lblMain = 4
	lblStrt = 8
	lblMalc = 12
	lblPoma = 16
	lblVoid = 20
)

func abiExport(v string) wFunc { return wFunc{export: "proxy_abi_version_" + v} }

func hostLogMessages(h *Host, src LogSource) []string {
	var out []string
	for _, l := range h.Logs() {
		if l.Source == src {
			out = append(out, l.Message)
		}
	}
	return out
}

func TestABIDetectionAndLoadErrors(t *testing.T) {
	okAlloc := bumpMalloc("proxy_on_memory_allocate")
	tests := []struct {
		name    string
		mod     wModule
		wantErr string // "" means New succeeds
	}{
		{"no ABI export", wModule{funcs: []wFunc{okAlloc}, global: true}, "Missing or unknown Proxy-Wasm ABI version"},
		{"ABI 0.1.0", wModule{funcs: []wFunc{abiExport("0_1_0"), okAlloc}, global: true}, "0.1.0 is not supported"},
		{"ABI 0.2.1", wModule{funcs: []wFunc{abiExport("0_2_1"), okAlloc}, global: true}, ""},
		{"ABI 0.2.0", wModule{funcs: []wFunc{abiExport("0_2_0"), okAlloc}, global: true}, ""},
		{
			// The first marker in export order decides: 0.2.0 has no proxy_get_log_level.
			"first export wins",
			wModule{
				imports: []wImport{{"env", "proxy_get_log_level", []byte{vI32}, []byte{vI32}}},
				funcs:   []wFunc{abiExport("0_2_0"), abiExport("0_2_1"), okAlloc}, global: true,
			},
			"missing import: env.proxy_get_log_level",
		},
		{
			"first export wins (0.2.1 first)",
			wModule{
				imports: []wImport{{"env", "proxy_get_log_level", []byte{vI32}, []byte{vI32}}},
				funcs:   []wFunc{abiExport("0_2_1"), abiExport("0_2_0"), okAlloc}, global: true,
			},
			"",
		},
		{"no allocator", wModule{funcs: []wFunc{abiExport("0_2_1")}}, "Wasm module is missing malloc function"},
		{
			"unknown import",
			wModule{imports: []wImport{{"env", "proxy_no_such_call", nil, []byte{vI32}}}, funcs: []wFunc{abiExport("0_2_1"), okAlloc}, global: true},
			"Failed to load Wasm module due to a missing import: env.proxy_no_such_call",
		},
		{
			"import type mismatch",
			wModule{imports: []wImport{{"env", "proxy_log", []byte{vI32, vI32}, []byte{vI32}}}, funcs: []wFunc{abiExport("0_2_1"), okAlloc}, global: true},
			"import type mismatch: env.proxy_log",
		},
		{
			// cpp-host declares path_symlink with 4 parameters; the WASI spec (and Go's syscall
			// package) has 5.
			"WASI spec signature of path_symlink",
			wModule{imports: []wImport{{"wasi_snapshot_preview1", "path_symlink", []byte{vI32, vI32, vI32, vI32, vI32}, []byte{vI32}}}, funcs: []wFunc{abiExport("0_2_1"), okAlloc}, global: true},
			"import type mismatch: wasi_snapshot_preview1.path_symlink",
		},
		{
			"bad export signature",
			wModule{funcs: []wFunc{abiExport("0_2_1"), okAlloc, {export: "proxy_on_request_headers", params: []byte{vI32, vI32}, results: []byte{vI32}, body: i32c(0)}}, global: true},
			"Bad function signature for: proxy_on_request_headers",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(context.Background(), Config{Module: tc.mod.bytes(), Profile: ProfileEnvoy139})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New = %v; want success", err)
				}
				h.Close()
				return
			}
			if err == nil {
				h.Close()
				t.Fatalf("New succeeded; want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New = %v; want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestLinkFailureForMissingWASIFunction shows a module importing a PR #533 WASI function:
// it links under ProfileEnvoy139 and fails under ProfileEnvoy133 with Envoy's message.
func TestLinkFailureForMissingWASIFunction(t *testing.T) {
	mod := wModule{
		imports: []wImport{{"wasi_snapshot_preview1", "fd_filestat_get", []byte{vI32, vI32}, []byte{vI32}}},
		funcs:   []wFunc{abiExport("0_2_1"), bumpMalloc("malloc")}, global: true,
	}
	for _, tc := range []struct {
		p       Profile
		wantErr string
	}{
		{ProfileEnvoy139, ""},
		{ProfileEnvoy133, "Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.fd_filestat_get"},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			h, err := New(context.Background(), Config{Module: mod.bytes(), Profile: tc.p})
			if err == nil {
				h.Close()
			}
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("New = %v; want %q", err, tc.wantErr)
			}
		})
	}
}

// TestMallocPreferredOverProxyOnMemoryAllocate: cpp-host looks for "malloc" first.
func TestMallocPreferredOverProxyOnMemoryAllocate(t *testing.T) {
	getBuf := wImport{"env", "proxy_get_buffer_bytes", []byte{vI32, vI32, vI32, vI32, vI32}, []byte{vI32}}
	mk := func(withMalloc bool) wModule {
		m := wModule{imports: []wImport{logImport(), getBuf}, data: []byte(rawData), global: true}
		m.funcs = append(m.funcs, abiExport("0_2_1"))
		pom := bumpMalloc("proxy_on_memory_allocate")
		pom.body = cat(logCall(0, lblPoma, 4), pom.body)
		m.funcs = append(m.funcs, pom)
		if withMalloc {
			ma := bumpMalloc("malloc")
			ma.body = cat(logCall(0, lblMalc, 4), ma.body)
			m.funcs = append(m.funcs, ma)
		}
		// proxy_on_configure copies the plugin configuration in: the host allocates.
		m.funcs = append(m.funcs, wFunc{export: "proxy_on_configure", params: []byte{vI32, vI32}, results: []byte{vI32},
			body: cat(i32c(7), i32c(0), i32c(4), i32c(200), i32c(204), call(1), drop(), i32c(1))})
		return m
	}
	for _, tc := range []struct {
		name       string
		withMalloc bool
		want       string
	}{
		{"malloc and proxy_on_memory_allocate", true, "MALC"},
		{"proxy_on_memory_allocate only", false, "POMA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, Config{Module: mk(tc.withMalloc).bytes(), PluginConfig: []byte("abcd"), SkipCanary: true})
			if got := hostLogMessages(h, SourceProxyLog); !reflect.DeepEqual(got, []string{tc.want}) {
				t.Fatalf("allocator logs = %q; want [%q]", got, tc.want)
			}
		})
	}
}

// TestStartFunctions: a reactor gets _initialize and then main (or __main_void); a command gets
// _start.
func TestStartFunctions(t *testing.T) {
	fn := func(export string, lbl int32, params, results []byte, ret []byte) wFunc {
		return wFunc{export: export, params: params, results: results, body: cat(logCall(0, lbl, 4), ret)}
	}
	init := fn("_initialize", lblInit, nil, nil, nil)
	mainF := fn("main", lblMain, []byte{vI32, vI32}, []byte{vI32}, i32c(0))
	mainVoid := fn("__main_void", lblVoid, nil, []byte{vI32}, i32c(0))
	start := fn("_start", lblStrt, nil, nil, nil)
	for _, tc := range []struct {
		name  string
		funcs []wFunc
		want  []string
	}{
		{"reactor with main", []wFunc{init, mainF, start}, []string{"INIT", "MAIN"}},
		{"reactor with __main_void", []wFunc{init, mainVoid}, []string{"INIT", "VOID"}},
		{"reactor with both", []wFunc{init, mainVoid, mainF}, []string{"INIT", "MAIN"}},
		{"command", []wFunc{start, mainF}, []string{"STRT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := wModule{imports: []wImport{logImport()}, data: []byte(rawData), global: true,
				funcs: append([]wFunc{abiExport("0_2_1"), bumpMalloc("malloc")}, tc.funcs...)}
			h := newHost(t, Config{Module: m.bytes(), SkipCanary: true})
			if got := hostLogMessages(h, SourceProxyLog); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("start-up calls = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestStartupAllowlistPerProfile calls imports from _initialize: proxy_log is always allowed,
// poll_oneoff only since PR #533, proxy_* calls never.
func TestStartupAllowlistPerProfile(t *testing.T) {
	imports := []wImport{
		logImport(),
		{"wasi_snapshot_preview1", "poll_oneoff", []byte{vI32, vI32, vI32, vI32}, []byte{vI32}},
		{"env", "proxy_get_property", []byte{vI32, vI32, vI32, vI32}, []byte{vI32}},
		{"wasi_unstable", "sched_yield", nil, []byte{vI32}},
	}
	bodies := map[string][]byte{
		"proxy_log":          logCall(0, lblInit, 4),
		"poll_oneoff":        cat(i32c(100), i32c(200), i32c(0), i32c(300), call(1), drop()),
		"proxy_get_property": cat(i32c(0), i32c(4), i32c(300), i32c(304), call(2), drop()),
		"sched_yield":        cat(call(3), drop()),
	}
	for _, tc := range []struct {
		call    string
		p       Profile
		trapped string // offending import, "" when allowed
	}{
		{"proxy_log", ProfileEnvoy139, ""},
		{"proxy_log", ProfileEnvoy133, ""},
		{"poll_oneoff", ProfileEnvoy139, ""},
		{"poll_oneoff", ProfileEnvoy133, "wasi_snapshot_preview1.poll_oneoff"},
		{"proxy_get_property", ProfileEnvoy139, "env.proxy_get_property"},
		{"proxy_get_property", ProfileEnvoy133, "env.proxy_get_property"},
		{"sched_yield", ProfileEnvoy139, "wasi_unstable.sched_yield"},
	} {
		t.Run(tc.call+"/"+tc.p.String(), func(t *testing.T) {
			m := wModule{imports: imports, data: []byte(rawData), global: true, funcs: []wFunc{
				abiExport("0_2_1"), bumpMalloc("malloc"), {export: "_initialize", body: bodies[tc.call]},
			}}
			h, err := New(context.Background(), Config{Module: m.bytes(), Profile: tc.p})
			if tc.trapped == "" {
				if err != nil {
					t.Fatalf("New = %v; want success", err)
				}
				h.Close()
				return
			}
			if err == nil {
				h.Close()
				t.Fatal("New succeeded; want a restricted_callback trap")
			}
			if !strings.Contains(err.Error(), "restricted_callback") || !strings.Contains(err.Error(), tc.trapped) {
				t.Fatalf("New = %v; want restricted_callback naming %s", err, tc.trapped)
			}
		})
	}
}

// TestAllocatorAllowlistPerProfile: an allocator that sleeps through poll_oneoff (what a Go GC
// inside proxy_on_memory_allocate may do) is fine after PR #533 and traps before it.
func TestAllocatorAllowlistPerProfile(t *testing.T) {
	imports := []wImport{
		{"wasi_snapshot_preview1", "poll_oneoff", []byte{vI32, vI32, vI32, vI32}, []byte{vI32}},
		{"env", "proxy_get_buffer_bytes", []byte{vI32, vI32, vI32, vI32, vI32}, []byte{vI32}},
	}
	alloc := bumpMalloc("malloc")
	alloc.body = cat(i32c(100), i32c(200), i32c(0), i32c(300), call(0), drop(), alloc.body)
	m := wModule{imports: imports, global: true, funcs: []wFunc{
		abiExport("0_2_1"), alloc,
		{export: "proxy_on_configure", params: []byte{vI32, vI32}, results: []byte{vI32},
			body: cat(i32c(7), i32c(0), i32c(4), i32c(400), i32c(404), call(1), drop(), i32c(1))},
	}}
	for _, tc := range []struct {
		p    Profile
		trap bool
	}{{ProfileEnvoy139, false}, {ProfileEnvoy133, true}} {
		t.Run(tc.p.String(), func(t *testing.T) {
			h, err := New(context.Background(), Config{Module: m.bytes(), PluginConfig: []byte("conf"), Profile: tc.p})
			if !tc.trap {
				if err != nil {
					t.Fatalf("New = %v", err)
				}
				h.Close()
				return
			}
			if err == nil {
				h.Close()
				t.Fatal("New succeeded; want a restricted_callback trap in malloc")
			}
			if !strings.Contains(err.Error(), "restricted_callback: wasi_snapshot_preview1.poll_oneoff may not be called during malloc") {
				t.Fatalf("New = %v", err)
			}
		})
	}
}

func TestGoInitCallingHostFunctionTrapsAtStartup(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			var logs []Log
			_, err := New(context.Background(), Config{Module: guests["initprop"], Profile: p, LogSink: func(l Log) { logs = append(logs, l) }})
			if err == nil {
				t.Fatal("New succeeded; want a restricted_callback trap from init()")
			}
			for _, want := range []string{"restricted_callback", "env.proxy_get_property", "_initialize"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("New = %v; want it to mention %q", err, want)
				}
			}
			var msgs []string
			for _, l := range logs {
				msgs = append(msgs, l.Message)
			}
			joined := strings.Join(msgs, "\n")
			if !strings.Contains(joined, "initprop: init runs") || strings.Contains(joined, "not reached") {
				t.Errorf("logs = %q; want init to run up to the trap", msgs)
			}
		})
	}
}

func TestAllocatorCallingHostFunctionFailsVM(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newHost(t, Config{Module: guests["badalloc"], Profile: p, PluginConfig: []byte("x")})
			vm := h.VM(0)
			s := vm.NewStream(Connection{})
			if a := s.RequestHeaders(reqHeaders("/"), true); a != StopAllIterationAndWatermark {
				t.Errorf("RequestHeaders = %v; want StopAllIterationAndWatermark (fail closed)", a)
			}
			var rc *RestrictedCallbackError
			if !errors.As(vm.FailureError(), &rc) {
				t.Fatalf("FailureError = %v; want a *RestrictedCallbackError", vm.FailureError())
			}
			if rc.Import != "wasi_snapshot_preview1.random_get" || rc.Phase != "proxy_on_memory_allocate" {
				t.Errorf("trap = %+v", rc)
			}
			if lr := s.LocalReply(); lr == nil || lr.Status != 503 || lr.Details != "wasm_fail_stream" {
				t.Errorf("LocalReply = %+v; want 503 wasm_fail_stream", lr)
			}
		})
	}
}

func TestStartOrderAndConfigurationBuffers(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			script := "configure: getbuf 7 0 1000; getbuf 6 0 100\nrequest_headers: getbuf 7 0 10; getbuf 6 0 100"
			h := newProbe(t, p, script, func(c *Config) {
				c.VMConfig = []byte("vm_start: getbuf 7 0 10; getbuf 6 0 100")
				c.SkipCanary = false
				c.Workers = 2
			})
			for _, vm := range []int{-1, 0, 1} {
				got := enters(h, vm)
				want := []string{"context_create(1,0)", "vm_start(1,39)", "configure(1," + strconv.Itoa(len(script)) + ")"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("VM %d callbacks = %q; want %q", vm, got, want)
				}
			}
			if st, b := decoded(t, result(t, h, "configure", "getbuf 7 0 1000")); st != "0" || string(b) != script {
				t.Errorf("plugin config in on_configure = %s %q", st, b)
			}
			if st, _ := decoded(t, result(t, h, "vm_start", "getbuf 7 0 10")); st != "1" {
				t.Errorf("plugin config in on_vm_start: status %s; want 1 (NotFound)", st)
			}
			if st, b := decoded(t, result(t, h, "vm_start", "getbuf 6 0 100")); st != "0" || !strings.HasPrefix(string(b), "vm_start:") {
				t.Errorf("VM config in on_vm_start = %s %q", st, b)
			}
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), true)
			s.Close()
			if st, _ := decoded(t, result(t, h, "request_headers", "getbuf 7 0 10")); st != "1" {
				t.Errorf("plugin config in on_request_headers: status %s; want 1 (NotFound)", st)
			}
		})
	}
}

func TestContextIDsCountUpAndAreNeverReused(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "")
	vm := h.VM(0)
	if got := vm.RootContextID(); got != 1 {
		t.Fatalf("root context id = %d; want 1", got)
	}
	var ids []uint32
	for i := 0; i < 3; i++ {
		s := vm.NewStream(Connection{})
		s.RequestHeaders(reqHeaders("/"), true)
		s.Close()
		ids = append(ids, s.ID())
	}
	if !reflect.DeepEqual(ids, []uint32{2, 3, 4}) {
		t.Fatalf("stream ids = %v; want [2 3 4]", ids)
	}
	want := []string{"context_create(2,1)", "request_headers(2,4,1)", "log(2)", "done(2)", "delete(2)"}
	if got := enters(h, 0)[3:8]; !reflect.DeepEqual(got, want) {
		t.Fatalf("stream callbacks = %q; want %q", got, want)
	}
}

func TestCanaryAndWorkersAllRunStartup(t *testing.T) {
	h := newHost(t, Config{Module: guests["echo"], Workers: 3, VMConfig: []byte("vmcfg")})
	count := 0
	for _, l := range h.Logs() {
		if l.Message == "echo configured" {
			count++
		}
	}
	// The canary and the three workers; the base VM only runs _initialize.
	if count != 4 {
		t.Errorf("on_configure ran %d times; want 4 (canary + 3 workers)", count)
	}
	v, _, st := h.SharedData().Get("", "echo_configured")
	if st != StatusOK || string(v) != "4" {
		t.Errorf("shared echo_configured = %q (%v); want 4", v, st)
	}
}

func TestConfigureReturningFalseIsAnError(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			_, err := New(context.Background(), Config{Module: guests["echo"], PluginConfig: []byte("reject=yes"), Profile: p})
			if err == nil || !strings.Contains(err.Error(), "proxy_on_configure returned false") || !strings.Contains(err.Error(), "[critical] echo: configuration rejected") {
				t.Fatalf("New = %v; want a configure failure quoting the critical log", err)
			}
		})
	}
}
