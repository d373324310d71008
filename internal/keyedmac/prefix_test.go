package keyedmac

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Sum32 is crypto/sha256 of the key followed by the parts, for inputs
// around the one-block boundary and longer, also when goroutines share it.
func TestPrefixSum32(t *testing.T) {
	key := make([]byte, sha256.BlockSize)
	rand.Read(key)
	p, err := NewPrefix(key)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				a := fmt.Sprintf("g%d:", g) + strings.Repeat("x", n)
				got := p.Sum32(a[:len(a)/2], "\x00", a[len(a)/2:])
				if want := sha256.Sum256(append(bytes.Clone(key), a[:len(a)/2]+"\x00"+a[len(a)/2:]...)); got != want {
					t.Errorf("Sum32 of %d bytes = %x; want %x", len(a)+1, got, want)
				}
			}
		}()
	}
	wg.Wait()
	// Another key, another function; the caller's key slice is not kept.
	other := bytes.Clone(key)
	other[0] ^= 1
	q, _ := NewPrefix(other)
	if p.Sum32("m") == q.Sum32("m") {
		t.Fatal("two keys give the same hash")
	}
	other[0] ^= 1
	if q.Sum32("m") == p.Sum32("m") {
		t.Fatal("changing the caller's key slice changed the hash")
	}
}

// Only a one-block key is accepted.
func TestPrefixKeySize(t *testing.T) {
	for _, n := range []int{0, 32, 63, 65, 128} {
		if _, err := NewPrefix(make([]byte, n)); err == nil {
			t.Errorf("NewPrefix accepted a %d-byte key", n)
		}
	}
}

func BenchmarkSum32(b *testing.B) {
	key := make([]byte, sha256.BlockSize)
	p, _ := NewPrefix(key)
	m := New(sha256.New, key)
	b.Run("prefix", func(b *testing.B) {
		for b.Loop() {
			p.Sum32("cached", "\x00", "carol", "\x00", "correct horse")
		}
	})
	var mac [sha256.Size]byte
	b.Run("hmac", func(b *testing.B) {
		for b.Loop() {
			m.Equal(mac[:], "cached", "\x00", "carol", "\x00", "correct horse")
		}
	})
}
