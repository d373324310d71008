package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/gateway"
	"github.com/wasm-authn/wasm-authn/internal/host"
)

type clusterFlag map[string]string

func (c clusterFlag) String() string { return fmt.Sprint(map[string]string(c)) }
func (c clusterFlag) Set(v string) error {
	name, u, ok := strings.Cut(v, "=")
	if !ok || name == "" || !strings.HasPrefix(u, "http") {
		return errors.New("want NAME=http://host:port")
	}
	c[name] = u
	return nil
}

// serve runs the local gateway until interrupted.
func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	module := fs.String("module", "build/wasm-authn.wasm", "the plugin `file` (make build)")
	cfgPath := fs.String("config", "testdata/configs/example.json", "plugin configuration `file` (JSON)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
	upstream := fs.String("upstream", "", "forward allowed requests to this `URL` instead of the built-in echo")
	workers := fs.Int("workers", 2, "worker VMs, as Envoy's worker threads")
	level := fs.String("log-level", "info", "plugin log `level` shown: trace, debug, info, warn, error, critical")
	clusters := clusterFlag{}
	fs.Var(clusters, "cluster", "an Envoy cluster for callouts, `NAME=URL` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	wasm, err := os.ReadFile(*module)
	if err != nil {
		fmt.Fprintf(stderr, "wasm-authn run: %v (run `make build` first)\n", err)
		return 1
	}
	cfg, err := os.ReadFile(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "wasm-authn run: %v\n", err)
		return 1
	}
	minLevel, ok := levels[*level]
	if !ok {
		fmt.Fprintf(stderr, "wasm-authn run: unknown log level %q\n", *level)
		return 2
	}
	var up http.Handler
	if *upstream != "" {
		u, err := url.Parse(*upstream)
		if err != nil || u.Host == "" {
			fmt.Fprintf(stderr, "wasm-authn run: bad -upstream %q\n", *upstream)
			return 2
		}
		up = gateway.Proxy(u)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := gateway.New(ctx, gateway.Config{Upstream: up, Host: host.Config{
		Module: wasm, PluginConfig: cfg, PluginName: "wasm-authn", RootID: "wasm-authn",
		Workers: *workers, Clusters: clusters,
		LogSink: func(l host.Log) {
			if l.Level >= minLevel {
				fmt.Fprintf(stderr, "%s [vm %d] %s\n", l.Level, l.VM, l.Message)
			}
		},
	}})
	if err != nil {
		fmt.Fprintf(stderr, "wasm-authn run: the plugin rejected %s:\n%v\n", *cfgPath, err)
		return 1
	}
	defer g.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "wasm-authn run: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "wasm-authn gateway on %s: %s with %s, %d worker VMs, upstream %s\n",
		base, *module, *cfgPath, *workers, upstreamName(*upstream))
	if *cfgPath == "testdata/configs/example.json" {
		fmt.Fprintf(stdout, `Try:
  curl -i -H 'x-api-key: demo-key-partner-a-0001' %[1]s/things        # 200: API key (partner-a)
  curl -i -u 'alice:wonder:land' %[1]s/admin/users                    # 200: Basic (alice)
  curl -i %[1]s/things                                                # 401: no credential, with challenges
  curl -i -u 'bob:b0b-secret' %[1]s/admin/users                       # 403: bob is not an admin
`, base)
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "wasm-authn run: %v\n", err)
		return 1
	}
	return 0
}

var levels = map[string]host.LogLevel{
	"trace": host.LogTrace, "debug": host.LogDebug, "info": host.LogInfo,
	"warn": host.LogWarn, "error": host.LogError, "critical": host.LogCritical,
}

func upstreamName(u string) string {
	if u == "" {
		return "built-in echo"
	}
	return u
}
