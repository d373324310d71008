package host

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// authServer is a real loopback server standing in for an identity provider.
type authServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newAuthServer(t *testing.T) *authServer {
	a := &authServer{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, r.Clone(r.Context()))
		a.mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/slow"):
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			w.Write([]byte("late"))
		case strings.HasPrefix(r.URL.Path, "/reset"):
			// Headers, then half a body, then the connection goes away.
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
			buf.Flush()
			conn.Close()
		case strings.HasPrefix(r.URL.Path, "/deny"):
			w.WriteHeader(401)
			w.Write([]byte("no"))
		case strings.HasPrefix(r.URL.Path, "/check"):
			if strings.Contains(r.URL.RawQuery, "deny") {
				w.WriteHeader(401)
				return
			}
			if strings.Contains(r.URL.RawQuery, "slow") {
				time.Sleep(300 * time.Millisecond)
			}
			w.Write([]byte("user=alice"))
		default:
			w.Header().Set("X-Auth-User", "alice")
			w.Write([]byte("user=alice"))
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *authServer) requests() []*http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*http.Request(nil), a.seen...)
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// waitFor polls cond until it holds or the test's deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func callbacksOf(h *Host, phase string) []string {
	var out []string
	for _, e := range enters(h, 0) {
		if strings.HasPrefix(e, phase+"(") {
			out = append(out, e)
		}
	}
	return out
}

func TestHTTPCallArgumentChecks(t *testing.T) {
	auth := newAuthServer(t)
	calls := []struct {
		cmd  string
		want string
	}{
		{"call auth GET /ok auth.local 1000", "0:4"},
		{"call nosuchcluster GET /ok auth.local 1000", "2:0"},
		{"call auth - /ok auth.local 1000", "2:0"},
		{"call auth GET - auth.local 1000", "2:0"},
		{"call auth GET /ok - 1000", "2:0"},
		{"call auth GET /ok auth.local 4294967295", "2:0"}, // -1 as a C int
		{"call auth GET /ok auth.local 2147483648", "2:0"},
		{"call auth GET /ok auth.local 0", "0:8"}, // 0: no timeout
		{"call auth GET /ok auth.local 2147483647", "0:12"},
	}
	var cmds []string
	for _, c := range calls {
		cmds = append(cmds, c.cmd)
	}
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newProbe(t, p, "request_headers: "+strings.Join(cmds, "; "), func(c *Config) {
				c.Clusters = map[string]string{"auth": auth.URL}
			})
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), true)
			for _, c := range calls {
				if got := result(t, h, "request_headers", c.cmd); got != c.want {
					t.Errorf("%s = %s; want %s", c.cmd, got, c.want)
				}
			}
			waitFor(t, "three callout responses", func() bool { return len(callbacksOf(h, "http_call_response")) == 3 })
		})
	}
}

func TestHTTPCallResponseOnRootContext(t *testing.T) {
	script := "request_headers: call auth GET /ok?x=1 auth.local 5000 req-body; return 1\n" +
		"http_call_response: get 6 :status; get 6 x-auth-user; getbuf 4 0 100; size 6; pairs 7; effective caller; add 0 x-auth ok; continue 0\n" +
		"log: get 6 :status; getbuf 4 0 10"
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			auth := newAuthServer(t)
			h := newProbe(t, p, script, func(c *Config) { c.Clusters = map[string]string{"auth": auth.URL} })
			s := h.VM(0).NewStream(Connection{})
			if a := s.RequestHeaders(reqHeaders("/"), true); a != StopAllIterationAndWatermark {
				t.Fatalf("RequestHeaders = %v", a)
			}
			if err := s.Wait(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			s.Close()
			cb := callbacksOf(h, "http_call_response")
			if len(cb) != 1 || !strings.HasPrefix(cb[0], "http_call_response(1,4,") || !strings.HasSuffix(cb[0], ",10,0)") {
				t.Fatalf("callout callback = %q; want (root 1, token 4, headers, 10 body bytes, 0 trailers)", cb)
			}
			for cmd, want := range map[string]string{
				"get 6 :status": "0:200", "get 6 x-auth-user": "0:alice", "getbuf 4 0 100": "0:757365723d616c696365",
				"size 6": "2:0", "pairs 7": "0:0", "effective caller": "0",
			} {
				if got := result(t, h, "http_call_response", cmd); got != want {
					t.Errorf("%s = %s; want %s", cmd, got, want)
				}
			}
			// The response is readable only during the callback.
			if got := result(t, h, "log", "get 6 :status"); got != "1:" {
				t.Errorf("callout headers in on_log: %s; want NotFound (a missing map in the access-log phase)", got)
			}
			if got := result(t, h, "log", "getbuf 4 0 10"); got != "1:" {
				t.Errorf("callout body in on_log: %s; want NotFound", got)
			}
			if v, _ := getHeader(s.RequestHeaderMap(), "x-auth"); v != "ok" {
				t.Errorf("request headers %q lack x-auth", s.RequestHeaderMap())
			}
			reqs := auth.requests()
			if len(reqs) != 1 {
				t.Fatalf("auth server saw %d requests", len(reqs))
			}
			r := reqs[0]
			if r.Host != "auth.local" || r.Method != "GET" || r.URL.RequestURI() != "/ok?x=1" || r.Header.Get("X-Probe-Ctx") != "2" || r.ContentLength != int64(len("req-body")) {
				t.Errorf("auth server saw %s %s host=%s headers=%v len=%d", r.Method, r.URL, r.Host, r.Header, r.ContentLength)
			}
		})
	}
}

func TestHTTPCallTimeoutIs504(t *testing.T) {
	auth := newAuthServer(t)
	h := newProbe(t, ProfileEnvoy139, "request_headers: call auth GET /slow auth.local 100\nhttp_call_response: get 6 :status; getbuf 4 0 100",
		func(c *Config) { c.Clusters = map[string]string{"auth": auth.URL} })
	s := h.VM(0).NewStream(Connection{})
	start := time.Now()
	s.RequestHeaders(reqHeaders("/"), true)
	waitFor(t, "the callout response", func() bool { return len(results(h, "http_call_response", "get 6 :status")) == 1 })
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("timeout took %v", d)
	}
	if got := result(t, h, "http_call_response", "get 6 :status"); got != "0:504" {
		t.Errorf(":status = %s; want 504", got)
	}
	if _, b := decoded(t, result(t, h, "http_call_response", "getbuf 4 0 100")); string(b) != "upstream request timeout" {
		t.Errorf("body = %q", b)
	}
}

func TestHTTPCallConnectionFailureIs503(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_headers: call down GET / auth.local 1000\nhttp_call_response: get 6 :status; getbuf 4 0 200",
		func(c *Config) { c.Clusters = map[string]string{"down": closedPort(t)} })
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/"), true)
	waitFor(t, "the callout response", func() bool { return len(results(h, "http_call_response", "get 6 :status")) == 1 })
	if got := result(t, h, "http_call_response", "get 6 :status"); got != "0:503" {
		t.Errorf(":status = %s; want 503 (the async client's router answers)", got)
	}
	if _, b := decoded(t, result(t, h, "http_call_response", "getbuf 4 0 200")); !strings.HasPrefix(string(b), "upstream connect error") {
		t.Errorf("body = %q", b)
	}
}

func TestHTTPCallResetIsEmptyResponse(t *testing.T) {
	auth := newAuthServer(t)
	h := newProbe(t, ProfileEnvoy139, "request_headers: call auth GET /reset auth.local 1000\nhttp_call_response: get 6 :status",
		func(c *Config) { c.Clusters = map[string]string{"auth": auth.URL} })
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/"), true)
	waitFor(t, "the callout response", func() bool { return len(callbacksOf(h, "http_call_response")) == 1 })
	if got := callbacksOf(h, "http_call_response"); got[0] != "http_call_response(1,4,0,0,0)" {
		t.Errorf("callback = %s; want (1,4,0,0,0)", got[0])
	}
	if got := result(t, h, "http_call_response", "get 6 :status"); got != "2:" {
		t.Errorf(":status after a reset = %s; want BadArgument (no response)", got)
	}
}

func TestHTTPCallResponseAfterStreamDeleted(t *testing.T) {
	auth := newAuthServer(t)
	h := newProbe(t, ProfileEnvoy139, "request_headers: call auth GET /check?slow auth.local 5000; return 0\nhttp_call_response: effective caller; continue 0",
		func(c *Config) { c.Clusters = map[string]string{"auth": auth.URL} })
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/"), true)
	s.Close()
	waitFor(t, "the callout response", func() bool { return len(callbacksOf(h, "http_call_response")) == 1 })
	if got := callbacksOf(h, "http_call_response")[0]; !strings.HasPrefix(got, "http_call_response(1,4,") {
		t.Errorf("callback = %s; want it on the root context", got)
	}
	if got := result(t, h, "http_call_response", "effective caller"); got != "2" {
		t.Errorf("set_effective_context(deleted stream) = %s; want 2 (BadArgument)", got)
	}
}

func TestConcurrentCalloutsAreSerialisedPerVM(t *testing.T) {
	auth := newAuthServer(t)
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newHost(t, Config{Module: guests["echo"], Profile: p, Workers: 2, SkipCanary: true,
				PluginConfig: []byte("cluster=auth\ncallout=/api\ntimeout=5000"),
				Clusters:     map[string]string{"auth": auth.URL}})
			var wg sync.WaitGroup
			errs := make(chan string, 40)
			for i := 0; i < 40; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := h.VM(i%2).RoundTrip(testCtx(t), get("/api/"+strconv.Itoa(i)), echoUpstream)
					if err != nil {
						errs <- err.Error()
						return
					}
					if r.Status != 200 || r.Upstream == nil {
						errs <- "status " + strconv.Itoa(r.Status)
						return
					}
					if v, _ := getHeader(r.Upstream.Header, "x-auth-result"); v != "user=alice" {
						errs <- "x-auth-result=" + v
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			if v, _, _ := h.Metric("echo_callouts_total"); v != 40 {
				t.Errorf("echo_callouts_total = %d; want 40", v)
			}
			if v, _, _ := h.Metric("echo_active"); v != 0 {
				t.Errorf("echo_active = %d; want 0", v)
			}
		})
	}
}
