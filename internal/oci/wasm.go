package oci

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MaxModuleSize bounds every module this package reads or packages. It is
// the istio-agent's default for ISTIO_WASM_MAX_BINARY_SIZE_BYTES (256 MiB):
// a bigger module would be refused by the agent anyway.
const MaxModuleSize = 256 << 20

var (
	wasmMagic   = []byte{0x00, 'a', 's', 'm'}
	wasmVersion = []byte{0x01, 0x00, 0x00, 0x00}
)

// ErrNotWasm reports bytes that do not start with the WebAssembly binary
// header: the magic "\x00asm" followed by version 1.
var ErrNotWasm = errors.New("not a WebAssembly binary module (want magic \\x00asm and version 1)")

// CheckModule reports whether b starts with the WebAssembly binary header
// (magic "\x00asm", version 1) and fits MaxModuleSize.
//
// The istio-agent's own check (isValidWasmBinary in pkg/wasm) is weaker: it
// looks at the magic only. Envoy's runtime then rejects anything else when
// the module is loaded, after the image was already accepted; checking the
// version here catches that at packaging and pull time.
func CheckModule(b []byte) error {
	if len(b) > MaxModuleSize {
		return fmt.Errorf("module is %d bytes, more than the %d-byte limit", len(b), MaxModuleSize)
	}
	if len(b) < 8 || !bytes.Equal(b[:4], wasmMagic) || !bytes.Equal(b[4:8], wasmVersion) {
		return ErrNotWasm
	}
	return nil
}

// abiExportPrefix is how a proxy-wasm module announces the ABI it speaks:
// the host reads the export section and picks the first function export
// named proxy_abi_version_X_Y_Z (proxy-wasm-cpp-host bytecode_util.cc).
const abiExportPrefix = "proxy_abi_version_"

// ABIVersions returns the proxy-wasm ABI versions the module exports, as
// "X.Y.Z" strings sorted ascending (e.g. "0.2.1" for an export named
// proxy_abi_version_0_2_1). A module without such an export yields an
// empty slice and no error; Envoy would refuse to load it, but packaging
// does not decide that.
//
// Only the section framing and the export section are parsed, with every
// length bounds-checked; other sections are skipped unread.
func ABIVersions(module []byte) ([]string, error) {
	if err := CheckModule(module); err != nil {
		return nil, err
	}
	r := wasmReader{b: module, off: 8}
	var versions []string
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if id != 7 { // export section
			continue
		}
		exports, err := parseExports(body)
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		for name, kind := range exports {
			if kind != 0 || !strings.HasPrefix(name, abiExportPrefix) { // 0: function
				continue
			}
			v := strings.ReplaceAll(strings.TrimPrefix(name, abiExportPrefix), "_", ".")
			versions = append(versions, v)
		}
	}
	sort.Strings(versions)
	return versions, nil
}

// parseExports returns the export names of an export section body with the
// kind byte of each (0 function, 1 table, 2 memory, 3 global, 4 tag).
func parseExports(body []byte) (map[string]byte, error) {
	r := wasmReader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	// Each export takes at least 3 bytes: this caps allocation by input size.
	if int(n) > len(body)/3 {
		return nil, fmt.Errorf("%d exports cannot fit in %d bytes", n, len(body))
	}
	out := make(map[string]byte, n)
	for i := uint32(0); i < n; i++ {
		nameLen, err := r.u32()
		if err != nil {
			return nil, err
		}
		name, err := r.bytes(int(nameLen))
		if err != nil {
			return nil, err
		}
		kind, err := r.byte()
		if err != nil {
			return nil, err
		}
		if _, err := r.u32(); err != nil { // index
			return nil, err
		}
		out[string(name)] = kind
	}
	if r.off != len(body) {
		return nil, fmt.Errorf("%d trailing bytes", len(body)-r.off)
	}
	return out, nil
}

var errTruncated = errors.New("truncated module")

type wasmReader struct {
	b   []byte
	off int
}

func (r *wasmReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *wasmReader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, errTruncated
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

// u32 reads an unsigned LEB128 value of at most 5 bytes, as the
// WebAssembly binary format encodes u32.
func (r *wasmReader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c > 0x0f {
			return 0, errors.New("u32 LEB128 overflows 32 bits")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("u32 LEB128 longer than 5 bytes")
}
