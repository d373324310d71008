package plugintest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// Profiles are the two WASI host profiles every core scenario runs under.
var Profiles = []struct {
	Name    string
	Profile host.Profile
}{
	{"envoy-1.39+", host.ProfileEnvoy139},
	{"envoy-1.33-1.38", host.ProfileEnvoy133},
}

// EnvoyHost runs the real module in the Envoy-faithful emulator.
type EnvoyHost struct {
	*host.Host
	next int // round-robin over worker VMs
	Conn host.Connection
}

// NewEnvoyHost starts the module with cfg (Module defaults to the built
// plugin). Configuration failure is returned as an error.
func NewEnvoyHost(tb testing.TB, cfg host.Config) (*EnvoyHost, error) {
	tb.Helper()
	if cfg.Module == nil {
		cfg.Module = Module(tb)
	}
	if cfg.PluginName == "" {
		cfg.PluginName = "wasm-authn"
	}
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(h.Close)
	return &EnvoyHost{Host: h}, nil
}

// Do runs one request (headers only) on the next worker VM and finishes
// the stream, as Envoy would for a request without a body.
func (e *EnvoyHost) Do(req Request) Result {
	vm := e.VM(e.next % e.NumVMs())
	e.next++
	return DoOn(vm, e.Conn, req)
}

// DoOn runs one request on vm over conn.
func DoOn(vm *host.VM, conn host.Connection, req Request) Result {
	s := vm.NewStream(conn)
	defer s.Close()
	s.RequestHeaders(req.Headers, true)
	var waitErr error
	if s.Paused() {
		// Wait for a callout response or a tick to decide it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		waitErr = s.Wait(ctx)
	}
	res := Result{Upstream: s.RequestHeaderMap()}
	if lr := s.LocalReply(); lr != nil {
		res.Local = &Reply{Status: lr.Status, Details: lr.Details, Headers: lr.Headers, Body: lr.Body}
		return res
	}
	if waitErr != nil || !s.RequestForwarded() {
		res.Paused = true
	}
	return res
}

// Logs returns every log line of every VM.
func (e *EnvoyHost) Logs() []string {
	var out []string
	for _, l := range e.Host.Logs() {
		out = append(out, l.Message)
	}
	return out
}

// CriticalLogs returns the critical log lines joined by newlines.
func (e *EnvoyHost) CriticalLogs() string {
	var out []string
	for _, l := range e.Host.Logs() {
		if l.Level == host.LogCritical {
			out = append(out, l.Message)
		}
	}
	return strings.Join(out, "\n")
}

// Counter returns a counter's value by name (0 if undefined).
func (e *EnvoyHost) Counter(name string) uint64 {
	v, _, ok := e.Metric(name)
	if !ok {
		return 0
	}
	return uint64(v)
}
