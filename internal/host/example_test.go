package host_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// A gateway: the plugin runs in front of an upstream, on two worker VMs, calling out to an
// identity provider through the "outbound|443||idp.example.com" cluster.
func ExampleHost_Handler() {
	module, err := os.ReadFile("build/wasm-authn.wasm")
	if err != nil {
		return
	}
	h, err := host.New(context.Background(), host.Config{
		Module:       module,
		PluginConfig: []byte(`{"issuer":"https://idp.example.com"}`),
		PluginName:   "default.wasm-authn",
		RootID:       "wasm-authn",
		Workers:      2,
		Clusters:     map[string]string{"outbound|443||idp.example.com": "http://127.0.0.1:9443"},
		ForeignFunctions: map[string]host.ForeignFunc{
			"verify_signature": host.VerifySignature,
		},
	})
	if err != nil {
		fmt.Println(err) // quotes the plugin's critical logs when configuration is rejected
		return
	}
	defer h.Close()
	h.StartTicker(context.Background())
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
	_ = http.ListenAndServe("127.0.0.1:8080", h.Handler(upstream))
}

// A test drives one stream event by event.
func ExampleStream() {
	module, err := os.ReadFile("build/wasm-authn.wasm")
	if err != nil {
		return
	}
	h, err := host.New(context.Background(), host.Config{Module: module, Profile: host.ProfileEnvoy133})
	if err != nil {
		return
	}
	defer h.Close()
	s := h.VM(0).NewStream(host.Connection{SourceAddress: "10.0.0.1:40000"})
	defer s.Close() // proxy_on_log, proxy_on_done, proxy_on_delete
	action := s.RequestHeaders([][2]string{
		{":authority", "api.example.com"}, {":path", "/orders"}, {":method", "GET"}, {":scheme", "https"},
		{"authorization", "Bearer eyJ..."},
	}, true)
	if action != host.Continue {
		// Stopped: wait for proxy_continue_stream (a callout answered) or a local reply.
		if err := s.Wait(context.Background()); err != nil {
			return
		}
	}
	if lr := s.LocalReply(); lr != nil {
		fmt.Println(lr.Status, lr.Details)
		return
	}
	fmt.Println(s.RequestHeaderMap()) // what the upstream gets
}
