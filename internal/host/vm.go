package host

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// failState mirrors proxy-wasm-cpp-host's FailState.
type failState int

const (
	failNone failState = iota
	failUnableToInitializeCode
	failMissingFunction
	failStartFailed
	failConfigureFailed
	failRuntimeError
)

func (f failState) String() string {
	switch f {
	case failNone:
		return "Ok"
	case failUnableToInitializeCode:
		return "UnableToInitializeCode"
	case failMissingFunction:
		return "MissingFunction"
	case failStartFailed:
		return "StartFailed"
	case failConfigureFailed:
		return "ConfigureFailed"
	case failRuntimeError:
		return "RuntimeError"
	}
	return fmt.Sprintf("FailState(%d)", int(f))
}

// RestrictedCallbackError is the trap raised when a guest calls a host function that is not on
// the allowlist of the current phase: Envoy traps with "restricted_callback" during start-up
// (_initialize, main) and inside the guest allocator. The VM then fails.
type RestrictedCallbackError struct {
	// Import is the offending import, "module.name", e.g. "env.proxy_get_property".
	Import string
	// Phase says where it was called: "_initialize", "main", "proxy_on_memory_allocate", ...
	Phase string
}

func (e *RestrictedCallbackError) Error() string {
	return fmt.Sprintf("restricted_callback: %s may not be called during %s", e.Import, e.Phase)
}

// ctxState is one proxy-wasm context: the VM context (id 0), the plugin's root context, or a
// stream context.
type ctxState struct {
	id      uint32
	isRoot  bool
	parent  uint32 // root context id of a stream context
	stream  *Stream
	created bool // in_vm_context_created_

	// proxy_get_status, set on the root context around proxy_on_http_call_response.
	statusCode uint32
	statusMsg  string
}

// instance is one module instance with the proxy-wasm state cpp-host keeps per WasmBase.
type instance struct {
	host  *Host
	vm    *VM // nil for the base and canary VMs
	index int // VM index in logs: worker index, or -1 canary, -2 base
	mod   api.Module
	mem   api.Memory
	ctx   context.Context
	fns   exportFns

	failed    failState
	failMsg   string
	failErr   error
	closed    bool
	restrict  map[string]bool // nil: unrestricted
	phase     string          // what the allowlist applies to, for RestrictedCallbackError
	inAlloc   bool
	tempPlugn bool // temp_plugin_: the plugin configuration is readable

	nextContextID uint32
	contexts      map[uint32]*ctxState
	vmCtx         *ctxState
	root          *ctxState
	current       *ctxState
	effective     uint32
	after         []func()
	stopNext      bool

	nextHTTPCall uint32
	calls        map[uint32]bool
	callResp     *calloutResponse // rootContext()->http_call_response_

	metricIDs  map[uint32]*metric
	nextMetric [3]uint32
	tickPeriod time.Duration

	callData []byte // BufferCallData during proxy_on_foreign_function

	cancelCtx context.Context // callouts of this instance; cancelled by close
	cancel    context.CancelFunc
}

type instKey struct{}

// exportFns are the module exports the host calls, resolved once per instance.
type exportFns struct {
	initialize, mainFn, mainVoid, start api.Function
	malloc                              api.Function
	mallocName                          string

	onContextCreate, onVMStart, onConfigure, onTick                     api.Function
	onRequestHeaders, onRequestBody, onRequestTrailers                  api.Function
	onResponseHeaders, onResponseBody, onResponseTrailers               api.Function
	onLog, onDone, onDelete, onHTTPCallResponse, onForeign, onQueueRead api.Function
}

// exportSignatures are the signatures cpp-host requires of the exports it calls (ABI 0.2.x);
// an export with another signature fails the load ("Bad function signature for: ...").
var exportSignatures = map[string]string{
	"_initialize": "->", "main": "i32,i32->i32", "__main_void": "->i32", "_start": "->",
	"malloc": "i32->i32", "proxy_on_memory_allocate": "i32->i32",
	"proxy_on_context_create": "i32,i32->", "proxy_on_vm_start": "i32,i32->i32",
	"proxy_on_configure": "i32,i32->i32", "proxy_on_tick": "i32->",
	"proxy_on_request_headers": "i32,i32,i32->i32", "proxy_on_request_body": "i32,i32,i32->i32",
	"proxy_on_request_trailers": "i32,i32->i32", "proxy_on_response_headers": "i32,i32,i32->i32",
	"proxy_on_response_body": "i32,i32,i32->i32", "proxy_on_response_trailers": "i32,i32->i32",
	"proxy_on_log": "i32->", "proxy_on_done": "i32->i32", "proxy_on_delete": "i32->",
	"proxy_on_http_call_response":  "i32,i32,i32,i32,i32->",
	"proxy_on_foreign_function":    "i32,i32,i32->",
	"proxy_on_queue_ready":         "i32,i32->",
	"proxy_validate_configuration": "i32,i32->i32",
}

func signature(params, results []api.ValueType) string {
	n := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ",")
	}
	return n(params) + "->" + n(results)
}

// VM is one worker VM: a module instance that, like an Envoy worker thread, runs one guest call at
// a time. Its methods are safe for concurrent use; they serialise on the VM.
type VM struct {
	host  *Host
	index int

	mu         sync.Mutex
	inst       *instance
	changed    chan struct{} // closed and replaced whenever stream state changes
	lastReload time.Time
	reloads    int
}

// Index returns the VM's worker index.
func (vm *VM) Index() int { return vm.index }

// Failed reports whether the VM's current instance has failed (a trap in a callback, or a failed
// start).
func (vm *VM) Failed() bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.inst.failed != failNone
}

// FailureMessage returns why the VM failed, or "".
func (vm *VM) FailureMessage() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.inst.failMsg
}

// FailureError returns the error that failed the VM (for example a *RestrictedCallbackError,
// found with errors.As), or nil.
func (vm *VM) FailureError() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.inst.failErr
}

// Reloads returns how many times FailReload replaced the VM's instance.
func (vm *VM) Reloads() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.reloads
}

// RootContextID returns the id of the plugin's root context in the current instance.
func (vm *VM) RootContextID() uint32 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.inst.root == nil {
		return 0
	}
	return vm.inst.root.id
}

// TickPeriod returns the period the plugin set with proxy_set_tick_period_milliseconds, or 0.
func (vm *VM) TickPeriod() time.Duration {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.inst.tickPeriod
}

// Tick delivers proxy_on_tick(root) if the plugin set a tick period and the VM has not failed,
// and reports whether it did.
func (vm *VM) Tick() bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	in := vm.inst
	if in.tickPeriod <= 0 || in.failed != failNone || in.root == nil {
		return false
	}
	in.withActions(func() {
		in.call("proxy_on_tick", in.fns.onTick, in.root, uint64(in.root.id))
	})
	vm.notify()
	return true
}

// notify wakes Stream.Wait callers. The caller holds vm.mu.
func (vm *VM) notify() {
	close(vm.changed)
	vm.changed = make(chan struct{})
}

// newInstance instantiates the compiled module. label is only for diagnostics.
func (h *Host) newInstance(vm *VM, index int) (*instance, error) {
	in := &instance{
		host:          h,
		vm:            vm,
		index:         index,
		nextContextID: 1,
		contexts:      map[uint32]*ctxState{},
		calls:         map[uint32]bool{},
		metricIDs:     map[uint32]*metric{},
	}
	in.ctx = context.WithValue(context.Background(), instKey{}, in)
	name := fmt.Sprintf("wasm-authn-vm-%d", h.instSeq.Add(1))
	mod, err := h.rt.InstantiateModule(in.ctx, h.compiled,
		wazero.NewModuleConfig().WithName(name).WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("instantiate module: %w", err)
	}
	in.mod = mod
	in.mem = mod.Memory()
	if in.mem == nil {
		mod.Close(context.Background())
		return nil, errors.New("the module exports no memory")
	}
	f := mod.ExportedFunction
	in.fns = exportFns{
		initialize: f("_initialize"), mainFn: f("main"), mainVoid: f("__main_void"), start: f("_start"),
		onContextCreate: f("proxy_on_context_create"), onVMStart: f("proxy_on_vm_start"),
		onConfigure: f("proxy_on_configure"), onTick: f("proxy_on_tick"),
		onRequestHeaders: f("proxy_on_request_headers"), onRequestBody: f("proxy_on_request_body"),
		onRequestTrailers: f("proxy_on_request_trailers"), onResponseHeaders: f("proxy_on_response_headers"),
		onResponseBody: f("proxy_on_response_body"), onResponseTrailers: f("proxy_on_response_trailers"),
		onLog: f("proxy_on_log"), onDone: f("proxy_on_done"), onDelete: f("proxy_on_delete"),
		onHTTPCallResponse: f("proxy_on_http_call_response"), onForeign: f("proxy_on_foreign_function"),
		onQueueRead: f("proxy_on_queue_ready"),
	}
	// cpp-host WasmBase::getFunctions: "malloc" first, then "proxy_on_memory_allocate".
	if m := f("malloc"); m != nil {
		in.fns.malloc, in.fns.mallocName = m, "malloc"
	} else if m := f("proxy_on_memory_allocate"); m != nil {
		in.fns.malloc, in.fns.mallocName = m, "proxy_on_memory_allocate"
	}
	in.vmCtx = &ctxState{id: 0, isRoot: true}
	in.current = in.vmCtx
	return in, nil
}

func (in *instance) close() {
	if in.closed {
		return
	}
	in.closed = true
	if in.cancel != nil {
		in.cancel()
	}
	in.mod.Close(context.Background())
}

func (in *instance) log(level LogLevel, source LogSource, msg string) {
	in.host.addLog(Log{VM: in.index, Level: level, Source: source, Message: msg})
}

// fail marks the instance failed, like WasmBase::fail.
func (in *instance) fail(state failState, msg string, err error) {
	if in.failed == failNone {
		in.failed, in.failMsg, in.failErr = state, msg, err
	}
	in.log(LogError, SourceHost, msg)
}

func (in *instance) setRestricted(allow map[string]bool, phase string) {
	in.restrict, in.phase = allow, phase
}

// checkAllowed traps (panics, which makes wazero abort the guest call) when the import is not on
// the current allowlist.
func (in *instance) checkAllowed(fullName string) {
	if in.restrict != nil && !in.restrict[fullName] {
		panic(&RestrictedCallbackError{Import: fullName, Phase: in.phase})
	}
}

// call invokes a guest export as cpp-host's getModuleFunctionImpl wrapper does: it makes c the
// current context (and clears any effective context) for the duration, and a trap fails the VM.
// It returns false when the VM has failed, the export is missing or the call trapped.
func (in *instance) call(name string, fn api.Function, c *ctxState, args ...uint64) (uint64, bool) {
	if in.failed != failNone || fn == nil {
		return 0, false
	}
	savedCur, savedEff := in.current, in.effective
	in.current, in.effective = c, 0
	res, err := fn.Call(in.ctx, args...)
	in.current, in.effective = savedCur, savedEff
	if err != nil {
		in.fail(failRuntimeError, fmt.Sprintf("Function: %s failed: %v", name, err), err)
		return 0, false
	}
	if len(res) > 0 {
		return res[0], true
	}
	return 0, true
}

// withActions runs f and then, like cpp-host's DeferAfterCallActions, clears the
// stop-next-iteration flag and runs the queued after-VM-call actions in order.
func (in *instance) withActions(f func()) {
	defer func() {
		in.stopNext = false
		for len(in.after) > 0 {
			a := in.after[0]
			in.after = in.after[1:]
			a()
		}
	}()
	f()
}

func (in *instance) addAfter(f func()) { in.after = append(in.after, f) }

// contextOrEffective is cpp-host's contextOrEffectiveContext: the effective context set by
// proxy_set_effective_context if it still exists, else the current context.
func (in *instance) contextOrEffective() *ctxState {
	if in.effective != 0 {
		if c := in.contexts[in.effective]; c != nil {
			return c
		}
	}
	return in.current
}

func (in *instance) rootOf(c *ctxState) *ctxState {
	if c.isRoot {
		if c.id == 0 && in.root != nil {
			return in.root
		}
		return c
	}
	if r := in.contexts[c.parent]; r != nil {
		return r
	}
	return in.root
}

func (in *instance) allocContextID() uint32 {
	for {
		id := in.nextContextID
		in.nextContextID++
		if id != 0 && in.contexts[id] == nil {
			return id
		}
	}
}

// alloc calls the guest allocator under the allocator allowlist (WasmBase::allocMemory).
func (in *instance) alloc(size uint32) (uint32, bool) {
	if in.fns.malloc == nil || in.failed != failNone {
		return 0, false
	}
	savedCur, savedEff := in.current, in.effective
	in.current, in.effective = in.vmCtx, 0
	in.setRestricted(in.host.profile.allocAllow, in.fns.mallocName)
	in.inAlloc = true
	res, err := in.fns.malloc.Call(in.ctx, uint64(size))
	in.inAlloc = false
	// cpp-host resets the restriction to "none" after every allocation.
	in.setRestricted(nil, "")
	in.current, in.effective = savedCur, savedEff
	if err != nil {
		in.fail(failRuntimeError, fmt.Sprintf("Function: %s failed: %v", in.fns.mallocName, err), err)
		return 0, false
	}
	p := uint32(res[0])
	if p == 0 || uint64(p)+uint64(size) > uint64(in.mem.Size()) {
		return 0, false
	}
	return p, true
}

// Memory helpers. They report false for out-of-bounds access, which host functions turn into
// InvalidMemoryAccess (or EFAULT for WASI).

func (in *instance) read(ptr, size uint32) ([]byte, bool) {
	b, ok := in.mem.Read(ptr, size)
	if !ok {
		return nil, false
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out, true
}

// readString reads guest memory into a string (one copy).
func (in *instance) readString(ptr, size uint32) (string, bool) {
	b, ok := in.mem.Read(ptr, size)
	if !ok {
		return "", false
	}
	return string(b), true
}

func (in *instance) writeU32(ptr, v uint32) bool { return in.mem.WriteUint32Le(ptr, v) }
func (in *instance) writeU64(ptr uint32, v uint64) bool {
	return in.mem.WriteUint64Le(ptr, v)
}
func (in *instance) write(ptr uint32, b []byte) bool { return in.mem.Write(ptr, b) }

// copyOut is WasmBase::copyToPointerSize: allocate len(data) bytes in the guest (nothing for
// empty data: pointer 0, size 0), copy, and store pointer and size.
func (in *instance) copyOut(data []byte, ptrPtr, sizePtr uint32) bool {
	var p uint32
	if len(data) > 0 {
		var ok bool
		if p, ok = in.alloc(uint32(len(data))); !ok {
			return false
		}
		if !in.write(p, data) {
			return false
		}
	}
	return in.writeU32(ptrPtr, p) && in.writeU32(sizePtr, uint32(len(data)))
}

// startVM is WasmBase::startVm: _initialize (then main or __main_void) for a reactor, _start for
// a command, all under the start-up allowlist.
func (in *instance) startVM() error {
	run := func(name string, fn api.Function, args ...uint64) {
		in.setRestricted(in.host.profile.startAllow, name)
		in.call(name, fn, in.vmCtx, args...)
	}
	if in.fns.initialize != nil {
		run("_initialize", in.fns.initialize)
		if in.fns.mainFn != nil {
			run("main", in.fns.mainFn, 0, 0)
		} else if in.fns.mainVoid != nil {
			run("__main_void", in.fns.mainVoid)
		}
	} else if in.fns.start != nil {
		run("_start", in.fns.start)
	}
	in.setRestricted(nil, "")
	if in.failed != failNone {
		return errors.New(in.failMsg)
	}
	return nil
}

// startPlugin creates the root context and runs proxy_on_context_create(root, 0),
// proxy_on_vm_start(root, vm_config_size) and proxy_on_configure(root, plugin_config_size)
// (ContextBase::onStart and onConfigure).
func (in *instance) startPlugin() error {
	cfg := &in.host.cfg
	root := &ctxState{id: in.allocContextID(), isRoot: true}
	in.contexts[root.id] = root
	in.root = root
	ok := true
	in.withActions(func() {
		if in.fns.onContextCreate != nil {
			in.tempPlugn = true
			in.call("proxy_on_context_create", in.fns.onContextCreate, root, uint64(root.id), 0)
			in.tempPlugn = false
			root.created = true
		}
		if in.fns.onVMStart != nil {
			r, _ := in.call("proxy_on_vm_start", in.fns.onVMStart, root, uint64(root.id), uint64(len(cfg.VMConfig)))
			ok = uint32(r) != 0
		}
	})
	if in.failed != failNone {
		return errors.New(in.failMsg)
	}
	if !ok {
		in.fail(failStartFailed, "proxy_on_vm_start returned false", nil)
		return errors.New("proxy_on_vm_start returned false")
	}
	root.created = true
	if in.fns.onConfigure == nil {
		return nil
	}
	in.withActions(func() {
		in.tempPlugn = true
		r, _ := in.call("proxy_on_configure", in.fns.onConfigure, root, uint64(root.id), uint64(len(cfg.PluginConfig)))
		in.tempPlugn = false
		ok = uint32(r) != 0
	})
	if in.failed != failNone {
		return errors.New(in.failMsg)
	}
	if !ok {
		in.fail(failConfigureFailed, "proxy_on_configure returned false", nil)
		return errors.New("proxy_on_configure returned false")
	}
	return nil
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
