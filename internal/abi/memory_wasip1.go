//go:build wasip1

package abi

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"unsafe"
)

// pinned holds every buffer handed to the host by proxy_on_memory_allocate
// until the binding takes it. Without it the host-filled bytes would be
// garbage the moment the allocator returns. A host call returns at most one
// buffer and the binding takes it at once, so the list is short: a slice
// searched from the end costs less than a map.
var pinned [][]byte

// gcStress, set by WASM_AUTHN_GC_STRESS=1 in the VM environment, runs a full
// collection (and churns the heap) after every host call that handed memory
// back and before the binding reads it. It exists to prove in tests that
// host-filled memory stays reachable.
var gcStress bool

func init() {
	// A collection started by an allocation inside proxy_on_memory_allocate
	// could call sched_yield or random_get, which the host traps there.
	// Automatic collection is off; collect() runs at safe points instead.
	debug.SetGCPercent(-1)
}

// readEnv runs in proxy_on_vm_start (environ_get is allowed everywhere).
func readEnv() {
	v, _ := syscall.Getenv("WASM_AUTHN_GC_STRESS")
	gcStress = v == "1"
}

//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) uint32 {
	if size == 0 {
		size = 1
	}
	buf := make([]byte, size)
	pinned = append(pinned, buf)
	return addr(buf)
}

// take returns the host-filled buffer at ptr and unpins it. A zero size is an
// empty value (the host writes no pointer for it).
func take(ptr, size uint32) ([]byte, bool) {
	if gcStress {
		stress()
	}
	for i := len(pinned) - 1; i >= 0; i-- {
		buf := pinned[i]
		if addr(buf) != ptr {
			continue
		}
		pinned[i] = pinned[len(pinned)-1]
		pinned[len(pinned)-1] = nil
		pinned = pinned[:len(pinned)-1]
		if size == 0 {
			return nil, true
		}
		if uint32(len(buf)) < size {
			return nil, false
		}
		return buf[:size:size], true
	}
	// A zero size is an empty value, whether or not the host allocated.
	return nil, size == 0
}

func addr(buf []byte) uint32 { return uint32(uintptr(unsafe.Pointer(&buf[0]))) }

// garbage keeps churned allocations alive until the next stress round so the
// collector has freed spans to hand out.
var garbage [][]byte

func stress() {
	runtime.GC()
	garbage = garbage[:0]
	for i := 0; i < 16; i++ {
		b := make([]byte, 64<<i%4096+1)
		for j := range b {
			b[j] = 0xA5
		}
		garbage = append(garbage, b)
	}
	runtime.GC()
}

// Safe-point collection: like GOGC=100, but only when a callback returns.
var (
	gcSamples = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	gcNext    uint64
)

const gcMinHeap = 4 << 20

func collect() {
	metrics.Read(gcSamples[:1])
	allocs := gcSamples[0].Value.Uint64()
	if gcNext == 0 {
		gcNext = allocs + gcMinHeap
		return
	}
	if allocs < gcNext {
		return
	}
	runtime.GC()
	metrics.Read(gcSamples)
	live := gcSamples[1].Value.Uint64()
	gcNext = gcSamples[0].Value.Uint64() + max(live, gcMinHeap)
	// Buffers the host allocated but never handed back (an error path)
	// would be pinned forever; nothing is in flight between callbacks.
	clear(pinned)
	pinned = pinned[:0]
}

// streamEnds counts the streams deleted since the last look at the heap.
var streamEnds int

// collectAfterStream is collect, but reading the allocation counter (about
// 1.4 µs in Wasm, more than a tenth of a pass-through request) only every
// 16th stream: a stream allocates a few kilobytes, so the heap overshoots
// the 4 MiB budget by well under a megabyte.
func collectAfterStream() {
	if streamEnds++; streamEnds < 16 && !gcStress {
		return
	}
	streamEnds = 0
	collect()
}

// WithGC runs f with automatic collection on. Use it only around work that
// makes no host call returning memory (no allocator call can happen inside
// f), such as compiling a configuration that has already been read: without
// it, all of that work's garbage would stay in linear memory, which never
// shrinks, until the next safe point.
func WithGC(f func()) {
	debug.SetGCPercent(100)
	defer debug.SetGCPercent(-1)
	f()
}
