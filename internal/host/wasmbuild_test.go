package host

import (
	"bytes"
	"encoding/binary"
)

// A minimal WebAssembly module assembler for tests that need exact control over exports, imports
// and call order, which a Go-built guest cannot give.

const (
	vI32 = 0x7f
	vI64 = 0x7e
)

type wImport struct {
	module, name    string
	params, results []byte
}

type wFunc struct {
	export          string // "" for none
	params, results []byte
	body            []byte // instructions, without the locals header and the final end
}

type wModule struct {
	imports []wImport
	funcs   []wFunc
	data    []byte // placed at offset 0 of memory
	global  bool   // one mutable i32 global (index 0), initialised to 4096: a bump allocator
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0)
		if !done {
			c |= 0x80
		}
		b = append(b, c)
		if done {
			return b
		}
	}
}

func wname(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func section(id byte, content []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(content)))...), content...)
}

func vec(items [][]byte) []byte {
	b := uleb(uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func functype(params, results []byte) []byte {
	b := []byte{0x60}
	b = append(b, uleb(uint64(len(params)))...)
	b = append(b, params...)
	b = append(b, uleb(uint64(len(results)))...)
	return append(b, results...)
}

func (m wModule) bytes() []byte {
	var types, imports, funcs, exports, codes [][]byte
	for i, im := range m.imports {
		types = append(types, functype(im.params, im.results))
		e := append(wname(im.module), wname(im.name)...)
		e = append(e, 0x00)
		imports = append(imports, append(e, uleb(uint64(i))...))
	}
	for i, f := range m.funcs {
		ti := len(types)
		types = append(types, functype(f.params, f.results))
		funcs = append(funcs, uleb(uint64(ti)))
		fi := len(m.imports) + i
		if f.export != "" {
			exports = append(exports, append(append(wname(f.export), 0x00), uleb(uint64(fi))...))
		}
		body := append([]byte{0x00}, f.body...)
		body = append(body, 0x0b)
		codes = append(codes, append(uleb(uint64(len(body))), body...))
	}
	exports = append(exports, append(wname("memory"), 0x02, 0x00))
	var out bytes.Buffer
	out.Write([]byte("\x00asm\x01\x00\x00\x00"))
	out.Write(section(1, vec(types)))
	if len(imports) > 0 {
		out.Write(section(2, vec(imports)))
	}
	out.Write(section(3, vec(funcs)))
	out.Write(section(5, vec([][]byte{{0x00, 0x02}}))) // 2 pages
	if m.global {
		g := []byte{vI32, 0x01, 0x41}
		g = append(g, sleb(4096)...)
		g = append(g, 0x0b)
		out.Write(section(6, vec([][]byte{g})))
	}
	out.Write(section(7, vec(exports)))
	out.Write(section(10, vec(codes)))
	if len(m.data) > 0 {
		d := []byte{0x00, 0x41, 0x00, 0x0b}
		d = append(d, uleb(uint64(len(m.data)))...)
		d = append(d, m.data...)
		out.Write(section(11, vec([][]byte{d})))
	}
	return out.Bytes()
}

// Instruction helpers.
func i32c(v int32) []byte        { return append([]byte{0x41}, sleb(int64(v))...) }
func i64c(v int64) []byte        { return append([]byte{0x42}, sleb(v)...) }
func call(idx int) []byte        { return append([]byte{0x10}, uleb(uint64(idx))...) }
func localGet(i int) []byte      { return append([]byte{0x20}, uleb(uint64(i))...) }
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
func drop() []byte               { return []byte{0x1a} }
func i32store(off uint32) []byte { return append([]byte{0x36, 0x02}, uleb(uint64(off))...) }
func globalGet(i int) []byte     { return append([]byte{0x23}, uleb(uint64(i))...) }
func globalSet(i int) []byte     { return append([]byte{0x24}, uleb(uint64(i))...) }
func i32add() []byte             { return []byte{0x6a} }
func unreachableOp() []byte      { return []byte{0x00} }
func le32bytes(v uint32) []byte  { return binary.LittleEndian.AppendUint32(nil, v) }
func logImport() wImport         { return wImport{"env", "proxy_log", []byte{vI32, vI32, vI32}, []byte{vI32}} }
func bumpMalloc(export string) wFunc {
	// global.get 0; global.get 0; local.get 0; i32.add; global.set 0 → returns the old pointer
	return wFunc{export: export, params: []byte{vI32}, results: []byte{vI32},
		body: cat(globalGet(0), globalGet(0), localGet(0), i32add(), globalSet(0))}
}

// logCall calls proxy_log(level 2, data[off:off+n]) through import index idx.
func logCall(idx int, off, n int32) []byte {
	return cat(i32c(2), i32c(off), i32c(n), call(idx), drop())
}
