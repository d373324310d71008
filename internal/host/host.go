package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// ForeignFunc implements a function the guest reaches through proxy_call_foreign_function. It
// receives the argument bytes and returns the result bytes (copied into the guest through its
// allocator) and a status. Envoy registers verify_signature, sign, compress, uncompress,
// set_envoy_filter_state, clear_route_cache and others; VerifySignature implements the first.
type ForeignFunc func(args []byte) ([]byte, Status)

// XDS holds the values behind the xds.* properties.
type XDS struct {
	NodeID, NodeCluster string // xds.node.id, xds.node.cluster (and xds.node as a Node proto)
	ClusterName         string // xds.cluster_name (stream contexts only)
	RouteName           string // xds.route_name (stream contexts only)
	FilterChainName     string // xds.filter_chain_name (stream contexts only)
	ListenerDirection   int64  // xds.listener_direction: 0 unspecified, 1 inbound, 2 outbound
}

// Config configures a Host. Module is required; everything else has a default.
type Config struct {
	// Module is the plugin's Wasm binary.
	Module []byte
	// PluginConfig is PluginConfig.configuration as the plugin sees it (buffer 7 during
	// proxy_on_configure); VMConfig is VmConfig.configuration (buffer 6).
	PluginConfig, VMConfig []byte
	// PluginName, RootID and VMID are PluginConfig.name, root_id and VmConfig.vm_id. VMID is also
	// the shared-data namespace.
	PluginName, RootID, VMID string
	// Profile selects the WASI host-call set and allowlists (default ProfileEnvoy139).
	Profile Profile
	// Workers is the number of worker VMs (module instances), default 1. Go globals are per VM;
	// shared data is shared by all of them.
	Workers int
	// Failure is what happens to streams after a VM failed (default FailClosed).
	Failure FailurePolicy
	// ReloadBackoff is the least time between two reloads of a VM under FailReload (default 1 s,
	// Envoy's ReloadConfig.backoff base interval).
	ReloadBackoff time.Duration
	// Clusters maps Envoy cluster names to the base URL of a real HTTP server
	// ("http://127.0.0.1:port"); proxy_http_call to any other name is BadArgument.
	Clusters map[string]string
	// Clock is the time source (default: real time).
	Clock Clock
	// Env is the WASI environment (VmConfig.environment_variables).
	Env map[string]string
	// ForeignFunctions are reachable through proxy_call_foreign_function; unknown names are
	// NotFound. Register VerifySignature under "verify_signature" to model Envoy.
	ForeignFunctions map[string]ForeignFunc
	// SharedData lets several Hosts share one store (default: one per Host).
	SharedData *SharedStore
	// LogSink, if set, receives every log line as it is produced; lines are also kept.
	LogSink func(Log)
	// LogLevel is what proxy_get_log_level returns (default LogInfo, Envoy's default). Lines below
	// it are still kept, so that tests can check that nothing secret is logged at any level.
	LogLevel *LogLevel
	// DropLogsBelowLevel drops proxy_log lines below LogLevel, as Envoy does, instead of keeping
	// them: for benchmarks, whose millions of kept debug lines would load the host process.
	DropLogsBelowLevel bool
	// SkipCanary skips the throw-away base and canary VMs that Envoy starts before the workers.
	SkipCanary bool
	// AllowOnHeadersStopIteration models PluginConfig.allow_on_headers_stop_iteration: a header
	// callback returning 1 is StopIteration instead of StopAllIterationAndWatermark.
	AllowOnHeadersStopIteration bool
	// BufferLimit is the per-stream body buffer limit (default 1 MiB, Envoy's
	// per_connection_buffer_limit_bytes). A request body buffered beyond it gets a local 413, a
	// response body a local 500.
	BufferLimit int
	// NewerSSLProperties models the SSL property extractors of current Envoy main
	// (SslExtractorsValues in expr/context.cc): a missing SAN or peer digest is NotFound (1)
	// instead of SerializationFailure (3), and connection.peer_certificate (URL-encoded PEM)
	// exists. The default follows the fact sheet (older getSslExtractors, CEL null → 3).
	NewerSSLProperties bool
	// XDS backs the xds.* properties.
	XDS XDS
	// HTTPClient performs proxy_http_call requests (default: a client with no redirects).
	HTTPClient *http.Client
}

// LogSource says where a log line came from.
type LogSource string

// Log sources.
const (
	SourceProxyLog LogSource = "proxy_log" // env.proxy_log
	SourceStdout   LogSource = "stdout"    // WASI fd_write on fd 1 (logged at info)
	SourceStderr   LogSource = "stderr"    // WASI fd_write on fd 2 (logged at error)
	SourceHost     LogSource = "host"      // the host itself: traps, load failures, reloads
)

// Log is one log line.
type Log struct {
	// VM is the worker index, -1 for the canary VM and -2 for the base VM.
	VM      int
	Level   LogLevel
	Source  LogSource
	Message string
}

func (l Log) String() string {
	return fmt.Sprintf("[vm %d] [%s] [%s] %s", l.VM, l.Level, l.Source, l.Message)
}

// Host runs one plugin: a compiled module, its worker VMs, its metrics and logs.
type Host struct {
	cfg      Config
	profile  *profileSpec
	abi      abiVersion
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	clock    Clock
	shared   *SharedStore
	metrics  *metricStore
	client   *http.Client
	logLevel LogLevel

	vms     []*VM
	rr      atomic.Uint64
	instSeq atomic.Int64
	connSeq atomic.Uint64

	logMu sync.Mutex
	logs  []Log

	calloutCtx    context.Context
	cancelCallout context.CancelFunc
	wg            sync.WaitGroup
	closeOnce     sync.Once
}

// compilationCache is shared by every Host in the process: compiling a Go module takes a while
// and tests start many Hosts from the same few binaries.
var compilationCache = wazero.NewCompilationCache()

// New compiles the module once, starts the base and canary VMs the way Envoy validates a plugin
// (then discards them), and starts cfg.Workers worker VMs, each running _initialize,
// proxy_on_context_create, proxy_on_vm_start and proxy_on_configure. A load failure, a trap during
// start-up or proxy_on_vm_start/proxy_on_configure returning false is an error that quotes the
// plugin's error and critical log lines.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if len(cfg.Module) == 0 {
		return nil, errors.New("host: no module")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.ReloadBackoff <= 0 {
		cfg.ReloadBackoff = time.Second
	}
	if cfg.BufferLimit <= 0 {
		cfg.BufferLimit = 1 << 20
	}
	h := &Host{cfg: cfg, clock: cfg.Clock, shared: cfg.SharedData, metrics: newMetricStore(), client: cfg.HTTPClient, logLevel: LogInfo}
	if h.clock == nil {
		h.clock = realClock{start: time.Now()}
	}
	if h.shared == nil {
		h.shared = NewSharedStore()
	}
	if h.client == nil {
		h.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.LogLevel != nil {
		h.logLevel = *cfg.LogLevel
	}
	var ok bool
	if h.profile, ok = profiles[cfg.Profile]; !ok {
		return nil, fmt.Errorf("host: unknown profile %v", cfg.Profile)
	}
	h.calloutCtx, h.cancelCallout = context.WithCancel(context.Background())

	abi, err := detectABI(cfg.Module)
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	switch abi {
	case abiUnknown:
		return nil, errors.New("host: Missing or unknown Proxy-Wasm ABI version")
	case abi010:
		return nil, errors.New("host: Proxy-Wasm ABI 0.1.0 is not supported by this host (only 0.2.0 and 0.2.1)")
	}
	h.abi = abi

	h.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(compilationCache).
		WithMemoryLimitPages(16384)) // PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES, 1 GiB
	if err := h.load(ctx); err != nil {
		h.rt.Close(ctx)
		return nil, fmt.Errorf("host: %w", err)
	}
	if !cfg.SkipCanary {
		if err := h.canary(); err != nil {
			h.Close()
			return nil, fmt.Errorf("host: canary VM: %w", err)
		}
	}
	for i := 0; i < cfg.Workers; i++ {
		vm, err := h.startWorker(i)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.vms = append(h.vms, vm)
	}
	return h, nil
}

// startWorker starts worker VM i. The VM's lock is held from instantiation
// until the instance is installed, so that a callout dispatched during
// start-up (e.g. a key fetch in proxy_on_configure) whose response comes
// back before start-up ends is delivered once the VM is ready, as Envoy
// defers a re-entrant response, instead of being dropped.
func (h *Host) startWorker(i int) (*VM, error) {
	vm := &VM{host: h, index: i, changed: make(chan struct{})}
	vm.mu.Lock()
	defer vm.mu.Unlock()
	in, err := h.startInstance(vm, i)
	if err != nil {
		return nil, fmt.Errorf("host: worker VM %d: %w", i, err)
	}
	vm.inst = in
	return vm, nil
}

// AddWorker starts one more worker VM from the already compiled module, as
// Envoy does when a worker thread first needs the plugin: a fresh instance,
// _initialize, proxy_on_context_create, proxy_on_vm_start and
// proxy_on_configure. It is not safe to call concurrently with other
// methods that list the VMs.
func (h *Host) AddWorker() (*VM, error) {
	vm, err := h.startWorker(len(h.vms))
	if err != nil {
		return nil, err
	}
	h.vms = append(h.vms, vm)
	return vm, nil
}

// CloseWorker stops the newest worker VM added by AddWorker (never the last
// one).
func (h *Host) CloseWorker() {
	if len(h.vms) < 2 {
		return
	}
	vm := h.vms[len(h.vms)-1]
	h.vms = h.vms[:len(h.vms)-1]
	vm.mu.Lock()
	vm.inst.close()
	vm.mu.Unlock()
}

// load compiles the module and links it against the profile's host functions, failing the way
// cpp-host does for a missing import, an import type mismatch, a bad export signature or a
// missing allocator.
func (h *Host) load(ctx context.Context) error {
	compiled, err := h.rt.CompileModule(ctx, h.cfg.Module)
	if err != nil {
		return fmt.Errorf("Failed to load Wasm code: %w", err)
	}
	h.compiled = compiled
	funcs := h.hostFunctions()
	byName := map[string]*hostFn{}
	for i := range funcs {
		byName[funcs[i].module+"."+funcs[i].name] = &funcs[i]
	}
	for _, imp := range compiled.ImportedFunctions() {
		m, n, _ := imp.Import()
		f, ok := byName[m+"."+n]
		if !ok {
			return fmt.Errorf("Failed to load Wasm module due to a missing import: %s.%s", m, n)
		}
		want, have := signature(imp.ParamTypes(), imp.ResultTypes()), signature(f.params, f.results)
		if want != have {
			return fmt.Errorf("Failed to load Wasm module due to an import type mismatch: %s.%s, want: %s, but host exports: %s", m, n, want, have)
		}
	}
	for _, imp := range compiled.ImportedMemories() {
		m, n, _ := imp.Import()
		return fmt.Errorf("Failed to load Wasm module due to a missing import: %s.%s (imported memories are not supported by this host)", m, n)
	}
	exports := compiled.ExportedFunctions()
	for name, want := range exportSignatures {
		if def, ok := exports[name]; ok {
			if have := signature(def.ParamTypes(), def.ResultTypes()); have != want {
				return fmt.Errorf("Bad function signature for: %s, want: %s, but the module exports: %s", name, want, have)
			}
		}
	}
	if exports["malloc"] == nil && exports["proxy_on_memory_allocate"] == nil {
		return errors.New("Wasm module is missing malloc function.")
	}
	builders := map[string]wazero.HostModuleBuilder{}
	var order []string
	for i := range funcs {
		f := &funcs[i]
		b, ok := builders[f.module]
		if !ok {
			b = h.rt.NewHostModuleBuilder(f.module)
			builders[f.module] = b
			order = append(order, f.module)
		}
		full := f.module + "." + f.name
		impl := f.fn
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			in := ctx.Value(instKey{}).(*instance)
			in.checkAllowed(full)
			impl(in, stack)
		}), f.params, f.results).Export(f.name)
	}
	for _, m := range order {
		if _, err := builders[m].Instantiate(ctx); err != nil {
			return fmt.Errorf("register host module %s: %w", m, err)
		}
	}
	return nil
}

// canary runs what Envoy runs before accepting a plugin: a base VM (start-up only) and a canary
// clone that also starts the plugin. Both are then discarded.
func (h *Host) canary() error {
	base, err := h.newInstance(nil, -2)
	if err != nil {
		return err
	}
	err = base.startVM()
	base.close()
	if err != nil {
		return h.startError(-2, err)
	}
	in, err := h.startInstance(nil, -1)
	if err != nil {
		return err
	}
	in.close()
	return nil
}

// startInstance creates an instance and runs the whole start-up sequence on it.
func (h *Host) startInstance(vm *VM, index int) (*instance, error) {
	in, err := h.newInstance(vm, index)
	if err != nil {
		return nil, err
	}
	if err := in.startVM(); err != nil {
		in.close()
		return nil, h.startError(index, err)
	}
	if err := in.startPlugin(); err != nil {
		in.close()
		return nil, h.startError(index, err)
	}
	return in, nil
}

// startError decorates a start-up failure with the VM's error and critical log lines.
func (h *Host) startError(index int, err error) error {
	var lines []string
	for _, l := range h.Logs() {
		if l.VM == index && l.Level >= LogError && l.Source != SourceHost {
			lines = append(lines, fmt.Sprintf("[%s] %s", l.Level, l.Message))
		}
	}
	if len(lines) == 0 {
		return err
	}
	return fmt.Errorf("%w; plugin logs: %s", err, strings.Join(lines, " | "))
}

func (h *Host) addLog(l Log) {
	h.logMu.Lock()
	h.logs = append(h.logs, l)
	sink := h.cfg.LogSink
	h.logMu.Unlock()
	if sink != nil {
		sink(l)
	}
}

// Logs returns a copy of every log line so far, in order.
func (h *Host) Logs() []Log {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	out := make([]Log, len(h.logs))
	copy(out, h.logs)
	return out
}

// VM returns worker VM i.
func (h *Host) VM(i int) *VM { return h.vms[i] }

// NumVMs returns the number of worker VMs.
func (h *Host) NumVMs() int { return len(h.vms) }

// SharedData returns the shared-data store the VMs use.
func (h *Host) SharedData() *SharedStore { return h.shared }

// Profile returns the WASI profile the host runs.
func (h *Host) Profile() Profile { return h.cfg.Profile }

// Close stops outstanding callouts and closes every VM.
func (h *Host) Close() {
	h.closeOnce.Do(func() {
		h.cancelCallout()
		h.wg.Wait()
		for _, vm := range h.vms {
			vm.mu.Lock()
			vm.inst.close()
			vm.mu.Unlock()
		}
		h.rt.Close(context.Background())
	})
}

// StartTicker delivers proxy_on_tick to every VM at the period the plugin set, on real time,
// until ctx is done or the host is closed. Tests usually call VM.Tick instead.
func (h *Host) StartTicker(ctx context.Context) {
	for _, vm := range h.vms {
		vm := vm
		go func() {
			for {
				p := vm.TickPeriod()
				wait := p
				if wait <= 0 {
					wait = 50 * time.Millisecond
				}
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-h.calloutCtx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				if p > 0 {
					vm.Tick()
				}
			}
		}()
	}
}

// Metric returns the value and type of the metric the plugin defined under name (the same stat
// for every VM, as Envoy's wasmcustom.<name> stat). For a histogram the value is the number of
// recorded samples.
func (h *Host) Metric(name string) (value int64, typ MetricType, ok bool) {
	return h.metrics.get(name)
}

// Metrics returns every metric by name (histograms: sample count).
func (h *Host) Metrics() map[string]int64 { return h.metrics.all() }

// HistogramValues returns the samples recorded into a histogram.
func (h *Host) HistogramValues(name string) []uint64 { return h.metrics.samples(name) }

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
