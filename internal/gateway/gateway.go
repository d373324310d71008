// Package gateway is the local gateway: an HTTP server that runs the real
// wasm-authn module in the Envoy-faithful host (package host) in front of an
// upstream, the way Envoy's filter chain would. It is how users try a
// policy without Envoy, and what the end-to-end suite drives.
package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"sync/atomic"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// MaxBody bounds the request bodies the gateway accepts (Envoy's default
// per-connection buffer limit).
const MaxBody = 1 << 20

// Config configures a Gateway.
type Config struct {
	// Host configures the plugin's host; Host.Module and Host.PluginConfig
	// are required.
	Host host.Config
	// Upstream is where allowed requests go; nil uses Echo.
	Upstream http.Handler
}

// Gateway serves HTTP through the plugin.
type Gateway struct {
	host     *host.Host
	upstream http.Handler
	next     atomic.Uint64
}

// New starts the plugin's VMs (a canary and the workers). A configuration
// the plugin rejects is an error holding its critical log lines.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	h, err := host.New(ctx, cfg.Host)
	if err != nil {
		return nil, err
	}
	g := &Gateway{host: h, upstream: cfg.Upstream}
	if g.upstream == nil {
		g.upstream = Echo()
	}
	h.StartTicker(ctx)
	return g, nil
}

// Host is the underlying host (logs, metrics, VMs).
func (g *Gateway) Host() *host.Host { return g.host }

// Close stops the VMs.
func (g *Gateway) Close() { g.host.Close() }

// ServeHTTP sends r through the plugin on the next worker VM.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := host.RequestFromHTTP(r, MaxBody)
	if err != nil {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	vm := g.host.VM(int(g.next.Add(1)-1) % g.host.NumVMs())
	resp, err := vm.RoundTrip(r.Context(), req, g.upstream)
	if err != nil {
		// Fail closed: the exchange could not complete.
		http.Error(w, "upstream connect error or disconnect/reset before headers", http.StatusServiceUnavailable)
		return
	}
	resp.Write(w)
}

// Proxy returns an upstream that forwards to a real HTTP server.
func Proxy(target *url.URL) http.Handler {
	p := httputil.NewSingleHostReverseProxy(target)
	return p
}

// EchoReply is the body Echo answers with: the request as the upstream
// received it.
type EchoReply struct {
	Method  string              `json:"method"`
	Host    string              `json:"host"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body,omitempty"`
}

// Echo is the built-in upstream: it answers 200 with the request it got as
// JSON, so a user sees the identity headers the plugin added and the
// credentials it removed.
func Echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, MaxBody))
		rep := EchoReply{Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(), Headers: map[string][]string{}, Body: string(body)}
		if r.RequestURI != "" {
			rep.Path = r.RequestURI
		}
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rep.Headers[http.CanonicalHeaderKey(k)] = r.Header[k]
		}
		w.Header().Set("content-type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(w, err)
		}
	})
}
