package host

import (
	"crypto/rand"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// WASI errno values used by proxy-wasm-cpp-host's WASI implementation (src/exports.cc).
const (
	errnoSuccess  = 0
	errnoBADF     = 8
	errnoFAULT    = 21
	errnoNOTDIR   = 20
	errnoINVAL    = 28
	errnoNOENT    = 44
	errnoNOSYS    = 52
	errnoNOTSUP   = 58
	randomGetMax  = 64 * 1024 // PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES
	wasiSnapshot  = "wasi_snapshot_preview1"
	wasiUnstable  = "wasi_unstable"
	wasiBothNames = "" // marker: register under both module names
)

// profileSpec is one cpp-host version's WASI set and restricted-callback allowlists.
type profileSpec struct {
	wasi       map[string]bool // WASI functions that exist (both module names)
	startAllow map[string]bool // imports allowed during _initialize / main / _start
	allocAllow map[string]bool // imports allowed inside malloc / proxy_on_memory_allocate
	pollENOSYS bool            // poll_oneoff returns ENOSYS instead of succeeding
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// allow builds an allowlist of full import names; WASI names are allowed under both modules.
func allow(env []string, wasi []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range env {
		m["env."+n] = true
	}
	for _, n := range wasi {
		m[wasiSnapshot+"."+n] = true
		m[wasiUnstable+"."+n] = true
	}
	return m
}

// wasi427 is FOR_ALL_WASI_FUNCTIONS after PR #427 (c4d7bb0, Dec 2024), as carried by Envoy 1.33
// to 1.38.
var wasi427 = []string{
	"fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags",
	"environ_get", "environ_sizes_get", "args_get", "args_sizes_get", "clock_time_get",
	"random_get", "sched_yield", "poll_oneoff", "proc_exit", "path_open", "fd_prestat_get",
	"fd_prestat_dir_name",
}

// wasi533 is FOR_ALL_WASI_FUNCTIONS after PR #533 (94091cd, Apr 2026; cpp-host 52a0291).
var wasi533 = append(append([]string{}, wasi427...),
	"fd_fdstat_set_rights", "clock_res_get", "fd_advise", "fd_allocate", "fd_datasync",
	"fd_filestat_set_size", "fd_filestat_set_times", "fd_pread", "fd_pwrite", "fd_readdir",
	"fd_renumber", "fd_sync", "fd_tell", "path_create_directory", "path_filestat_set_times",
	"path_link", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
	"path_unlink_file", "sock_accept", "sock_recv", "sock_send", "sock_shutdown",
	"path_filestat_get", "fd_filestat_get")

var profiles = map[Profile]*profileSpec{
	ProfileEnvoy139: {
		wasi: set(wasi533...),
		// WasmBase::startVm at cpp-host 52a0291.
		startAllow: allow([]string{"emscripten_notify_memory_growth", "proxy_log"}, []string{
			"fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get",
			"clock_time_get", "clock_res_get", "random_get", "poll_oneoff", "fd_fdstat_get",
			"fd_fdstat_set_flags", "fd_advise", "fd_allocate", "fd_datasync", "fd_fdstat_set_rights",
			"fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
			"fd_prestat_dir_name", "fd_prestat_get", "fd_pwrite", "fd_readdir", "fd_renumber",
			"fd_sync", "fd_tell", "path_create_directory", "path_filestat_get",
			"path_filestat_set_times", "path_link", "path_readlink", "path_remove_directory",
			"path_rename", "path_symlink", "path_unlink_file", "sock_accept", "sock_recv",
			"sock_send", "sock_shutdown",
		}),
		// WasmBase::allocMemory at 52a0291 ("go runtime gc sleep" added poll_oneoff).
		allocAllow: allow([]string{"proxy_log"}, []string{"fd_write", "clock_time_get", "poll_oneoff"}),
	},
	ProfileEnvoy133: {
		wasi: set(wasi427...),
		// WasmBase::startVm at beb8a4e (the cpp-host Envoy main pinned before PR #45756).
		startAllow: allow([]string{"emscripten_notify_memory_growth", "proxy_log"}, []string{
			"fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get",
			"fd_prestat_get", "fd_prestat_dir_name", "clock_time_get", "random_get",
			"fd_fdstat_get", "fd_fdstat_set_flags",
		}),
		allocAllow: allow([]string{"proxy_log"}, []string{"fd_write", "clock_time_get"}),
		pollENOSYS: true,
	},
}

// hostFn is one host function: where it is exported, its Wasm signature and its implementation.
type hostFn struct {
	module, name    string
	params, results []api.ValueType
	fn              func(in *instance, s []uint64)
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

func p32(n int) []api.ValueType {
	t := make([]api.ValueType, n)
	for i := range t {
		t[i] = i32
	}
	return t
}

func u32(v uint64) uint32 { return uint32(v) }

// wasiFunctions returns every WASI function this host knows, with cpp-host's signatures (which
// differ from the WASI spec for path_link and path_symlink: a module importing the spec
// signature fails to link, as it would in Envoy).
func wasiFunctions(pollENOSYS bool) []hostFn {
	ret := func(in *instance, s []uint64, v uint32) { s[0] = uint64(v) }
	stub := func(code uint32) func(*instance, []uint64) {
		return func(in *instance, s []uint64) { s[0] = uint64(code) }
	}
	stdio := func(fd uint32) bool { return fd == 1 || fd == 2 }
	fdOnly := func(ok, bad uint32) func(*instance, []uint64) {
		return func(in *instance, s []uint64) {
			if stdio(u32(s[0])) {
				s[0] = uint64(ok)
			} else {
				s[0] = uint64(bad)
			}
		}
	}
	fs := []hostFn{
		{name: "fd_write", params: p32(4), results: p32(1), fn: func(in *instance, s []uint64) {
			n, errno := in.writev(u32(s[0]), u32(s[1]), u32(s[2]))
			if errno == errnoSuccess && !in.writeU32(u32(s[3]), n) {
				errno = errnoFAULT
			}
			ret(in, s, errno)
		}},
		{name: "fd_read", params: p32(4), results: p32(1), fn: stub(errnoNOSYS)},
		{name: "fd_seek", params: []api.ValueType{i32, i64, i32, i32}, results: p32(1), fn: func(in *instance, s []uint64) {
			in.log(LogTrace, SourceHost, "wasi_unstable fd_seek")
			ret(in, s, errnoSuccess)
		}},
		{name: "fd_close", params: p32(1), results: p32(1), fn: func(in *instance, s []uint64) {
			in.log(LogTrace, SourceHost, "wasi_unstable fd_close")
			ret(in, s, errnoSuccess)
		}},
		{name: "fd_fdstat_get", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			if !stdio(u32(s[0])) {
				ret(in, s, errnoBADF)
				return
			}
			// 24 bytes: filetype/flags 0, fs_rights_base = FD_WRITE (64), inheriting 0. The
			// result of setMemory is ignored by cpp-host.
			b := make([]byte, 24)
			b[8] = 64
			in.write(u32(s[1]), b)
			ret(in, s, errnoSuccess)
		}},
		{name: "fd_fdstat_set_flags", params: p32(2), results: p32(1), fn: stub(errnoNOSYS)},
		{name: "fd_fdstat_set_rights", params: []api.ValueType{i32, i64, i64}, results: p32(1), fn: fdOnly(errnoSuccess, errnoBADF)},
		{name: "environ_get", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			arr, buf := u32(s[0]), u32(s[1])
			for _, k := range sortedKeys(in.host.cfg.Env) {
				data := append([]byte(k+"="+in.host.cfg.Env[k]), 0)
				if !in.writeU32(arr, buf) || !in.write(buf, data) {
					ret(in, s, errnoFAULT)
					return
				}
				buf += uint32(len(data))
				arr += 4
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "environ_sizes_get", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			size := 0
			for k, v := range in.host.cfg.Env {
				size += len(k) + len(v) + 2
			}
			if !in.writeU32(u32(s[0]), uint32(len(in.host.cfg.Env))) || !in.writeU32(u32(s[1]), uint32(size)) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "args_get", params: p32(2), results: p32(1), fn: stub(errnoSuccess)},
		{name: "args_sizes_get", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			if !in.writeU32(u32(s[0]), 0) || !in.writeU32(u32(s[1]), 0) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "clock_time_get", params: []api.ValueType{i32, i64, i32}, results: p32(1), fn: func(in *instance, s []uint64) {
			var v uint64
			switch u32(s[0]) {
			case 0:
				v = uint64(in.host.clock.Now().UnixNano())
			case 1:
				v = uint64(in.host.clock.Monotonic())
			default:
				ret(in, s, errnoNOTSUP)
				return
			}
			if !in.writeU64(u32(s[2]), v) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "clock_res_get", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			if id := u32(s[0]); id != 0 && id != 1 {
				ret(in, s, errnoNOTSUP)
				return
			}
			if !in.writeU64(u32(s[1]), 1) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "random_get", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			n := u32(s[1])
			if n > randomGetMax {
				ret(in, s, errnoINVAL)
				return
			}
			if n == 0 {
				ret(in, s, errnoSuccess)
				return
			}
			b := make([]byte, n)
			_, _ = rand.Read(b)
			if !in.write(u32(s[0]), b) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "sched_yield", params: nil, results: p32(1), fn: stub(errnoSuccess)},
		{name: "poll_oneoff", params: p32(4), results: p32(1), fn: func(in *instance, s []uint64) {
			if pollENOSYS {
				// PR #427: "these functions do not need to be implemented, but they must be
				// present". The Go runtime then throws "poll_oneoff failed errno=52" when it
				// needs to sleep (golang/go#78513).
				ret(in, s, errnoNOSYS)
				return
			}
			// PR #533: no polling; report 0 events at once.
			if !in.writeU32(u32(s[3]), 0) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "proc_exit", params: p32(1), results: nil, fn: func(in *instance, s []uint64) {
			// Envoy's Context::error logs at trace level; proc_exit does not trap by itself.
			in.log(LogTrace, SourceHost, "wasi_unstable proc_exit")
		}},
		{name: "path_open", params: []api.ValueType{i32, i32, i32, i32, i32, i64, i64, i32, i32}, results: p32(1), fn: stub(errnoNOENT)},
		{name: "fd_prestat_get", params: p32(2), results: p32(1), fn: stub(errnoBADF)},
		{name: "fd_prestat_dir_name", params: p32(3), results: p32(1), fn: stub(errnoNOSYS)},
		{name: "fd_filestat_get", params: p32(2), results: p32(1), fn: stub(errnoBADF)},
		{name: "path_filestat_get", params: p32(5), results: p32(1), fn: stub(errnoNOTSUP)},
		{name: "fd_advise", params: []api.ValueType{i32, i64, i64, i32}, results: p32(1), fn: stub(errnoSuccess)},
		{name: "fd_allocate", params: []api.ValueType{i32, i64, i64}, results: p32(1), fn: fdOnly(errnoSuccess, errnoBADF)},
		{name: "fd_datasync", params: p32(1), results: p32(1), fn: fdOnly(errnoSuccess, errnoBADF)},
		{name: "fd_filestat_set_size", params: []api.ValueType{i32, i64}, results: p32(1), fn: fdOnly(errnoSuccess, errnoBADF)},
		{name: "fd_filestat_set_times", params: []api.ValueType{i32, i64, i64, i32}, results: p32(1), fn: fdOnly(errnoSuccess, errnoBADF)},
		{name: "fd_pread", params: []api.ValueType{i32, i32, i32, i64, i32}, results: p32(1), fn: stub(errnoNOSYS)},
		{name: "fd_pwrite", params: []api.ValueType{i32, i32, i32, i64, i32}, results: p32(1), fn: func(in *instance, s []uint64) {
			fd := u32(s[0])
			if !stdio(fd) {
				ret(in, s, errnoBADF)
				return
			}
			n, errno := in.writev(fd, u32(s[1]), u32(s[2]))
			if errno == errnoSuccess && !in.writeU32(u32(s[4]), n) {
				errno = errnoFAULT
			}
			ret(in, s, errno)
		}},
		{name: "fd_readdir", params: []api.ValueType{i32, i32, i32, i64, i32}, results: p32(1), fn: func(in *instance, s []uint64) {
			if !in.writeU32(u32(s[4]), 0) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoNOTDIR)
		}},
		{name: "fd_renumber", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			if !stdio(u32(s[0])) || !stdio(u32(s[1])) {
				ret(in, s, errnoBADF)
				return
			}
			ret(in, s, errnoNOTSUP)
		}},
		{name: "fd_sync", params: p32(1), results: p32(1), fn: fdOnly(errnoSuccess, errnoBADF)},
		{name: "fd_tell", params: p32(2), results: p32(1), fn: func(in *instance, s []uint64) {
			if !stdio(u32(s[0])) {
				ret(in, s, errnoBADF)
				return
			}
			if !in.writeU64(u32(s[1]), 0) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoSuccess)
		}},
		{name: "path_create_directory", params: p32(3), results: p32(1), fn: stub(errnoNOTSUP)},
		{name: "path_filestat_set_times", params: []api.ValueType{i32, i32, i32, i32, i64, i64, i32}, results: p32(1), fn: stub(errnoNOTSUP)},
		// cpp-host declares path_link with 6 parameters and path_symlink with 4 (the WASI spec
		// has 7 and 5): a module importing the spec signatures does not link in Envoy.
		{name: "path_link", params: p32(6), results: p32(1), fn: stub(errnoNOTSUP)},
		{name: "path_readlink", params: p32(6), results: p32(1), fn: func(in *instance, s []uint64) {
			if !in.writeU32(u32(s[5]), 0) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoNOTSUP)
		}},
		{name: "path_remove_directory", params: p32(3), results: p32(1), fn: stub(errnoNOTSUP)},
		{name: "path_rename", params: p32(6), results: p32(1), fn: stub(errnoNOTSUP)},
		{name: "path_symlink", params: p32(4), results: p32(1), fn: stub(errnoNOTSUP)},
		{name: "path_unlink_file", params: p32(3), results: p32(1), fn: stub(errnoNOTSUP)},
		{name: "sock_accept", params: p32(3), results: p32(1), fn: func(in *instance, s []uint64) {
			// cpp-host writes a 64-bit 0 here (setDatatype(retptr0, 0UL)).
			if !in.writeU64(u32(s[2]), 0) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoNOTSUP)
		}},
		{name: "sock_recv", params: p32(6), results: p32(1), fn: func(in *instance, s []uint64) {
			if !in.writeU32(u32(s[4]), 0) || !in.write(u32(s[5]), []byte{0, 0}) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoNOTSUP)
		}},
		{name: "sock_send", params: p32(5), results: p32(1), fn: func(in *instance, s []uint64) {
			if !in.writeU32(u32(s[4]), 0) {
				ret(in, s, errnoFAULT)
				return
			}
			ret(in, s, errnoNOTSUP)
		}},
		{name: "sock_shutdown", params: p32(2), results: p32(1), fn: stub(errnoNOTSUP)},
	}
	return fs
}

// writev is cpp-host's writevImpl: fd 1 logs at info, fd 2 at error, one trailing newline is
// stripped, other fds are EBADF.
func (in *instance) writev(fd, iovs, iovsLen uint32) (uint32, uint32) {
	var level LogLevel
	var src LogSource
	switch fd {
	case 1:
		level, src = LogInfo, SourceStdout
	case 2:
		level, src = LogError, SourceStderr
	default:
		return 0, errnoBADF
	}
	var msg []byte
	for i := uint32(0); i < iovsLen; i++ {
		iov, ok := in.read(iovs+i*8, 8)
		if !ok {
			return 0, errnoFAULT
		}
		ptr, n := le32(iov[0:4]), le32(iov[4:8])
		if n == 0 {
			continue
		}
		b, ok := in.read(ptr, n)
		if !ok {
			return 0, errnoFAULT
		}
		msg = append(msg, b...)
	}
	written := uint32(len(msg))
	if written != 0 {
		if msg[len(msg)-1] == '\n' {
			msg = msg[:len(msg)-1]
		}
		in.log(level, src, string(msg))
	}
	return written, errnoSuccess
}

// hostFunctions returns the functions the profile and the module's ABI version provide.
func (h *Host) hostFunctions() []hostFn {
	var out []hostFn
	for _, f := range wasiFunctions(h.profile.pollENOSYS) {
		if !h.profile.wasi[f.name] {
			continue
		}
		for _, m := range []string{wasiUnstable, wasiSnapshot} {
			g := f
			g.module = m
			out = append(out, g)
		}
	}
	for _, f := range envFunctions(h.abi) {
		f.module = "env"
		out = append(out, f)
	}
	return out
}

func (f hostFn) String() string { return fmt.Sprintf("%s.%s", f.module, f.name) }
