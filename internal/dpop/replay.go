package dpop

import (
	"container/heap"
	"crypto/sha256"
	"errors"
	"time"
)

// ReplayStore remembers the proofs already accepted (RFC 9449 §11.1). The
// filter implements it with proxy-wasm shared data, so that every worker
// VM sees every proof (SharedStore, over the filter's host calls);
// MemoryStore serves tests and a single VM.
type ReplayStore interface {
	// Seen records key, a ReplayKey, until exp and reports whether it was
	// already recorded and had not expired. An error means the store could
	// not tell (full, contended, unreadable): the caller fails closed.
	Seen(key string, exp time.Time) (replayed bool, err error)
}

// ReplayKeyLen is the length of a ReplayKey: 16 bytes in base64url.
const ReplayKeyLen = 22

// ReplayKey is the replay store's key for a proof: the first 16 bytes of
//
//	SHA-256("dpop-jti" || 0x00 || thumbprint || 0x00 || jti)
//
// in base64url (ReplayKeyLen characters). Hashing in the key's thumbprint
// (43 base64url characters, never 0x00) gives each client key its own
// namespace: a jti chosen by one client can never collide with another
// client's, so nobody can block someone else's proofs by using their jti
// first. 128 bits keep accidental collisions negligible at any store
// size, and every key has the same small size whatever the jti.
func ReplayKey(jti, thumbprint string) string {
	var buf [256]byte // no allocation for the usual sizes
	in := append(buf[:0], "dpop-jti\x00"...)
	in = append(in, thumbprint...)
	in = append(in, 0)
	in = append(in, jti...)
	d := sha256.Sum256(in)
	return b64.EncodeToString(d[:replayDigestLen])
}

const replayDigestLen = 16

// CheckReplay records p in store and fails with FailReplay if it was
// already there, or FailReplayUnavailable (503, fail closed) if the store
// cannot tell. The key is ReplayKey(p.JTI, p.Thumbprint), kept until
// p.Expires. The filter calls it last, after Verify and CheckBinding, so
// that only proofs bound to a valid token take room in the store.
func CheckReplay(store ReplayStore, p *Proof) Failure {
	if store == nil || p == nil {
		return FailReplayUnavailable
	}
	replayed, err := store.Seen(ReplayKey(p.JTI, p.Thumbprint), p.Expires)
	switch {
	case err != nil:
		return FailReplayUnavailable
	case replayed:
		return FailReplay
	}
	return FailNone
}

// ErrReplayStoreFull is returned by Seen when every entry of a store is
// still live: forgetting one would let its proof be replayed, so the store
// refuses instead (the caller then fails closed). Size a store for the
// peak rate of proofs times MaxAge + FutureSkew.
var ErrReplayStoreFull = errors.New("dpop: the replay store is full of live entries")

// MemoryStore is a bounded in-memory ReplayStore for tests and for a
// single VM (it is not shared across worker VMs). Expired entries are
// dropped as time passes; when MaxEntries live entries are held, Seen
// fails with ErrReplayStoreFull rather than forget one. It is not safe
// for concurrent use (a proxy-wasm VM is single-threaded).
type MemoryStore struct {
	max  int
	now  func() time.Time
	live map[string]int64 // key -> expiry, Unix seconds (rounded up)
	exp  expiryHeap
}

// NewMemoryStore returns a store of at most maxEntries live entries; now
// is its clock (nil: time.Now).
func NewMemoryStore(maxEntries int, now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{max: max(maxEntries, 1), now: now, live: map[string]int64{}}
}

// Len is the number of entries held, expired ones not yet dropped
// included.
func (s *MemoryStore) Len() int { return len(s.live) }

// Seen implements ReplayStore. Each call drops the entries that have
// expired (O(log n) each, through a heap ordered by expiry).
func (s *MemoryStore) Seen(key string, exp time.Time) (bool, error) {
	now := s.now().Unix()
	for len(s.exp) > 0 && s.exp[0].exp < now {
		e := heap.Pop(&s.exp).(expiryEntry)
		delete(s.live, e.key)
	}
	if _, ok := s.live[key]; ok {
		return true, nil
	}
	if len(s.live) >= s.max {
		return false, ErrReplayStoreFull
	}
	x := ceilUnix(exp)
	s.live[key] = x
	heap.Push(&s.exp, expiryEntry{key: key, exp: x})
	return false, nil
}

// ceilUnix is t in Unix seconds, rounded up so that an entry is never
// dropped before t.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

type expiryEntry struct {
	key string
	exp int64
}

type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
