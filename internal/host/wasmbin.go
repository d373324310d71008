package host

import (
	"errors"
	"fmt"
)

// abiVersion is the proxy-wasm ABI a module declares by exporting a marker function.
type abiVersion int

const (
	abiUnknown abiVersion = iota
	abi010
	abi020
	abi021
)

func (v abiVersion) String() string {
	switch v {
	case abi010:
		return "0.1.0"
	case abi020:
		return "0.2.0"
	case abi021:
		return "0.2.1"
	}
	return "unknown"
}

// detectABI returns the ABI of the first proxy_abi_version_* function export in export-section
// order, as proxy-wasm-cpp-host's BytecodeUtil::getAbiVersion does.
func detectABI(bin []byte) (abiVersion, error) {
	exports, err := functionExports(bin)
	if err != nil {
		return abiUnknown, err
	}
	for _, name := range exports {
		switch name {
		case "proxy_abi_version_0_1_0":
			return abi010, nil
		case "proxy_abi_version_0_2_0":
			return abi020, nil
		case "proxy_abi_version_0_2_1":
			return abi021, nil
		}
	}
	return abiUnknown, nil
}

// functionExports lists the names of the function exports of a Wasm binary in the order of its
// export section.
func functionExports(bin []byte) ([]string, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly binary")
	}
	r := &byteReader{b: bin, pos: 8}
	for r.pos < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.uleb()
		if err != nil {
			return nil, err
		}
		end := r.pos + int(size)
		if end > len(r.b) || end < r.pos {
			return nil, errors.New("truncated section")
		}
		if id != 7 { // export section
			r.pos = end
			continue
		}
		count, err := r.uleb()
		if err != nil {
			return nil, err
		}
		var names []string
		for i := uint64(0); i < count; i++ {
			n, err := r.uleb()
			if err != nil {
				return nil, err
			}
			if r.pos+int(n) > end {
				return nil, errors.New("truncated export name")
			}
			name := string(r.b[r.pos : r.pos+int(n)])
			r.pos += int(n)
			kind, err := r.byte()
			if err != nil {
				return nil, err
			}
			if _, err := r.uleb(); err != nil {
				return nil, err
			}
			if kind == 0 {
				names = append(names, name)
			}
		}
		return names, nil
	}
	return nil, nil
}

type byteReader struct {
	b   []byte
	pos int
}

func (r *byteReader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errors.New("unexpected end of binary")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *byteReader) uleb() (uint64, error) {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("malformed LEB128 at offset %d", r.pos)
}
