package oci_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/oci"
)

// emptyModule is the smallest valid module: the header and no sections.
var emptyModule = []byte("\x00asm\x01\x00\x00\x00")

// moduleWithExports returns a valid module with one function, type
// () -> (), exported under each of names.
func moduleWithExports(names ...string) []byte {
	var exp []byte
	exp = appendU32(exp, uint32(len(names)))
	for _, n := range names {
		exp = appendU32(exp, uint32(len(n)))
		exp = append(exp, n...)
		exp = append(exp, 0x00, 0x00) // kind function, index 0
	}
	m := slices.Clone(emptyModule)
	m = append(m, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00) // type section: () -> ()
	m = append(m, 0x03, 0x02, 0x01, 0x00)             // function section: one func of type 0
	m = append(m, 0x07)                               // export section
	m = appendU32(m, uint32(len(exp)))
	m = append(m, exp...)
	m = append(m, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b) // code section: empty body
	return m
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// testModules returns the modules the packaging tests run on: the real
// build/wasm-authn.wasm when it has been built, and two synthetic ones.
func testModules(t *testing.T) map[string][]byte {
	t.Helper()
	mods := map[string][]byte{
		"empty":      emptyModule,
		"abi-0.2.1":  moduleWithExports("proxy_abi_version_0_2_1", "proxy_on_memory_allocate"),
		"large-4MiB": append(moduleWithExports("proxy_abi_version_0_2_1"), customSection(4<<20)...),
	}
	if b, err := os.ReadFile(filepath.Join("..", "..", "build", "wasm-authn.wasm")); err == nil {
		mods["build/wasm-authn.wasm"] = b
	}
	return mods
}

// customSection returns a custom section (id 0) named "pad" of about n
// bytes of incompressible-looking data.
func customSection(n int) []byte {
	body := appendU32(nil, 3)
	body = append(body, "pad"...)
	x := uint32(2463534242)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		body = append(body, byte(x))
	}
	s := appendU32([]byte{0x00}, uint32(len(body)))
	return append(s, body...)
}

func TestCheckModule(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"empty module", emptyModule, true},
		{"module with exports", moduleWithExports("a"), true},
		{"nil", nil, false},
		{"short", []byte("\x00asm\x01\x00\x00"), false},
		{"bad magic", []byte("\x00ASM\x01\x00\x00\x00"), false},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00"), false},
		{"component model layer", []byte("\x00asm\x0d\x00\x01\x00"), false},
		{"gzip", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := oci.CheckModule(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckModule(%q) = %v; want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, oci.ErrNotWasm) {
				t.Errorf("CheckModule(%q) = %v; want ErrNotWasm", tt.in, err)
			}
		})
	}
}

func TestABIVersions(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []string
		wantErr bool
	}{
		{"no sections", emptyModule, nil, false},
		{"no abi export", moduleWithExports("malloc", "_initialize"), nil, false},
		{"0.2.1", moduleWithExports("_initialize", "proxy_abi_version_0_2_1"), []string{"0.2.1"}, false},
		{"two, sorted", moduleWithExports("proxy_abi_version_0_2_1", "proxy_abi_version_0_1_0"), []string{"0.1.0", "0.2.1"}, false},
		{"custom section skipped", append(moduleWithExports("proxy_abi_version_0_2_0"), customSection(64)...), []string{"0.2.0"}, false},
		{"not wasm", []byte("plugin"), nil, true},
		{"truncated section", append(slices.Clone(emptyModule), 0x07, 0x10, 0x01), nil, true},
		{"section size overflows u32", append(slices.Clone(emptyModule), 0x07, 0xff, 0xff, 0xff, 0xff, 0x7f), nil, true},
		{"export count larger than section", append(slices.Clone(emptyModule), 0x07, 0x02, 0xff, 0x7f), nil, true},
		{"trailing bytes in export section", append(slices.Clone(emptyModule), 0x07, 0x02, 0x00, 0x00), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := oci.ABIVersions(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ABIVersions() error = %v; wantErr %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ABIVersions() = %q; want %q", got, tt.want)
			}
		})
	}
}

func FuzzABIVersions(f *testing.F) {
	f.Add(emptyModule)
	f.Add(moduleWithExports("proxy_abi_version_0_2_1"))
	f.Add(append(slices.Clone(emptyModule), 0x07, 0xff, 0xff, 0xff, 0xff, 0x0f))
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := oci.ABIVersions(b)
		if err != nil && vs != nil {
			t.Fatalf("ABIVersions returned %q with error %v", vs, err)
		}
		if err == nil && !bytes.HasPrefix(b, emptyModule) {
			t.Fatalf("ABIVersions accepted %q without the wasm header", b)
		}
	})
}
