package host

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMetrics(t *testing.T) {
	script := "configure: metric define 0 c; metric define 1 g; metric define 2 h; metric define 0 c2; metric define 3 bad\n" +
		"request_headers: metric inc c 1; metric inc c 0; metric inc c -1; metric inc g 5; metric inc g -2; metric inc h 1; " +
		"metric rec c 3; metric rec g 7; metric rec h 9; metric get c; metric get g; metric get h; " +
		"metric getid 400; metric getid 402; metric incid 401 1; metric incid 403 1"
	want := map[string]map[string]string{
		"configure": {
			"metric define 0 c": "0:4", "metric define 1 g": "0:5", "metric define 2 h": "0:6",
			"metric define 0 c2": "0:8", "metric define 3 bad": "2:0",
		},
		"request_headers": {
			"metric inc c 1": "0", "metric inc c 0": "2", "metric inc c -1": "2", // counters: delta > 0
			"metric inc g 5": "0", "metric inc g -2": "0",
			"metric inc h 1": "2", // histograms cannot be incremented
			"metric rec c 3": "0", "metric rec g 7": "0", "metric rec h 9": "0",
			"metric get c": "0:8", "metric get g": "0:7", "metric get h": "2:0", // read on the second VM: one shared stat
			"metric getid 400": "1:0", "metric getid 402": "2:0",
			"metric incid 401 1": "1", "metric incid 403 1": "2",
		},
	}
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newProbe(t, p, script, func(c *Config) { c.Workers = 2 })
			for i := 0; i < 2; i++ {
				s := h.VM(i).NewStream(Connection{})
				s.RequestHeaders(reqHeaders("/"), true)
				s.Close()
			}
			for phase, cmds := range want {
				for cmd, w := range cmds {
					if got := result(t, h, phase, cmd); got != w {
						t.Errorf("%s: %s = %s; want %s", phase, cmd, got, w)
					}
				}
			}
			// The same name on two VMs is one stat.
			if v, typ, ok := h.Metric("c"); !ok || typ != MetricCounter || v != 8 {
				t.Errorf("c = %d %v %v; want counter 8", v, typ, ok)
			}
			if v, typ, _ := h.Metric("g"); typ != MetricGauge || v != 7 {
				t.Errorf("g = %d %v; want gauge 7", v, typ)
			}
			if got := h.HistogramValues("h"); len(got) != 2 || got[0] != 9 {
				t.Errorf("h samples = %v", got)
			}
			if _, _, ok := h.Metric("bad"); ok {
				t.Error("metric of type 3 exists")
			}
		})
	}
}

func TestSharedData(t *testing.T) {
	store := NewSharedStore()
	script := "request_headers: shared get k; shared set k v 0\nrequest_trailers: shared set k x 999; shared set fresh y 777; shared get fresh"
	h := newProbe(t, ProfileEnvoy139, script, func(c *Config) { c.Workers = 2; c.SharedData = store; c.VMID = "one" })
	other := newProbe(t, ProfileEnvoy139, "request_headers: shared get k", func(c *Config) { c.SharedData = store; c.VMID = "two" })
	for i := 0; i < 2; i++ {
		s := h.VM(i).NewStream(Connection{})
		s.RequestHeaders(reqHeaders("/"), false)
		s.RequestTrailers([][2]string{{"t", "1"}})
	}
	if got := results(h, "request_headers", "shared get k"); len(got) != 2 || got[0] != "1:0:" || got[1] != "0:1:v" {
		t.Errorf("get across workers = %q; want NotFound, then the first worker's value with cas 1", got)
	}
	if got := results(h, "request_trailers", "shared set k x 999"); got[0] != "8" {
		t.Errorf("set with a stale cas = %s; want 8 (CasMismatch)", got[0])
	}
	if got := results(h, "request_trailers", "shared set fresh y 777"); got[0] != "0" {
		t.Errorf("set of a missing key with a cas = %s; want 0", got[0])
	}
	s := other.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/"), true)
	if got := result(t, other, "request_headers", "shared get k"); got != "1:0:" {
		t.Errorf("another vm_id sees %q; want NotFound", got)
	}

	// The store itself.
	st := NewSharedStore()
	if _, _, s := st.Get("vm", "a"); s != StatusNotFound {
		t.Errorf("Get(missing) = %v", s)
	}
	if s := st.Set("vm", "a", []byte("1"), 0); s != StatusOK {
		t.Errorf("Set = %v", s)
	}
	_, cas, _ := st.Get("vm", "a")
	if s := st.Set("vm", "a", []byte("2"), cas+1); s != StatusCasMismatch {
		t.Errorf("Set(wrong cas) = %v", s)
	}
	if s := st.Set("vm", "a", []byte("2"), cas); s != StatusOK {
		t.Errorf("Set(right cas) = %v", s)
	}
	if v, cas2, _ := st.Get("vm", "a"); string(v) != "2" || cas2 == cas || cas2 == 0 {
		t.Errorf("Get = %q cas %d (was %d)", v, cas2, cas)
	}
}

func TestTicks(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newProbe(t, p, "configure: tick 50\nrequest_headers: tick 0\ntick: ctx")
			vm := h.VM(0)
			if got := vm.TickPeriod(); got != 50*time.Millisecond {
				t.Fatalf("TickPeriod = %v", got)
			}
			if !vm.Tick() {
				t.Fatal("Tick delivered nothing")
			}
			if got := result(t, h, "tick", "ctx"); got != "1" {
				t.Errorf("on_tick context = %s; want the root (1)", got)
			}
			// A stream context sets its root's timer.
			s := vm.NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), true)
			if vm.TickPeriod() != 0 || vm.Tick() {
				t.Error("tick 0 did not disable the timer")
			}
		})
	}
}

func TestStartTicker(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "configure: tick 20")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.StartTicker(ctx)
	waitFor(t, "two ticks", func() bool { return len(callbacksOf(h, "tick")) >= 2 })
}

func TestLogs(t *testing.T) {
	debug := LogDebug
	for _, tc := range []struct {
		name  string
		level *LogLevel
		want  string
	}{{"default", nil, "0:2"}, {"debug", &debug, "0:1"}} {
		t.Run(tc.name, func(t *testing.T) {
			var sunk []Log
			h := newProbe(t, ProfileEnvoy139, "request_headers: log 0 trace-msg; log 5 crit-msg; log 6 bad; loglevel", func(c *Config) {
				c.LogLevel = tc.level
				c.LogSink = func(l Log) { sunk = append(sunk, l) }
			})
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), true)
			for cmd, want := range map[string]string{"log 0 trace-msg": "0", "log 5 crit-msg": "0", "log 6 bad": "2", "loglevel": tc.want} {
				if got := result(t, h, "request_headers", cmd); got != want {
					t.Errorf("%s = %s; want %s", cmd, got, want)
				}
			}
			levels := map[string]LogLevel{}
			for _, l := range h.Logs() {
				if l.Source == SourceProxyLog && l.VM == 0 {
					levels[l.Message] = l.Level
				}
			}
			if levels["trace-msg"] != LogTrace || levels["crit-msg"] != LogCritical {
				t.Errorf("levels = %v", levels)
			}
			if _, ok := levels["bad"]; ok {
				t.Error("a line with level 6 was logged")
			}
			if len(sunk) != len(h.Logs()) {
				t.Errorf("LogSink saw %d lines, Logs has %d", len(sunk), len(h.Logs()))
			}
		})
	}
}

func TestEnvironmentReachesTheGuest(t *testing.T) {
	// The probe has no os.Getenv; the raw-module WASI tests check environ_get byte by byte.
	// Here: a Go guest starts fine with an environment set (the runtime reads it in _initialize).
	h := newProbe(t, ProfileEnvoy133, "", func(c *Config) {
		c.Env = map[string]string{"ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION": "7", "A": "b"}
	})
	if h.VM(0).Failed() {
		t.Fatal(h.VM(0).FailureMessage())
	}
	for _, l := range h.Logs() {
		if strings.Contains(l.Message, "restricted") {
			t.Errorf("unexpected log %q", l.Message)
		}
	}
}
