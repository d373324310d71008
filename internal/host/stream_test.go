package host

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestHeaderReturnValueMapping(t *testing.T) {
	tests := []struct {
		ret   int
		allow bool
		want  Action
	}{
		{0, false, Continue},
		{1, false, StopAllIterationAndWatermark}, // "Pause": allow_on_headers_stop_iteration is false
		{1, true, StopIteration},
		{2, false, Continue}, // ContinueAndEndStream has no case in Envoy's conversion
		{3, false, StopAllIterationAndBuffer},
		{4, false, StopAllIterationAndWatermark},
		{5, false, StopAllIterationAndWatermark},
		{1000, false, StopAllIterationAndWatermark},
	}
	for _, p := range bothProfiles {
		for _, tc := range tests {
			t.Run(p.String()+"/"+strconv.Itoa(tc.ret)+"/allow="+strconv.FormatBool(tc.allow), func(t *testing.T) {
				ret := "return " + strconv.Itoa(tc.ret)
				h := newProbe(t, p, "request_headers: "+ret+"\nresponse_headers: "+ret, func(c *Config) { c.AllowOnHeadersStopIteration = tc.allow })
				s := h.VM(0).NewStream(Connection{})
				if got := s.RequestHeaders(reqHeaders("/"), true); got != tc.want {
					t.Errorf("request headers: %d -> %v; want %v", tc.ret, got, tc.want)
				}
				s2 := h.VM(0).NewStream(Connection{})
				s2.RequestHeaders(reqHeaders("/"), true) // same script: may stop, response still runs
				if got := s2.ResponseHeaders([][2]string{{":status", "200"}}, true); got != tc.want {
					t.Errorf("response headers: %d -> %v; want %v", tc.ret, got, tc.want)
				}
			})
		}
	}
}

func TestBodyAndTrailerReturnValueMapping(t *testing.T) {
	body := []struct {
		ret  int
		want Action
	}{{0, Continue}, {1, StopIterationAndBuffer}, {2, StopIterationAndWatermark}, {3, StopIterationNoBuffer}, {4, StopIterationNoBuffer}}
	for _, tc := range body {
		t.Run("body/"+strconv.Itoa(tc.ret), func(t *testing.T) {
			h := newProbe(t, ProfileEnvoy139, "request_body: return "+strconv.Itoa(tc.ret))
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), false)
			if got := s.RequestBody([]byte("x"), true); got != tc.want {
				t.Errorf("body %d -> %v; want %v", tc.ret, got, tc.want)
			}
		})
	}
	trailers := []struct {
		ret  int
		want Action
	}{{0, Continue}, {1, StopIteration}, {2, StopIteration}}
	for _, tc := range trailers {
		t.Run("trailers/"+strconv.Itoa(tc.ret), func(t *testing.T) {
			h := newProbe(t, ProfileEnvoy139, "request_trailers: return "+strconv.Itoa(tc.ret))
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), false)
			if got := s.RequestTrailers([][2]string{{"t", "v"}}); got != tc.want {
				t.Errorf("trailers %d -> %v; want %v", tc.ret, got, tc.want)
			}
		})
	}
}

func TestStreamCallbackOrder(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newProbe(t, p, "")
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/", [2]string{"content-type", "text/plain"}), false)
			s.RequestBody([]byte("hello"), false)
			s.RequestTrailers([][2]string{{"x-t", "1"}})
			s.ResponseHeaders([][2]string{{":status", "200"}, {"content-type", "text/plain"}}, false)
			s.ResponseBody([]byte("done"), true)
			s.Close()
			want := []string{
				"context_create(2,1)", "request_headers(2,5,0)", "request_body(2,5,0)", "request_trailers(2,1)",
				"response_headers(2,2,0)", "response_body(2,4,1)", "log(2)", "done(2)", "delete(2)",
			}
			if got := enters(h, 0)[3:]; !reflect.DeepEqual(got, want) {
				t.Fatalf("callbacks = %q\nwant %q", got, want)
			}
			if !s.RequestComplete() || string(s.ForwardedRequestBody()) != "hello" || !s.ResponseComplete() {
				t.Errorf("request complete=%v body=%q response complete=%v", s.RequestComplete(), s.ForwardedRequestBody(), s.ResponseComplete())
			}
		})
	}
}

// TestStreamWithoutRequestIsLoggedAnyway: Envoy creates the context from log() when the request
// never reached the filter.
func TestStreamWithoutRequestIsLoggedAnyway(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "")
	s := h.VM(0).NewStream(Connection{})
	s.Close()
	want := []string{"context_create(2,1)", "log(2)", "done(2)", "delete(2)"}
	if got := enters(h, 0)[3:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("callbacks = %q; want %q", got, want)
	}
}

func TestLocalReplyForcesStopAndRunsResponseCallbacks(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			script := "request_headers: local 401 not%20allowed go%20away WWW-Authenticate Bearer; return 0\n" +
				"response_headers: add 2 x-seen-by-plugin yes; get 2 www-authenticate"
			h := newProbe(t, p, script)
			s := h.VM(0).NewStream(Connection{})
			if a := s.RequestHeaders(reqHeaders("/"), true); a != StopAllIterationAndWatermark {
				t.Errorf("RequestHeaders = %v; want StopAllIterationAndWatermark (return value ignored)", a)
			}
			lr := s.LocalReply()
			want := &LocalReply{Status: 401, Details: "not_allowed", Body: []byte("go away"), Headers: [][2]string{{"www-authenticate", "Bearer"}}, GrpcStatus: -1}
			if !reflect.DeepEqual(lr, want) {
				t.Errorf("LocalReply = %+v; want %+v", lr, want)
			}
			if s.RequestForwarded() {
				t.Error("the request was forwarded after a local reply")
			}
			if got := result(t, h, "response_headers", "get 2 www-authenticate"); got != "0:Bearer" {
				t.Errorf("response headers in the callback: %q", got)
			}
			resp := s.ResponseHeaderMap()
			for _, k := range []string{":status", "www-authenticate", "content-length", "content-type", "x-seen-by-plugin"} {
				if _, ok := getHeader(resp, k); !ok {
					t.Errorf("response headers %q lack %s", resp, k)
				}
			}
			if string(s.ResponseBodyOut()) != "go away" || !s.ResponseComplete() {
				t.Errorf("response body %q complete=%v", s.ResponseBodyOut(), s.ResponseComplete())
			}
			s.Close()
			if got := enters(h, 0)[5:8]; !reflect.DeepEqual(got, []string{"response_headers(2,4,0)", "response_body(2,7,1)", "log(2)"}) {
				t.Errorf("callbacks after the local reply: %q", got)
			}
		})
	}
}

// TestContinueFromTickReplaysHeldData pauses a request, lets body data arrive while it is stopped
// (held by the filter manager without calling the filter), then continues it from another
// callback through proxy_set_effective_context: the held body goes through the filter.
func TestContinueFromTickReplaysHeldData(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			script := "configure: tick 10\nrequest_headers: return 1\nrequest_body: getbuf 0 0 100\n" +
				"tick: effective 2; add 0 x-from-tick yes; continue 0; add 0 x-after-continue yes; effective 999"
			h := newProbe(t, p, script)
			vm := h.VM(0)
			s := vm.NewStream(Connection{})
			if a := s.RequestHeaders(reqHeaders("/"), false); a != StopAllIterationAndWatermark {
				t.Fatalf("RequestHeaders = %v", a)
			}
			if a := s.RequestBody([]byte("held"), true); a != Held {
				t.Fatalf("RequestBody while stopped = %v; want Held", a)
			}
			if !s.Paused() {
				t.Fatal("stream not paused")
			}
			vm.Tick()
			for cmd, want := range map[string]string{
				"effective 2": "0", "add 0 x-from-tick yes": "0", "continue 0": "0",
				"add 0 x-after-continue yes": "2", // request_headers_ is cleared by continue_stream
				"effective 999":              "2", // unknown context
			} {
				if got := result(t, h, "tick", cmd); got != want {
					t.Errorf("%s = %s; want %s", cmd, got, want)
				}
			}
			if err := s.Wait(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if st, b := decoded(t, result(t, h, "request_body", "getbuf 0 0 100")); st != "0" || string(b) != "held" {
				t.Errorf("replayed body = %s %q", st, b)
			}
			if _, ok := getHeader(s.RequestHeaderMap(), "x-from-tick"); !ok || !s.RequestComplete() {
				t.Errorf("headers %q complete=%v", s.RequestHeaderMap(), s.RequestComplete())
			}
			if _, ok := getHeader(s.RequestHeaderMap(), "x-after-continue"); ok {
				t.Error("a header added after continue reached the upstream")
			}
		})
	}
}

// TestContinueInsideTheSameCallback: continue_stream is an after-VM-call action; called from the
// callback that then returns Pause, the stream continues once the callback returned.
func TestContinueInsideTheSameCallback(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_headers: continue 0; return 1")
	s := h.VM(0).NewStream(Connection{})
	if a := s.RequestHeaders(reqHeaders("/"), true); a != StopAllIterationAndWatermark {
		t.Fatalf("RequestHeaders = %v", a)
	}
	if s.Paused() || !s.RequestComplete() {
		t.Fatalf("paused=%v complete=%v; want the deferred continue to release the stream", s.Paused(), s.RequestComplete())
	}
}

func TestHeaderMapAvailabilityPerPhase(t *testing.T) {
	script := strings.Join([]string{
		"configure: get 0 :path; pairs 0; size 0; add 0 k v",
		"request_headers: get 0 :path; get 2 :status; get 6 :status; size 6; pairs 6; getbuf 4 0 10; return 0",
		"request_body: get 0 :path; add 0 x-late v; pairs 0; size 0; getbuf 0 0 10",
		"response_headers: get 0 :path; get 2 :status; add 2 x-r v",
		"response_body: get 2 :status; add 2 x-late v",
		"log: get 0 :path; get 2 :status; get 1 t; add 0 k v; pairs 1",
	}, "\n")
	want := map[string]map[string]string{
		"configure": {"get 0 :path": "2:", "pairs 0": "0:0", "size 0": "2:0", "add 0 k v": "2"},
		"request_headers": {"get 0 :path": "0:/", "get 2 :status": "2:", "get 6 :status": "2:", "size 6": "2:0",
			"pairs 6": "0:0", "getbuf 4 0 10": "1:"},
		"request_body":     {"get 0 :path": "2:", "add 0 x-late v": "2", "pairs 0": "0:0", "size 0": "2:0", "getbuf 0 0 10": "0:626f6479"},
		"response_headers": {"get 0 :path": "2:", "get 2 :status": "0:200", "add 2 x-r v": "0"},
		"response_body":    {"get 2 :status": "2:", "add 2 x-late v": "2"},
		// In the access-log phase the maps are read-only copies; a missing one is NotFound.
		"log": {"get 0 :path": "0:/", "get 2 :status": "0:200", "get 1 t": "1:", "add 0 k v": "2", "pairs 1": "0:0"},
	}
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newProbe(t, p, script)
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), false)
			s.RequestBody([]byte("body"), true)
			s.ResponseHeaders([][2]string{{":status", "200"}}, false)
			s.ResponseBody([]byte("x"), true)
			s.Close()
			for phase, cmds := range want {
				for cmd, w := range cmds {
					if got := result(t, h, phase, cmd); got != w {
						t.Errorf("%s: %s = %q; want %q", phase, cmd, got, w)
					}
				}
			}
		})
	}
}

func TestHeaderMapOperations(t *testing.T) {
	script := "request_headers: add 0 X-Upper Value; get 0 x-dup; get 0 X-DUP; size 0; replace 0 X-Dup single; get 0 x-dup; remove 0 x-upper; get 0 x-upper; get 0 x-missing; pairs 1"
	h := newProbe(t, ProfileEnvoy139, script)
	s := h.VM(0).NewStream(Connection{})
	in := reqHeaders("/", [2]string{"x-dup", "a"}, [2]string{"x-dup", "b"})
	size := 0
	for _, p := range append(in, [2]string{"x-upper", "Value"}) {
		size += len(p[0]) + len(p[1])
	}
	s.RequestHeaders(in, true)
	for cmd, w := range map[string]string{
		"add 0 X-Upper Value": "0",
		"get 0 X-DUP":         "0:a",
		"size 0":              "0:" + strconv.Itoa(size), // byteSize, not the count
		"get 0 x-missing":     "1:",
		"get 0 x-upper":       "1:",
		"pairs 1":             "0:0", // no trailers: OK, pointer 0, size 0
	} {
		if got := result(t, h, "request_headers", cmd); got != w {
			t.Errorf("%s = %q; want %q", cmd, got, w)
		}
	}
	// The first value only of a repeated header; then the replaced value.
	if got := results(h, "request_headers", "get 0 x-dup"); !reflect.DeepEqual(got, []string{"0:a", "0:single"}) {
		t.Errorf("get x-dup before/after replace = %q", got)
	}
	want := append(reqHeaders("/"), [2]string{"x-dup", "single"})
	if got := s.RequestHeaderMap(); !reflect.DeepEqual(got, want) {
		t.Errorf("headers = %q\nwant %q", got, want)
	}
}

func TestSetHeaderMapPairsLowerCasesKeys(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_headers: setpairs 0 :authority a.example :path /x :method POST :scheme https X-New V; pairs 0")
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/", [2]string{"x-old", "1"}), true)
	want := [][2]string{{":authority", "a.example"}, {":path", "/x"}, {":method", "POST"}, {":scheme", "https"}, {"x-new", "V"}}
	if got := s.RequestHeaderMap(); !reflect.DeepEqual(got, want) {
		t.Fatalf("headers = %q; want %q", got, want)
	}
	if got := result(t, h, "request_headers", "pairs 0"); !strings.Contains(got, ":x-new=V") {
		t.Errorf("pairs = %q", got)
	}
}

func TestBodyBufferingAndBufferBytes(t *testing.T) {
	tests := []struct {
		ret       string
		wantSizes []string // request_body enter arguments
		wantViews []string
	}{
		// StopIterationAndBuffer: the next callback sees the whole buffer.
		{"1", []string{"request_body(2,3,0)", "request_body(2,6,0)"}, []string{"0:616263", "0:616263646566"}},
		// StopIterationAndWatermark: the filter manager buffers, the filter sees new frames only.
		{"2", []string{"request_body(2,3,0)", "request_body(2,3,0)"}, []string{"0:616263", "0:646566"}},
	}
	for _, tc := range tests {
		t.Run("return "+tc.ret, func(t *testing.T) {
			h := newProbe(t, ProfileEnvoy139, "request_body: getbuf 0 0 100; return "+tc.ret+"\nrequest_trailers: getbuf 0 0 100")
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), false)
			s.RequestBody([]byte("abc"), false)
			s.RequestBody([]byte("def"), false)
			if s.RequestForwarded() && len(s.ForwardedRequestBody()) > 0 {
				t.Fatal("body forwarded while stopped")
			}
			if a := s.RequestTrailers([][2]string{{"t", "1"}}); a != Continue {
				t.Fatalf("trailers = %v", a)
			}
			var got []string
			for _, e := range enters(h, 0) {
				if strings.HasPrefix(e, "request_body") {
					got = append(got, e)
				}
			}
			if !reflect.DeepEqual(got, tc.wantSizes) {
				t.Errorf("body callbacks = %q; want %q", got, tc.wantSizes)
			}
			if got := results(h, "request_body", "getbuf 0 0 100"); !reflect.DeepEqual(got, tc.wantViews) {
				t.Errorf("buffer views = %q; want %q", got, tc.wantViews)
			}
			if string(s.ForwardedRequestBody()) != "abcdef" || !s.RequestComplete() {
				t.Errorf("forwarded %q complete=%v", s.ForwardedRequestBody(), s.RequestComplete())
			}
		})
	}
}

func TestSetAndGetBufferBytes(t *testing.T) {
	script := "request_body: setbuf 0 0 0 <<; getbuf 0 0 100; setbuf 0 100 0 >>; getbuf 0 0 100; setbuf 0 1 1 x; " +
		"setbuf 0 0 999 new; getbuf 0 1 100; getbuf 0 100 5; getbuf 6 0 0; setbuf 6 0 0 x; setbuf 4 0 0 x; getbuf 9 0 1"
	h := newProbe(t, ProfileEnvoy139, script)
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/"), false)
	s.RequestBody([]byte("body"), true)
	for cmd, want := range map[string]string{
		"setbuf 0 0 0 <<":    "0",      // prepend
		"setbuf 0 100 0 >>":  "0",      // append
		"setbuf 0 1 1 x":     "2",      // a partial replace is BadArgument
		"setbuf 0 0 999 new": "0",      // replace everything
		"getbuf 0 1 100":     "0:6577", // clamped to the buffer
		"getbuf 0 100 5":     "0:",     // start past the end: nothing, OK
		"getbuf 6 0 0":       "0:",     // zero length
		"setbuf 6 0 0 x":     "2",      // the VM configuration is read-only
		"setbuf 4 0 0 x":     "1",      // no callout response now
		"getbuf 9 0 1":       "2:",     // unknown buffer type
	} {
		if got := result(t, h, "request_body", cmd); got != want {
			t.Errorf("%s = %q; want %q", cmd, got, want)
		}
	}
	// "<<body", then "<<body>>".
	if got := results(h, "request_body", "getbuf 0 0 100"); !reflect.DeepEqual(got, []string{"0:3c3c626f6479", "0:3c3c626f64793e3e"}) {
		t.Errorf("reads = %q", got)
	}
	if string(s.ForwardedRequestBody()) != "new" {
		t.Errorf("forwarded body = %q; want %q", s.ForwardedRequestBody(), "new")
	}
}

func TestTrailersAddedDuringLastDataFrame(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_body: add 1 x-added v")
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/"), false)
	s.RequestBody([]byte("a"), false)
	s.RequestBody([]byte("b"), true)
	if got := results(h, "request_body", "add 1 x-added v"); !reflect.DeepEqual(got, []string{"2", "0"}) {
		t.Fatalf("add trailer = %q; want BadArgument before the last frame, OK on it", got)
	}
	if got := s.RequestTrailerMap(); !reflect.DeepEqual(got, [][2]string{{"x-added", "v"}}) || !s.RequestComplete() {
		t.Errorf("trailers %q complete=%v", got, s.RequestComplete())
	}
}

func TestBufferLimitGives413(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_body: return 1", func(c *Config) { c.BufferLimit = 10 })
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/"), false)
	s.RequestBody([]byte("12345678"), false)
	s.RequestBody([]byte("12345678"), false)
	if lr := s.LocalReply(); lr == nil || lr.Status != 413 {
		t.Fatalf("LocalReply = %+v; want 413", lr)
	}
}

func TestPairsSerialization(t *testing.T) {
	pairs := [][2]string{{"a", "1"}, {"bb", ""}}
	want := []byte{2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 'a', 0, '1', 0, 'b', 'b', 0, 0}
	if got := marshalPairs(pairs); !reflect.DeepEqual(got, want) {
		t.Fatalf("marshalPairs = %v; want %v", got, want)
	}
	if got := unmarshalPairs(want); !reflect.DeepEqual(got, pairs) {
		t.Fatalf("unmarshalPairs = %q", got)
	}
	tooMany := make([][2]string, 1025)
	big := [][2]string{{"k", strings.Repeat("v", 1<<20)}}
	bad := append([]byte(nil), want...)
	bad[21] = 'x' // the NUL after "a"
	for name, b := range map[string][]byte{
		"over 1024 pairs": marshalPairs(tooMany),
		"over 1 MiB":      marshalPairs(big),
		"missing NUL":     bad,
		"trailing bytes":  append(append([]byte(nil), want...), 0),
		"truncated":       want[:10],
		"empty":           nil,
	} {
		if got := unmarshalPairs(b); got != nil {
			t.Errorf("%s: unmarshalPairs = %q; want empty", name, got)
		}
	}
	if got := unmarshalPairs(marshalPairs(tooMany[:1024])); len(got) != 1024 {
		t.Errorf("1024 pairs: got %d", len(got))
	}
}

// TestCodecHeadersAreLowerCased: Envoy's codecs hand the filter lower-case header names, with the
// pseudo-headers in front.
func TestCodecHeadersAreLowerCased(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_headers: pairs 0")
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders([][2]string{{"X-Authn-Meta-Tier", "gold"}, {":path", "/"}, {":method", "GET"}, {":authority", "a"}}, true)
	want := "0:92:" + ":path=/:" + ":method=GET:" + ":authority=a:" + "x-authn-meta-tier=gold"
	if got := result(t, h, "request_headers", "pairs 0"); got != want {
		t.Errorf("pairs = %q; want %q", got, want)
	}
}
