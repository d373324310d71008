// Package plugintest builds the real wasm-authn module and drives it in the
// hosts the test suites use: the Envoy-faithful emulator (package host) and,
// as an independent second host, the Go SDK's proxytest emulator.
package plugintest

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

type built struct {
	once sync.Once
	wasm []byte
	err  error
}

var (
	modulesMu sync.Mutex
	modules   = map[string]*built{}
)

// Module returns the plugin's .wasm, built once per test binary with the
// upstream Go toolchain exactly as `make build` does.
func Module(tb testing.TB) []byte { return ModuleWithTags(tb, "") }

// ModuleWithTags builds the plugin with extra build tags (test hooks).
func ModuleWithTags(tb testing.TB, tags string) []byte {
	tb.Helper()
	return BuildWasm(tb, "./plugin", tags)
}

// BuildWasm builds the wasip1 reactor in package pkg (relative to the
// module root), once per test binary.
func BuildWasm(tb testing.TB, pkg, tags string) []byte {
	tb.Helper()
	modulesMu.Lock()
	b, ok := modules[pkg+"|"+tags]
	if !ok {
		b = &built{}
		modules[pkg+"|"+tags] = b
	}
	modulesMu.Unlock()
	b.once.Do(func() {
		// `make test` builds the module once and points here, so the tests
		// exercise the very artifact it built.
		if path := os.Getenv("WASM_AUTHN_MODULE"); path != "" && tags == "" && pkg == "./plugin" {
			b.wasm, b.err = os.ReadFile(path)
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "wasm-authn-module")
		if err != nil {
			b.err = err
			return
		}
		out := filepath.Join(dir, "wasm-authn.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-tags="+tags, "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = errors.New("building the plugin: " + err.Error() + "\n" + string(out))
			return
		}
		b.wasm, b.err = os.ReadFile(out)
		os.RemoveAll(dir)
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.wasm
}

// RenameExport returns a copy of a wasm binary with export old renamed to
// new. The SDK's proxytest host never calls a reactor's _initialize; renamed
// to _start, wazero runs it when the module is instantiated, as Envoy would
// before any callback.
func RenameExport(wasm []byte, old, new string) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, errors.New("not a wasm binary")
	}
	out := append([]byte{}, wasm[:8]...)
	p := 8
	found := false
	for p < len(wasm) {
		id := wasm[p]
		size, n := binary.Uvarint(wasm[p+1:])
		if n <= 0 {
			return nil, errors.New("bad section size")
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(wasm) {
			return nil, errors.New("section past the end")
		}
		body := wasm[start:end]
		if id == 7 { // export section
			nb, ok, err := renameIn(body, old, new)
			if err != nil {
				return nil, err
			}
			found = ok
			body = nb
		}
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
		p = end
	}
	if !found {
		return nil, errors.New("export " + old + " not found")
	}
	return out, nil
}

func renameIn(sec []byte, old, new string) ([]byte, bool, error) {
	count, n := binary.Uvarint(sec)
	if n <= 0 {
		return nil, false, errors.New("bad export count")
	}
	out := binary.AppendUvarint(nil, count)
	p := n
	found := false
	for i := uint64(0); i < count; i++ {
		l, n := binary.Uvarint(sec[p:])
		if n <= 0 || p+n+int(l) > len(sec) {
			return nil, false, errors.New("bad export name")
		}
		name := string(sec[p+n : p+n+int(l)])
		p += n + int(l)
		if name == old {
			name, found = new, true
		}
		out = binary.AppendUvarint(out, uint64(len(name)))
		out = append(out, name...)
		// kind byte + index (uvarint)
		_, m := binary.Uvarint(sec[p+1:])
		if m <= 0 {
			return nil, false, errors.New("bad export index")
		}
		out = append(out, sec[p:p+1+m]...)
		p += 1 + m
	}
	return out, found, nil
}
