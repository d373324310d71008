package host

import (
	"bytes"
	"testing"
	"time"
)

// rawInstance starts a host on a module with no language runtime, so that host functions can be
// called directly with exact arguments and memory.
func rawInstance(t *testing.T, p Profile, mods ...func(*Config)) (*Host, *instance) {
	t.Helper()
	m := wModule{funcs: []wFunc{abiExport("0_2_1"), bumpMalloc("malloc")}, global: true}
	cfg := Config{Module: m.bytes(), Profile: p, SkipCanary: true}
	for _, f := range mods {
		f(&cfg)
	}
	h := newHost(t, cfg)
	return h, h.VM(0).inst
}

func hasHostFn(h *Host, module, name string) bool {
	for _, f := range h.hostFunctions() {
		if f.module == module && f.name == name {
			return true
		}
	}
	return false
}

// hostCall invokes a host function's implementation as the guest would.
func hostCall(t *testing.T, h *Host, in *instance, module, name string, args ...uint64) uint32 {
	t.Helper()
	for _, f := range h.hostFunctions() {
		if f.module != module || f.name != name {
			continue
		}
		stack := make([]uint64, max(len(f.params), len(f.results), 1))
		copy(stack, args)
		h.VM(0).mu.Lock()
		f.fn(in, stack)
		h.VM(0).mu.Unlock()
		if len(f.results) == 0 {
			return 0
		}
		return uint32(stack[0])
	}
	t.Fatalf("%s.%s is not provided", module, name)
	return 0
}

func mem32(in *instance, p uint32) uint32 {
	v, _ := in.mem.ReadUint32Le(p)
	return v
}

func mem64(in *instance, p uint32) uint64 {
	v, _ := in.mem.ReadUint64Le(p)
	return v
}

func lastLog(h *Host) Log {
	l := h.Logs()
	return l[len(l)-1]
}

func TestWASIFunctions(t *testing.T) {
	const w = "wasi_snapshot_preview1"
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			clock := NewManualClock(time.Unix(1700000000, 5))
			h, in := rawInstance(t, p, func(c *Config) {
				c.Clock = clock
				c.Env = map[string]string{"BB": "22", "A": "1"}
			})
			call := func(name string, args ...uint64) uint32 { return hostCall(t, h, in, w, name, args...) }
			iov := func(at uint32, parts ...string) {
				data := uint32(2000)
				for i, s := range parts {
					in.write(data, []byte(s))
					in.writeU32(at+uint32(i)*8, data)
					in.writeU32(at+uint32(i)*8+4, uint32(len(s)))
					data += uint32(len(s))
				}
			}

			iov(100, "hello ", "out\n")
			if got := call("fd_write", 1, 100, 2, 300); got != 0 || mem32(in, 300) != 10 {
				t.Errorf("fd_write(1) = %d, nwritten %d", got, mem32(in, 300))
			}
			if l := lastLog(h); l.Message != "hello out" || l.Level != LogInfo || l.Source != SourceStdout {
				t.Errorf("stdout line = %+v", l)
			}
			iov(100, "oops\n\n")
			if got := call("fd_write", 2, 100, 1, 300); got != 0 {
				t.Errorf("fd_write(2) = %d", got)
			}
			if l := lastLog(h); l.Message != "oops\n" || l.Level != LogError || l.Source != SourceStderr {
				t.Errorf("stderr line = %+v; want one newline stripped", l)
			}
			for name, want := range map[string]uint32{"fd 3": 8} {
				if got := call("fd_write", 3, 100, 1, 300); got != want {
					t.Errorf("fd_write(%s) = %d; want %d", name, got, want)
				}
			}
			if got := call("fd_write", 1, 1<<20, 1, 300); got != 21 {
				t.Errorf("fd_write with a bad iovec = %d; want 21 (EFAULT)", got)
			}

			simple := []struct {
				name string
				args []uint64
				want uint32
			}{
				{"fd_read", []uint64{0, 100, 1, 300}, 52},
				{"fd_seek", []uint64{1, 0, 0, 300}, 0},
				{"fd_close", []uint64{1}, 0},
				{"fd_fdstat_set_flags", []uint64{1, 0}, 52},
				{"fd_fdstat_get", []uint64{3, 400}, 8},
				{"args_get", []uint64{400, 500}, 0},
				{"clock_time_get", []uint64{2, 0, 400}, 58},
				{"random_get", []uint64{4000, 64 * 1024}, 0},
				{"random_get", []uint64{4000, 64*1024 + 1}, 28},
				{"sched_yield", nil, 0},
				{"path_open", []uint64{3, 0, 100, 1, 0, 0, 0, 0, 300}, 44},
				{"fd_prestat_get", []uint64{3, 400}, 8},
				{"fd_prestat_dir_name", []uint64{3, 400, 10}, 52},
			}
			for _, c := range simple {
				if got := call(c.name, c.args...); got != c.want {
					t.Errorf("%s%v = %d; want %d", c.name, c.args, got, c.want)
				}
			}
			// The PR #533 additions exist only on the newer profile.
			added := []struct {
				name string
				args []uint64
				want uint32
			}{
				{"clock_res_get", []uint64{1, 400}, 0},
				{"clock_res_get", []uint64{3, 400}, 58},
				{"fd_filestat_get", []uint64{1, 400}, 8},
				{"path_filestat_get", []uint64{3, 0, 100, 1, 400}, 58},
				{"fd_tell", []uint64{1, 400}, 0},
				{"fd_tell", []uint64{5, 400}, 8},
				{"fd_readdir", []uint64{3, 400, 10, 0, 500}, 20},
				{"fd_renumber", []uint64{1, 2}, 58},
				{"fd_renumber", []uint64{1, 5}, 8},
				{"fd_pread", []uint64{3, 100, 1, 0, 300}, 52},
				{"fd_advise", []uint64{5, 0, 0, 0}, 0},
				{"fd_allocate", []uint64{5, 0, 0}, 8},
				{"fd_sync", []uint64{1}, 0},
				{"sock_recv", []uint64{3, 100, 1, 0, 400, 404}, 58},
				{"sock_send", []uint64{3, 100, 1, 0, 400}, 58},
				{"sock_accept", []uint64{3, 0, 400}, 58},
				{"path_unlink_file", []uint64{3, 100, 1}, 58},
			}
			for _, c := range added {
				if !hasHostFn(h, w, c.name) {
					if p == ProfileEnvoy139 {
						t.Errorf("%s missing from %v", c.name, p)
					}
					continue
				}
				if p == ProfileEnvoy133 {
					t.Errorf("%s present in %v", c.name, p)
				}
				if got := call(c.name, c.args...); got != c.want {
					t.Errorf("%s%v = %d; want %d", c.name, c.args, got, c.want)
				}
			}

			if got := call("fd_fdstat_get", 1, 400); got != 0 || mem64(in, 408) != 64 {
				t.Errorf("fd_fdstat_get(1) = %d, rights %d; want FD_WRITE (64)", got, mem64(in, 408))
			}
			if got := call("args_sizes_get", 400, 404); got != 0 || mem32(in, 400) != 0 || mem32(in, 404) != 0 {
				t.Errorf("args_sizes_get = %d (%d, %d)", got, mem32(in, 400), mem32(in, 404))
			}
			if got := call("environ_sizes_get", 400, 404); got != 0 || mem32(in, 400) != 2 || mem32(in, 404) != 10 {
				t.Errorf("environ_sizes_get = %d (%d, %d); want 2 entries, 10 bytes", got, mem32(in, 400), mem32(in, 404))
			}
			if got := call("environ_get", 600, 700); got != 0 {
				t.Errorf("environ_get = %d", got)
			}
			buf, _ := in.read(700, 10)
			if !bytes.Equal(buf, []byte("A=1\x00BB=22\x00")) || mem32(in, 600) != 700 || mem32(in, 604) != 704 {
				t.Errorf("environ = %q at %d, %d", buf, mem32(in, 600), mem32(in, 604))
			}
			if got := call("clock_time_get", 0, 0, 400); got != 0 || int64(mem64(in, 400)) != clock.Now().UnixNano() {
				t.Errorf("realtime = %d (%d)", mem64(in, 400), got)
			}
			clock.Advance(time.Second)
			if got := call("clock_time_get", 1, 0, 400); got != 0 || int64(mem64(in, 400)) != 2*int64(time.Second) {
				t.Errorf("monotonic = %d (%d); want 2s", mem64(in, 400), got)
			}

			// poll_oneoff: 0 events at once after PR #533, ENOSYS before it.
			in.writeU32(500, 7)
			got := call("poll_oneoff", 100, 200, 1, 500)
			if p == ProfileEnvoy139 && (got != 0 || mem32(in, 500) != 0) {
				t.Errorf("poll_oneoff = %d, nevents %d; want 0, 0", got, mem32(in, 500))
			}
			if p == ProfileEnvoy133 && (got != 52 || mem32(in, 500) != 7) {
				t.Errorf("poll_oneoff = %d, nevents %d; want 52, untouched", got, mem32(in, 500))
			}
			// proc_exit only logs.
			call("proc_exit", 3)
			if in.failed != failNone {
				t.Error("proc_exit failed the VM")
			}
			// Both module names.
			if hostCall(t, h, in, "wasi_unstable", "sched_yield") != 0 {
				t.Error("wasi_unstable.sched_yield")
			}
		})
	}
}

func TestEnvHelperFunctions(t *testing.T) {
	clock := NewManualClock(time.Unix(1, 2))
	h, in := rawInstance(t, ProfileEnvoy139, func(c *Config) { c.Clock = clock })
	call := func(name string, args ...uint64) uint32 { return hostCall(t, h, in, "env", name, args...) }
	in.write(100, []byte("msg"))
	for _, c := range []struct {
		name string
		args []uint64
		want uint32
	}{
		{"proxy_log", []uint64{5, 100, 3}, 0},
		{"proxy_log", []uint64{6, 100, 3}, 2},
		{"proxy_log", []uint64{2, 1 << 20, 3}, 6},
		{"proxy_get_current_time_nanoseconds", []uint64{200}, 0},
		{"proxy_done", nil, 1},
		{"proxy_continue_stream", []uint64{4}, 2},
		{"proxy_continue_stream", []uint64{3}, 12},
		{"proxy_continue_stream", []uint64{2}, 0},
		{"proxy_close_stream", []uint64{4}, 2},
		{"proxy_register_shared_queue", []uint64{100, 3, 200}, 12},
		{"proxy_grpc_call", make([]uint64, 12), 12},
		{"proxy_set_effective_context", []uint64{77}, 2},
		{"proxy_set_effective_context", []uint64{1}, 0},
		{"pthread_equal", []uint64{5, 5}, 1},
		{"proxy_get_header_map_pairs", []uint64{8, 200, 204}, 2},
		{"proxy_get_buffer_bytes", []uint64{9, 0, 1, 200, 204}, 2},
		{"proxy_get_buffer_bytes", []uint64{7, 0, 1, 200, 204}, 1}, // outside on_configure
		{"proxy_get_property", []uint64{100, 3, 200, 204}, 1},
		{"proxy_get_log_level", []uint64{200}, 0},
	} {
		if got := call(c.name, c.args...); got != c.want {
			t.Errorf("%s%v = %d; want %d", c.name, c.args, got, c.want)
		}
	}
	if v := mem32(in, 200); v != uint32(LogInfo) {
		t.Errorf("log level = %d", v)
	}
	call("proxy_get_current_time_nanoseconds", 200)
	if v := mem64(in, 200); int64(v) != clock.Now().UnixNano() {
		t.Errorf("current time = %d", v)
	}
	if l := lastLog(h); l.Level != LogCritical || l.Message != "msg" {
		t.Errorf("critical log = %+v", l)
	}
}
