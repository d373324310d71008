package ttlcache

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[string](2)
	k := func(b byte) Key { return Key{b} }
	c.Put(k(1), "a", now.Add(time.Minute))
	if v, ok := c.Get(k(1), now, nil); !ok || v != "a" {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	if _, ok := c.Get(k(1), now.Add(time.Minute), nil); ok {
		t.Fatal("served at its expiry")
	}
	c.Put(k(1), "a", now.Add(time.Minute))
	if _, ok := c.Get(k(1), now, func(string) bool { return false }); ok {
		t.Fatal("served although keep refused it")
	}
	for i := byte(0); i < 10; i++ {
		c.Put(k(i), "x", now.Add(time.Minute))
		if c.Len() > 2 {
			t.Fatalf("Len = %d; max 2", c.Len())
		}
	}
	if _, ok := c.Get(k(9), now, nil); !ok {
		t.Fatal("the newest entry was evicted")
	}
	if _, ok := c.Get(k(0), now, nil); ok {
		t.Fatal("the oldest entry survived")
	}
}
