package dpop

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReplayKey(t *testing.T) {
	a := ReplayKey("jti-1", rfc9449JKT)
	if len(a) != ReplayKeyLen || a != ReplayKey("jti-1", rfc9449JKT) {
		t.Fatalf("ReplayKey = %q; want %d stable characters", a, ReplayKeyLen)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(a); err != nil {
		t.Fatalf("ReplayKey = %q: %v", a, err)
	}
	distinct := map[string]string{a: "jti-1 under the RFC key"}
	for _, c := range []struct{ jti, tp string }{
		{"jti-2", rfc9449JKT},
		{"jti-1", rfc7638Thumbprint}, // the same jti from another client
		{"", rfc9449JKT},
		{"c", "ab"}, {"bc", "a"}, // no ambiguity at the boundary
		{strings.Repeat("x", 10_000), rfc9449JKT},
	} {
		k := ReplayKey(c.jti, c.tp)
		if prev, dup := distinct[k]; dup || len(k) != ReplayKeyLen {
			t.Fatalf("ReplayKey(%.20q, %q) = %q, same as %s", c.jti, c.tp, k, prev)
		}
		distinct[k] = fmt.Sprintf("%.20q/%q", c.jti, c.tp)
	}
}

// clock is a settable clock for stores.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// errStore is a ReplayStore that fails.
type errStore struct{}

func (errStore) Seen(string, time.Time) (bool, error) { return false, errors.New("host error") }

// TestCheckReplay is the replay table: one proof seen twice within its
// window, the same jti from another key, after expiry, and the store's
// failures (fail closed).
func TestCheckReplay(t *testing.T) {
	clk := &clock{t: testNow}
	store := NewMemoryStore(3, clk.now)
	p := &Proof{JTI: "j1", Thumbprint: rfc9449JKT, IssuedAt: testNow, Expires: testNow.Add(DefaultMaxAge)}
	other := *p
	other.Thumbprint = rfc7638Thumbprint
	steps := []struct {
		name  string
		at    time.Duration
		store ReplayStore
		proof *Proof
		want  Failure
	}{
		{"first use", 0, store, p, FailNone},
		{"replay at once", 0, store, p, FailReplay},
		{"replay at the end of the window", DefaultMaxAge, store, p, FailReplay},
		{"same jti, another key", time.Second, store, &other, FailNone},
		{"after the window", DefaultMaxAge + time.Second, store, p, FailNone},
		{"no store", 0, nil, p, FailReplayUnavailable},
		{"store error", 0, errStore{}, p, FailReplayUnavailable},
	}
	for _, s := range steps {
		clk.t = testNow.Add(s.at)
		if got := CheckReplay(s.store, s.proof); got != s.want {
			t.Fatalf("%s: CheckReplay = %v; want %v", s.name, got, s.want)
		}
	}
}

// TestVerifyThenReplay runs a real proof through Verify and CheckReplay
// twice: the second presentation within the window is a replay.
func TestVerifyThenReplay(t *testing.T) {
	clk := &clock{t: testNow}
	store := NewMemoryStore(16, clk.now)
	pr := proof(t, "ES256", claims())
	for i, want := range []Failure{FailNone, FailReplay} {
		p, f := Verify(pr, testRequest(), Options{})
		if f != FailNone {
			t.Fatal(f)
		}
		if got := CheckReplay(store, p); got != want {
			t.Fatalf("presentation %d: CheckReplay = %v; want %v", i+1, got, want)
		}
	}
}

func TestMemoryStore(t *testing.T) {
	clk := &clock{t: testNow}
	s := NewMemoryStore(2, clk.now)
	k := func(i int) string { return ReplayKey(fmt.Sprint(i), rfc9449JKT) }
	seen := func(i int, exp time.Duration, wantReplay bool, wantErr error) {
		t.Helper()
		replayed, err := s.Seen(k(i), testNow.Add(exp))
		if replayed != wantReplay || !errors.Is(err, wantErr) {
			t.Fatalf("Seen(%d) at %v = %v, %v; want %v, %v", i, clk.t.Sub(testNow), replayed, err, wantReplay, wantErr)
		}
	}
	seen(1, 30*time.Second, false, nil)
	seen(2, 10*time.Second, false, nil)
	seen(3, 60*time.Second, false, ErrReplayStoreFull) // two live entries: refuse, forget none
	seen(1, 30*time.Second, true, nil)
	clk.t = testNow.Add(10 * time.Second) // an entry lives through its expiry second
	seen(3, 60*time.Second, false, ErrReplayStoreFull)
	clk.t = testNow.Add(11 * time.Second) // 2 expired
	seen(3, 60*time.Second, false, nil)
	seen(2, 60*time.Second, false, ErrReplayStoreFull)
	clk.t = testNow.Add(31 * time.Second) // 1 expired
	seen(2, 60*time.Second, false, nil)
	seen(3, 60*time.Second, true, nil)
	if s.Len() != 2 {
		t.Fatalf("Len = %d; want 2", s.Len())
	}
	// A sub-second expiry is rounded up, never down.
	clk.t = testNow.Add(100 * time.Second)
	seen(4, 100*time.Second+time.Millisecond, false, nil)
	clk.t = testNow.Add(101 * time.Second)
	seen(4, 0, true, nil)
}

func entry(key string, exp int64) []byte {
	d, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		panic(err)
	}
	return binary.BigEndian.AppendUint64(d, uint64(exp))
}

func TestUpdateReplaySet(t *testing.T) {
	k1, k2, k3 := ReplayKey("1", rfc9449JKT), ReplayKey("2", rfc9449JKT), ReplayKey("3", rfc9449JKT)
	now := testNow.Unix()
	set := func(entries ...[]byte) []byte { return append([]byte{ReplaySetVersion}, bytes.Join(entries, nil)...) }
	tests := []struct {
		name     string
		old      []byte
		key      string
		exp      time.Time
		max      int
		want     []byte
		replayed bool
		err      error
	}{
		{"absent value", nil, k1, testNow.Add(time.Minute), 4, set(entry(k1, now+60)), false, nil},
		{"empty set", set(), k1, testNow.Add(time.Minute), 4, set(entry(k1, now+60)), false, nil},
		{"appended in order", set(entry(k2, now+5)), k1, testNow.Add(time.Minute), 4, set(entry(k2, now+5), entry(k1, now+60)), false, nil},
		{"expiry rounded up", nil, k1, testNow.Add(1500 * time.Millisecond), 4, set(entry(k1, now+2)), false, nil},
		{"expired entries dropped", set(entry(k2, now-1), entry(k3, now)), k1, testNow.Add(time.Minute), 4, set(entry(k3, now), entry(k1, now+60)), false, nil},
		{"present: replayed", set(entry(k2, now+5), entry(k1, now)), k1, testNow.Add(time.Minute), 4, nil, true, nil},
		{"present but expired: recorded again", set(entry(k1, now-1)), k1, testNow.Add(time.Minute), 4, set(entry(k1, now+60)), false, nil},
		{"full of live entries", set(entry(k2, now), entry(k3, now)), k1, testNow.Add(time.Minute), 2, nil, false, ErrReplayStoreFull},
		{"full until expired ones go", set(entry(k2, now-1), entry(k3, now)), k1, testNow.Add(time.Minute), 2, set(entry(k3, now), entry(k1, now+60)), false, nil},
		{"another version", []byte{2}, k1, testNow, 4, nil, false, ErrCorruptReplaySet},
		{"truncated entry", set(entry(k2, now))[:20], k1, testNow, 4, nil, false, ErrCorruptReplaySet},
		{"bad key", nil, "not-a-key", testNow, 4, nil, false, ErrBadReplayKey},
		{"raw jti as key", nil, "e1j3V_bKic8-LAEB+12345", testNow, 4, nil, false, ErrBadReplayKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := bytes.Clone(tc.old)
			next, replayed, err := UpdateReplaySet(tc.old, tc.key, tc.exp, testNow, tc.max)
			if !bytes.Equal(next, tc.want) || replayed != tc.replayed || !errors.Is(err, tc.err) {
				t.Fatalf("UpdateReplaySet = %x, %v, %v; want %x, %v, %v", next, replayed, err, tc.want, tc.replayed, tc.err)
			}
			if !bytes.Equal(old, tc.old) {
				t.Fatal("UpdateReplaySet modified its input")
			}
			if next != nil && ReplaySetLen(next) != (len(next)-1)/24 {
				t.Fatalf("ReplaySetLen = %d", ReplaySetLen(next))
			}
		})
	}
	if ReplaySetLen(nil) != 0 || ReplaySetLen([]byte{9}) != -1 {
		t.Fatal("ReplaySetLen of an absent or corrupt value")
	}
}

// sharedData emulates Envoy's shared data: CAS tokens from a counter that
// starts at 1 and skips 0; CAS 0 writes unconditionally. before, if set,
// runs before each write (to interleave another VM).
type sharedData struct {
	m      map[string]sharedValue
	next   uint32
	before func(key string)
	getErr error
	writes int
}

type sharedValue struct {
	v   []byte
	cas uint32
}

func newSharedData() *sharedData { return &sharedData{m: map[string]sharedValue{}, next: 1} }

func (d *sharedData) GetSharedData(key string) ([]byte, uint32, error) {
	if d.getErr != nil {
		return nil, 0, d.getErr
	}
	e, ok := d.m[key]
	if !ok {
		return nil, 0, nil
	}
	return bytes.Clone(e.v), e.cas, nil
}

func (d *sharedData) SetSharedData(key string, value []byte, cas uint32) error {
	if f := d.before; f != nil {
		d.before = nil
		f(key)
	}
	if e, ok := d.m[key]; ok && cas != 0 && cas != e.cas {
		return fmt.Errorf("set %s: %w", key, ErrCASMismatch)
	}
	d.m[key] = sharedValue{v: bytes.Clone(value), cas: d.next}
	d.next++
	if d.next == 0 {
		d.next = 1
	}
	d.writes++
	return nil
}

// TestSharedStore: two worker VMs share the replay set through CAS.
func TestSharedStore(t *testing.T) {
	clk := &clock{t: testNow}
	data := newSharedData()
	vm1 := &SharedStore{Data: data, Prefix: "dpop.v1.", Shards: 4, MaxEntries: 8, Now: clk.now}
	vm2 := &SharedStore{Data: data, Prefix: "dpop.v1.", Shards: 4, MaxEntries: 8, Now: clk.now}
	if err := vm1.Init(); err != nil || len(data.m) != 4 || data.writes != 4 {
		t.Fatalf("Init = %v with %d shards, %d writes; want 4 shards", err, len(data.m), data.writes)
	}
	if err := vm2.Init(); err != nil || data.writes != 4 {
		t.Fatalf("second Init = %v, %d writes; want no write", err, data.writes)
	}
	exp := testNow.Add(time.Minute)
	k1, k2 := ReplayKey("1", rfc9449JKT), ReplayKey("2", rfc9449JKT)

	if r, err := vm1.Seen(k1, exp); r || err != nil {
		t.Fatalf("vm1.Seen(k1) = %v, %v; want recorded", r, err)
	}
	if r, err := vm2.Seen(k1, exp); !r || err != nil {
		t.Fatalf("vm2.Seen(k1) = %v, %v; want a replay seen by another VM", r, err)
	}

	// vm2 records k2 in the same shard between vm1's read and write: vm1's
	// write loses the CAS race, rereads and keeps both entries.
	name1, _ := vm1.ShardKey(k1)
	k3 := sameShard(t, vm1, name1, 3)
	data.before = func(string) {
		if r, err := vm2.Seen(k2, exp); r || err != nil {
			t.Errorf("vm2.Seen(k2) = %v, %v", r, err)
		}
	}
	name2, _ := vm1.ShardKey(k2)
	if name2 != name1 {
		k2 = sameShard(t, vm1, name1, 4)
	}
	if r, err := vm1.Seen(k3, exp); r || err != nil {
		t.Fatalf("vm1.Seen(k3) under a race = %v, %v", r, err)
	}
	for _, k := range []string{k1, k2, k3} {
		if r, err := vm2.Seen(k, exp); !r || err != nil {
			t.Fatalf("after the race, Seen = %v, %v; want every key recorded", r, err)
		}
	}

	// After the window the keys are forgotten.
	clk.t = exp.Add(time.Second)
	if r, err := vm2.Seen(k1, clk.t.Add(time.Minute)); r || err != nil {
		t.Fatalf("Seen after expiry = %v, %v; want recorded anew", r, err)
	}
}

// sameShard finds a ReplayKey that lands in shard name.
func sameShard(t *testing.T, s *SharedStore, name string, seed int) string {
	for i := seed * 1000; ; i++ {
		k := ReplayKey(fmt.Sprint(i), rfc9449JKT)
		if n, _ := s.ShardKey(k); n == name {
			return k
		}
	}
}

// alwaysMismatch loses every CAS race.
type alwaysMismatch struct{ *sharedData }

func (a alwaysMismatch) SetSharedData(string, []byte, uint32) error { return ErrCASMismatch }

// failingSet fails writes with a host error.
type failingSet struct{ *sharedData }

func (f failingSet) SetSharedData(string, []byte, uint32) error {
	return errors.New("host: bad argument")
}

func TestSharedStoreFailsClosed(t *testing.T) {
	k := ReplayKey("1", rfc9449JKT)
	exp := testNow.Add(time.Minute)
	corrupt := newSharedData()
	s := &SharedStore{Data: corrupt}
	name, _ := s.ShardKey(k)
	corrupt.m[name] = sharedValue{v: []byte{7, 7, 7}, cas: 1}
	hostErr := newSharedData()
	hostErr.getErr = errors.New("host: get failed")
	full := newSharedData()
	tests := []struct {
		name  string
		store *SharedStore
		key   string
		want  error
	}{
		{"every CAS lost", &SharedStore{Data: alwaysMismatch{newSharedData()}, MaxAttempts: 3}, k, ErrReplayContended},
		{"write error", &SharedStore{Data: failingSet{newSharedData()}}, k, nil},
		{"read error", &SharedStore{Data: hostErr}, k, hostErr.getErr},
		{"corrupt shard", s, k, ErrCorruptReplaySet},
		{"not a replay key", &SharedStore{Data: newSharedData()}, "jti-1", ErrBadReplayKey},
		{"full shard", &SharedStore{Data: full, MaxEntries: 1}, ReplayKey("2", rfc9449JKT), ErrReplayStoreFull},
	}
	if r, err := tests[len(tests)-1].store.Seen(k, exp); r || err != nil {
		t.Fatal(r, err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.store.Seen(tc.key, exp)
			if r || err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Seen = %v, %v; want an error %v", r, err, tc.want)
			}
			p := &Proof{JTI: "1", Thumbprint: rfc9449JKT, Expires: exp}
			if tc.key == k {
				if f := CheckReplay(tc.store, p); f != FailReplayUnavailable {
					t.Fatalf("CheckReplay = %v; want %v", f, FailReplayUnavailable)
				}
			}
		})
	}
}

// TestShardSpread: keys spread over every shard.
func TestShardSpread(t *testing.T) {
	s := &SharedStore{Prefix: "p.", Shards: 8}
	count := map[string]int{}
	for i := range 800 {
		name, err := s.ShardKey(ReplayKey(fmt.Sprint(i), rfc9449JKT))
		if err != nil {
			t.Fatal(err)
		}
		count[name]++
	}
	if len(count) != 8 {
		t.Fatalf("%d shards used; want 8", len(count))
	}
	for name, n := range count {
		if !strings.HasPrefix(name, "p.") || n < 50 {
			t.Fatalf("shard %s got %d of 800 keys", name, n)
		}
	}
}
