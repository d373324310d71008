package keyedmac

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"sync"
	"testing"
)

func reference(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Equal accepts the HMAC and refuses any other value, also when several
// goroutines share the MAC.
func TestEqual(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	concurrently(key, func(h func() hash.Hash, m *MAC, g, i int) {
		msg := fmt.Sprintf("msg-%d-%d", g, i)
		mac := reference(h, key, msg)
		if !m.Equal(mac, msg) || !m.Equal(mac, msg[:3], msg[3:]) {
			t.Errorf("Equal(HMAC(%q)) = false", msg)
		}
		bad := bytes.Clone(mac)
		bad[i%len(bad)] ^= 1
		if m.Equal(bad, msg) || m.Equal(mac[:len(mac)-1], msg) || m.Equal(mac, msg+"x") || m.Equal(nil, msg) {
			t.Errorf("Equal accepted a wrong HMAC of %q", msg)
		}
	})
}

// concurrently runs check 50 times in each of 4 goroutines sharing one
// MAC under key, for SHA-256, SHA-384 and SHA-512.
func concurrently(key []byte, check func(h func() hash.Hash, m *MAC, g, i int)) {
	for _, h := range []func() hash.Hash{sha256.New, sha512.New384, sha512.New} {
		m := New(h, key)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					check(h, m, g, i)
				}
			}()
		}
		wg.Wait()
	}
}

// The key is copied: changing the caller's slice changes nothing.
func TestKeyCopied(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	m := New(sha256.New, key)
	want := reference(sha256.New, bytes.Clone(key), "x")
	key[0] ^= 0xff
	if !m.Equal(want, "x") {
		t.Fatal("the MAC changed with the caller's key slice")
	}
}
