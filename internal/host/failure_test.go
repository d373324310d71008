package host

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// echoUpstream answers 200 and reports the x-panicky request header back.
var echoUpstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-upstream-saw-panicky", r.Header.Get("x-panicky"))
	w.WriteHeader(200)
	w.Write([]byte("upstream"))
})

func get(path string) *Request { return &Request{Method: "GET", Path: path, Authority: "example.com"} }

func countLogs(h *Host, msg string) int {
	n := 0
	for _, l := range h.Logs() {
		if l.Message == msg {
			n++
		}
	}
	return n
}

func TestTrapFailsVMAndFailurePolicy(t *testing.T) {
	type want struct {
		status int
		seen   string // what the upstream saw in x-panicky ("" when not forwarded or skipped)
	}
	tests := []struct {
		policy         FailurePolicy
		trapped, after want
		reloads        int
	}{
		{FailClosed, want{503, ""}, want{503, ""}, 0},
		{FailOpen, want{200, ""}, want{200, ""}, 0},
		{FailReload, want{503, ""}, want{200, "passed"}, 1},
	}
	for _, p := range bothProfiles {
		for _, tc := range tests {
			t.Run(p.String()+"/"+tc.policy.String(), func(t *testing.T) {
				h := newHost(t, Config{Module: guests["panicky"], Profile: p, Failure: tc.policy})
				vm := h.VM(0)
				ctx := testCtx(t)
				check := func(step string, r *Response, w want) {
					t.Helper()
					if r.Status != w.status {
						t.Errorf("%s: status %d; want %d", step, r.Status, w.status)
					}
					if got := r.Get("x-upstream-saw-panicky"); got != w.seen {
						t.Errorf("%s: upstream saw x-panicky=%q; want %q", step, got, w.seen)
					}
					if w.status == 503 {
						lr := r.LocalReply
						if lr == nil || !lr.Failure || lr.Details != "wasm_fail_stream" || len(r.Body) != 0 || lr.GrpcStatus != 14 {
							t.Errorf("%s: local reply %+v body %q; want 503 wasm_fail_stream, empty body", step, lr, r.Body)
						}
					}
				}
				r, err := vm.RoundTrip(ctx, get("/ok"), echoUpstream)
				if err != nil {
					t.Fatal(err)
				}
				check("before the trap", r, want{200, "passed"})
				if r.Get("x-panicky-response") != "yes" {
					t.Errorf("response callback did not run before the trap")
				}
				r, err = vm.RoundTrip(ctx, get("/panic"), echoUpstream)
				if err != nil {
					t.Fatal(err)
				}
				check("the trapping request", r, tc.trapped)
				if !vm.Failed() || !strings.Contains(vm.FailureMessage(), "Function: proxy_on_request_headers failed") || !strings.Contains(vm.FailureMessage(), "unreachable") {
					t.Errorf("Failed=%v message=%q", vm.Failed(), vm.FailureMessage())
				}
				r, err = vm.RoundTrip(ctx, get("/ok"), echoUpstream)
				if err != nil {
					t.Fatal(err)
				}
				check("after the trap", r, tc.after)
				if got := vm.Reloads(); got != tc.reloads {
					t.Errorf("Reloads = %d; want %d", got, tc.reloads)
				}
				// proxy_on_log runs for the first request, and after a reload; never on a failed VM.
				wantLogs := 1 + tc.reloads
				if got := countLogs(h, "panicky: on_log"); got != wantLogs {
					t.Errorf("on_log ran %d times; want %d", got, wantLogs)
				}
				// The panic message reaches the logs through fd 2 after PR #533. On the PR #427
				// host the runtime's usleep during the panic hits poll_oneoff's ENOSYS first:
				// "fatal error: ... poll_oneoff ... panic during panic", and the message is lost.
				wantMsg := "panicky: boom"
				if p == ProfileEnvoy133 {
					wantMsg = "poll_oneoff"
				}
				found := false
				for _, l := range h.Logs() {
					if l.Source == SourceStderr && l.Level == LogError && strings.Contains(l.Message, wantMsg) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error-level stderr line mentions %q", wantMsg)
				}
			})
		}
	}
}

func TestFailReloadBackoff(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	h := newHost(t, Config{Module: guests["panicky"], Failure: FailReload, Clock: clock, ReloadBackoff: time.Second})
	vm := h.VM(0)
	ctx := testCtx(t)
	status := func(path string) int {
		r, err := vm.RoundTrip(ctx, get(path), echoUpstream)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	steps := []struct {
		path    string
		advance time.Duration
		want    int
		reloads int
	}{
		{"/panic", 0, 503, 0},
		{"/ok", 0, 200, 1}, // first reload
		{"/panic", 0, 503, 1},
		{"/ok", 500 * time.Millisecond, 503, 1}, // within the backoff: fail closed
		{"/ok", 600 * time.Millisecond, 200, 2},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		if got := status(st.path); got != st.want || vm.Reloads() != st.reloads {
			t.Fatalf("step %d %s: status %d reloads %d; want %d, %d", i, st.path, got, vm.Reloads(), st.want, st.reloads)
		}
	}
}
