package host

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// guestNames are the test guests under testdata/guests, built once per test run.
var guestNames = []string{"probe", "echo", "initprop", "panicky", "badalloc", "gcstress"}

var guests = map[string][]byte{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "host-guests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for _, name := range guestNames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, name+".wasm")
			cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./testdata/guests/"+name)
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			msg, err := cmd.CombinedOutput()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v\n%s", name, err, msg))
				return
			}
			b, err := os.ReadFile(out)
			if err != nil {
				failed = append(failed, err.Error())
				return
			}
			guests[name] = b
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		fmt.Fprintln(os.Stderr, "building test guests failed:\n"+strings.Join(failed, "\n"))
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var bothProfiles = []Profile{ProfileEnvoy139, ProfileEnvoy133}

func newHost(t *testing.T, cfg Config) *Host {
	t.Helper()
	h, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// newProbe starts the probe guest with a script (plugin configuration) on one worker.
func newProbe(t *testing.T, p Profile, script string, mods ...func(*Config)) *Host {
	t.Helper()
	cfg := Config{Module: guests["probe"], PluginConfig: []byte(script), Profile: p, SkipCanary: true,
		PluginName: "probe-plugin", RootID: "probe-root", VMID: "probe-vm"}
	for _, m := range mods {
		m(&cfg)
	}
	return newHost(t, cfg)
}

// results returns the results the probe logged for a command in a phase, in order.
func results(h *Host, phase, cmd string) []string {
	var out []string
	prefix := "probe|" + phase + "|" + cmd + "|"
	for _, l := range h.Logs() {
		if strings.HasPrefix(l.Message, prefix) {
			out = append(out, strings.TrimPrefix(l.Message, prefix))
		}
	}
	return out
}

// result returns the only (last) result of a command, failing the test if there is none.
func result(t *testing.T, h *Host, phase, cmd string) string {
	t.Helper()
	r := results(h, phase, cmd)
	if len(r) == 0 {
		t.Fatalf("no result for %s %q; logs:\n%s", phase, cmd, dumpLogs(h))
	}
	return r[len(r)-1]
}

// enters returns "phase(args)" for every callback the probe saw, in order.
func enters(h *Host, vm int) []string {
	var out []string
	for _, l := range h.Logs() {
		if l.VM != vm {
			continue
		}
		if rest, ok := strings.CutPrefix(l.Message, "probe|"); ok {
			if phase, args, ok := strings.Cut(rest, "|enter|"); ok {
				out = append(out, phase+"("+args+")")
			}
		}
	}
	return out
}

func dumpLogs(h *Host) string {
	var b strings.Builder
	for _, l := range h.Logs() {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// decoded splits a "status:hex" probe result.
func decoded(t *testing.T, r string) (string, []byte) {
	t.Helper()
	st, h, _ := strings.Cut(r, ":")
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("result %q: %v", r, err)
	}
	return st, b
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func getHeader(h [][2]string, k string) (string, bool) {
	for _, p := range h {
		if p[0] == k {
			return p[1], true
		}
	}
	return "", false
}

func reqHeaders(path string, extra ...[2]string) [][2]string {
	h := [][2]string{{":authority", "example.com"}, {":path", path}, {":method", "GET"}, {":scheme", "http"}}
	return append(h, extra...)
}
