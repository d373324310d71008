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

// Sum equals a fresh HMAC of the concatenated parts on every call, with
// the keyed state reused, and from several goroutines at once.
func TestSum(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, h := range []func() hash.Hash{sha256.New, sha512.New384, sha512.New} {
		m := New(h, key)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					a, b := fmt.Sprintf("msg-%d-%d", g, i), fmt.Sprint(i%3)
					ref := hmac.New(h, key)
					ref.Write([]byte(a + "\x00" + b))
					if got := m.Sum(nil, a, "\x00", b); !bytes.Equal(got, ref.Sum(nil)) {
						t.Errorf("Sum(%q, %q) = %x; want %x", a, b, got, ref.Sum(nil))
					}
				}
			}()
		}
		wg.Wait()
	}
}

// Sum appends to dst.
func TestSumAppends(t *testing.T) {
	m := New(sha256.New, []byte("k"))
	got := m.Sum([]byte("prefix"), "x")
	ref := hmac.New(sha256.New, []byte("k"))
	ref.Write([]byte("x"))
	if !bytes.Equal(got, append([]byte("prefix"), ref.Sum(nil)...)) {
		t.Fatalf("Sum = %x", got)
	}
}

// Equal accepts the HMAC and refuses any other value, also when several
// goroutines share the MAC.
func TestEqual(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, h := range []func() hash.Hash{sha256.New, sha512.New384, sha512.New} {
		m := New(h, key)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					msg := fmt.Sprintf("msg-%d-%d", g, i)
					ref := hmac.New(h, key)
					ref.Write([]byte(msg))
					mac := ref.Sum(nil)
					if !m.Equal(mac, msg) {
						t.Errorf("Equal(HMAC(%q)) = false", msg)
					}
					bad := bytes.Clone(mac)
					bad[i%len(bad)] ^= 1
					if m.Equal(bad, msg) || m.Equal(mac[:len(mac)-1], msg) || m.Equal(mac, msg+"x") || m.Equal(nil, msg) {
						t.Errorf("Equal accepted a wrong HMAC of %q", msg)
					}
				}
			}()
		}
		wg.Wait()
	}
}
