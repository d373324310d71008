package plugintest

import (
	"encoding/json"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// htpasswd files as other servers read them, through the module on both
// hosts: nginx's "name:password:comment" lines, and {SSHA} entries (the
// first from passlib's documentation, the second made with openssl) when
// legacy hashes are allowed; without allow_legacy_hashes the same file
// stops the plugin at configure time.
func TestHtpasswdAsOtherServersWriteIt(t *testing.T) {
	file := "# staff\r\n" +
		"carol:{SSHA}pKqkNr1tq3wtQqk+UcPyA3HnA2NsU5NJ:Carol, ops\r\n" +
		"dave:{SSHA}Zy7Y5J23M5a2oU7gPSwWQZJ/N2NVzfaE0gnKqg==\r\n" +
		"erin:$2y$04$UaXFfPqCikBnlWPKiYwTW.19Z68tur4veecVG8kODUY.HLdTZUpfa:comment\r\n"
	config := func(legacy bool) []byte {
		b, err := json.Marshal(map[string]any{
			"providers": []any{map[string]any{"name": "staff", "basic": map[string]any{"htpasswd": file, "allow_legacy_hashes": legacy}}},
			"rules":     []any{map[string]any{"name": "all", "require": map[string]any{"provider": "staff"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	env, err := NewEnvoyHost(t, host.Config{PluginConfig: config(true), SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := NewSDKHost(t, config(true))
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.Close()
	for _, tt := range []struct {
		user, pass string
		status     int
	}{
		{"carol", "password", 0}, {"dave", "hunter2", 0}, {"erin", "hunter2", 0},
		{"carol", "Password", 401}, {"dave", "hunter2 ", 401}, {"carol", "Carol, ops", 401},
	} {
		req := Get(apiHost, "/x", h("authorization", basic(tt.user, tt.pass)))
		for name, do := range map[string]func(Request) Result{"envoy": env.Do, "sdk": sdk.Do} {
			r := do(req)
			if r.Status() != tt.status {
				t.Errorf("%s: %s:%q: status %d; want %d", name, tt.user, tt.pass, r.Status(), tt.status)
			}
			if tt.status == 0 {
				if got := Header(r.Upstream, "x-authn-principal"); len(got) != 1 || got[0] != tt.user {
					t.Errorf("%s: %s: principal %q", name, tt.user, got)
				}
			}
		}
	}
	if _, err := NewEnvoyHost(t, host.Config{PluginConfig: config(false), SkipCanary: true}); err == nil {
		t.Error("legacy {SSHA} entries accepted without allow_legacy_hashes")
	}
}
