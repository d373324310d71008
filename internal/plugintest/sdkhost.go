package plugintest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// SDKHost runs the real module under the Go SDK's proxytest emulator, an
// independent implementation of the host side of the ABI. The emulator is a
// process-wide singleton: tests using it must not run in parallel.
type SDKHost struct {
	host  proxytest.HostEmulator
	reset func()
	vm    proxytest.WasmVMContext
}

// NewSDKHost starts the module with the plugin configuration cfg. It
// returns an error (with the plugin's critical logs) if configuration fails.
func NewSDKHost(tb testing.TB, cfg []byte) (*SDKHost, error) {
	tb.Helper()
	wasm, err := RenameExport(Module(tb), "_initialize", "_start")
	if err != nil {
		tb.Fatal(err)
	}
	vm, err := proxytest.NewWasmVMContext(wasm)
	if err != nil {
		tb.Fatal(err)
	}
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(vm).WithPluginConfiguration(cfg))
	h := &SDKHost{host: host, reset: reset, vm: vm}
	tb.Cleanup(h.Close)
	if host.StartVM() != types.OnVMStartStatusOK {
		return h, fmt.Errorf("on_vm_start failed: %s", strings.Join(host.GetCriticalLogs(), "; "))
	}
	if host.StartPlugin() != types.OnPluginStartStatusOK {
		return h, fmt.Errorf("on_configure failed: %s", strings.Join(host.GetCriticalLogs(), "; "))
	}
	return h, nil
}

// Close releases the emulator.
func (h *SDKHost) Close() {
	if h.reset != nil {
		h.reset()
		h.reset = nil
		h.vm.Close()
	}
}

// Do runs one request's headers through the plugin and finishes the stream.
func (h *SDKHost) Do(req Request) Result {
	id := h.host.InitializeHttpContext()
	action := h.host.CallOnRequestHeaders(id, req.Headers, true)
	res := Result{Upstream: h.host.GetCurrentRequestHeaders(id)}
	if lr := h.host.GetSentLocalResponse(id); lr != nil {
		res.Local = &Reply{Status: int(lr.StatusCode), Details: lr.StatusCodeDetail, Headers: lr.Headers, Body: lr.Data}
	} else if action != types.ActionContinue {
		res.Paused = true
	}
	h.host.CompleteHttpContext(id)
	return res
}

// Logs returns every plugin log line at or above debug.
func (h *SDKHost) Logs() []string {
	var all []string
	all = append(all, h.host.GetDebugLogs()...)
	all = append(all, h.host.GetInfoLogs()...)
	all = append(all, h.host.GetWarnLogs()...)
	all = append(all, h.host.GetErrorLogs()...)
	all = append(all, h.host.GetCriticalLogs()...)
	return all
}

// Counter returns a counter's value by name.
func (h *SDKHost) Counter(name string) uint64 {
	v, err := h.host.GetCounterMetric(name)
	if err != nil {
		return 0
	}
	return v
}
