package plugintest

import (
	"fmt"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// A worker reuses the streams the host deleted. Requests of different
// users, methods and outcomes, one after another and overlapping (a stream
// created while another is open, then one created after it was deleted),
// each get exactly their own identity headers and verdict: nothing carries
// over from the request a reused stream served before. Run with the
// collector stressed, so a dropped reference would show.
func TestStreamsReusedCarryNothingOver(t *testing.T) {
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: staticJWTConfig(t), SkipCanary: true,
		Env: map[string]string{"WASM_AUTHN_GC_STRESS": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	vm := e.VM(0)
	type want struct {
		status int    // 0: allowed
		sub    string // x-jwt-sub upstream, when allowed
	}
	reqFor := func(i int) (Request, want) {
		switch i % 4 {
		case 0:
			return Get("api.test", "/things", bearer(token(t, "ES256", map[string]any{"sub": fmt.Sprint("user-", i)}, nil))), want{sub: fmt.Sprint("user-", i)}
		case 1:
			return Get("api.test", "/things"), want{status: 401}
		case 2:
			return Get("api.test", "/things", bearer(token(t, "RS256", map[string]any{"sub": fmt.Sprint("user-", i), "exp": 1}, nil))), want{status: 401}
		default:
			// A client's own copy of an identity header is removed.
			return Get("api.test", "/things", bearer(token(t, "EdDSA", map[string]any{"sub": fmt.Sprint("user-", i)}, nil)), [2]string{"x-jwt-sub", "spoofed"}), want{sub: fmt.Sprint("user-", i)}
		}
	}
	check := func(i int, s *host.Stream, w want) {
		t.Helper()
		lr := s.LocalReply()
		switch {
		case w.status != 0 && (lr == nil || lr.Status != w.status):
			t.Fatalf("request %d: reply %+v; want %d", i, lr, w.status)
		case w.status == 0 && lr != nil:
			t.Fatalf("request %d: denied %d %s", i, lr.Status, lr.Body)
		case w.status == 0:
			if got := Header(s.RequestHeaderMap(), "x-jwt-sub"); len(got) != 1 || got[0] != w.sub {
				t.Fatalf("request %d: x-jwt-sub %q; want %q", i, got, w.sub)
			}
		default:
			if got := Header(s.RequestHeaderMap(), "x-authn-principal"); len(got) != 0 {
				t.Fatalf("request %d: denied but principal %q upstream", i, got)
			}
		}
	}
	// One after another.
	for i := range 40 {
		req, w := reqFor(i)
		s := vm.NewStream(host.Connection{})
		s.RequestHeaders(req.Headers, true)
		check(i, s, w)
		s.Close()
	}
	// Overlapping: a is open while b runs, then c runs after a was deleted.
	for i := 0; i < 40; i += 3 {
		ra, wa := reqFor(i)
		rb, wb := reqFor(i + 1)
		rc, wc := reqFor(i + 2)
		a := vm.NewStream(host.Connection{})
		a.RequestHeaders(ra.Headers, true)
		b := vm.NewStream(host.Connection{})
		b.RequestHeaders(rb.Headers, true)
		check(i, a, wa)
		a.Close()
		c := vm.NewStream(host.Connection{})
		c.RequestHeaders(rc.Headers, true)
		check(i+1, b, wb)
		check(i+2, c, wc)
		b.Close()
		c.Close()
	}
	if logs := e.CriticalLogs(); logs != "" {
		t.Fatalf("critical logs: %s", logs)
	}
}
