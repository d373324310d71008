package dpop

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"
)

// The replay set shared by worker VMs is one proxy-wasm shared-data value
// per shard, updated by compare-and-swap. Its encoding:
//
//	value = version entry*          (an empty value is an empty set)
//	version = 0x01                  (ReplaySetVersion)
//	entry = digest expiry           (replaySetEntryLen = 24 bytes)
//	digest = 16 bytes               (a ReplayKey, decoded)
//	expiry = 8 bytes                (Unix seconds, big-endian, rounded up)
//
// Entries are in insertion order; a set holds at most MaxEntries of them.
// A value that does not decode (another version, a length that is not
// 1 + 24n) is an error, never reset: resetting would forget live entries.
// Put the version in the shared-data key names, so that a new encoding
// never reads an old one.

// ReplaySetVersion is the first byte of an encoded replay set.
const ReplaySetVersion = 1

const replaySetEntryLen = replayDigestLen + 8

// Errors of the shared replay set.
var (
	// ErrCorruptReplaySet: a shared value that is not an encoded replay set.
	ErrCorruptReplaySet = errors.New("dpop: the shared replay set does not decode")
	// ErrBadReplayKey: a key that is not a ReplayKey.
	ErrBadReplayKey = errors.New("dpop: not a replay key")
	// ErrCASMismatch is what SharedData.SetSharedData returns when the value
	// changed since it was read (proxy-wasm's CasMismatch status).
	ErrCASMismatch = errors.New("dpop: shared data changed since it was read")
	// ErrReplayContended: every compare-and-swap attempt lost to another
	// VM's write.
	ErrReplayContended = errors.New("dpop: the shared replay set is too contended")
)

func decodeReplayKey(key string) (d [replayDigestLen]byte, err error) {
	if len(key) != ReplayKeyLen {
		return d, ErrBadReplayKey
	}
	if n, e := b64.Strict().Decode(d[:], []byte(key)); e != nil || n != len(d) {
		return d, ErrBadReplayKey
	}
	return d, nil
}

// UpdateReplaySet is the modify step of a compare-and-swap update of an
// encoded replay set (see SharedStore): given the set old as read, it
// drops the entries that expired before now, reports replayed (and
// returns no value to write) when key is among the others, fails with
// ErrReplayStoreFull when maxEntries live entries remain, and otherwise
// returns the new value: the live entries and key, kept until exp. It
// fails with ErrCorruptReplaySet or ErrBadReplayKey for inputs it cannot
// read. old is not modified.
func UpdateReplaySet(old []byte, key string, exp, now time.Time, maxEntries int) (next []byte, replayed bool, err error) {
	d, err := decodeReplayKey(key)
	if err != nil {
		return nil, false, err
	}
	if len(old) > 0 && (old[0] != ReplaySetVersion || (len(old)-1)%replaySetEntryLen != 0) {
		return nil, false, ErrCorruptReplaySet
	}
	// One pass reads each entry's expiry and compares its digest as two
	// words; the common case (nothing expired) then copies the value whole.
	n := now.Unix()
	hi, lo := binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:])
	live, expired := 0, 0
	for i := 1; i < len(old); i += replaySetEntryLen {
		e := old[i : i+replaySetEntryLen]
		if int64(binary.BigEndian.Uint64(e[replayDigestLen:])) < n {
			expired++
			continue
		}
		if binary.BigEndian.Uint64(e) == hi && binary.BigEndian.Uint64(e[8:]) == lo {
			return nil, true, nil
		}
		live++
	}
	if live >= maxEntries {
		return nil, false, ErrReplayStoreFull
	}
	next = make([]byte, 0, 1+(live+1)*replaySetEntryLen)
	switch {
	case len(old) == 0:
		next = append(next, ReplaySetVersion)
	case expired == 0:
		next = append(next, old...)
	default:
		next = append(next, ReplaySetVersion)
		for i := 1; i < len(old); i += replaySetEntryLen {
			e := old[i : i+replaySetEntryLen]
			if int64(binary.BigEndian.Uint64(e[replayDigestLen:])) >= n {
				next = append(next, e...)
			}
		}
	}
	next = append(next, d[:]...)
	next = binary.BigEndian.AppendUint64(next, uint64(ceilUnix(exp)))
	return next, false, nil
}

// ReplaySetLen returns the number of entries (live or not) in an encoded
// replay set, for a gauge; -1 if it does not decode.
func ReplaySetLen(value []byte) int {
	if len(value) == 0 {
		return 0
	}
	if value[0] != ReplaySetVersion || (len(value)-1)%replaySetEntryLen != 0 {
		return -1
	}
	return (len(value) - 1) / replaySetEntryLen
}

// SharedData is proxy-wasm's shared data as SharedStore needs it; the
// filter implements it with proxy_get_shared_data and
// proxy_set_shared_data.
type SharedData interface {
	// GetSharedData returns a key's value and CAS token; an absent key is
	// (nil, 0, nil), any other host failure an error.
	GetSharedData(key string) (value []byte, cas uint32, err error)
	// SetSharedData writes value if the key's CAS token is still cas (0:
	// unconditionally, as Envoy does), and returns ErrCASMismatch (or an
	// error wrapping it) if it is not.
	SetSharedData(key string, value []byte, cas uint32) error
}

// Defaults for SharedStore fields left zero.
const (
	// DefaultShardEntries bounds one shard's set: 2048 entries are 48 KiB.
	DefaultShardEntries = 2048
	// DefaultCASAttempts bounds the compare-and-swap retries of one Seen.
	DefaultCASAttempts = 8
)

// SharedStore is a ReplayStore over proxy-wasm shared data, so that a
// proof accepted by one worker VM is refused by every other. Its fields
// are set at configure time and not changed afterwards; Seen runs in
// proxy_on_request_headers.
//
// The keys are spread over Shards shared-data values by their first four
// bytes, to bound each value's size and the contention on it; shard i is
// the shared-data key Prefix + decimal i. Seen on a key, for at most
// MaxAttempts attempts:
//
//  1. read the shard's value and CAS token (GetSharedData);
//  2. UpdateReplaySet: drop expired entries; if the key is present,
//     report a replay (nothing is written); if the shard holds
//     MaxEntries live entries, fail (ErrReplayStoreFull);
//  3. write the new value with the CAS token read in 1 (SetSharedData);
//     on success the key is recorded; on ErrCASMismatch another VM wrote
//     in between: go back to 1.
//
// When every attempt lost a race, Seen fails with ErrReplayContended, and
// any other host error is returned as it is: the caller fails closed.
//
// A shard that does not exist yet is written with CAS token 0, which
// Envoy applies unconditionally: two VMs creating the same shard at once
// could each overwrite the other's first entry. Init creates every shard
// when the VM starts, so that this can only happen before traffic.
type SharedStore struct {
	Data SharedData
	// Prefix starts every shard's shared-data key; include the encoding's
	// version, e.g. "wasm-authn.dpop.jti.v1.".
	Prefix string
	// Shards is the number of shards; 0 means 1.
	Shards int
	// MaxEntries bounds each shard; 0 means DefaultShardEntries.
	MaxEntries int
	// MaxAttempts bounds the compare-and-swap attempts; 0 means
	// DefaultCASAttempts.
	MaxAttempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ShardKey returns the shared-data key of the shard that holds key (a
// ReplayKey).
func (s *SharedStore) ShardKey(key string) (string, error) {
	d, err := decodeReplayKey(key)
	if err != nil {
		return "", err
	}
	n := uint32(max(s.Shards, 1))
	return s.Prefix + strconv.FormatUint(uint64(binary.BigEndian.Uint32(d[:4])%n), 10), nil
}

// Init creates every shard that does not exist yet as an empty set. The
// filter calls it once per VM in proxy_on_vm_start or proxy_on_configure;
// it writes nothing when the shards already exist.
func (s *SharedStore) Init() error {
	empty := []byte{ReplaySetVersion}
	for i := range max(s.Shards, 1) {
		name := s.Prefix + strconv.Itoa(i)
		v, cas, err := s.Data.GetSharedData(name)
		if err != nil {
			return err
		}
		if v != nil || cas != 0 {
			continue
		}
		if err := s.Data.SetSharedData(name, empty, 0); err != nil && !errors.Is(err, ErrCASMismatch) {
			return err
		}
	}
	return nil
}

// Seen implements ReplayStore (see SharedStore for the algorithm).
func (s *SharedStore) Seen(key string, exp time.Time) (bool, error) {
	name, err := s.ShardKey(key)
	if err != nil {
		return false, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for range orDefault(s.MaxAttempts, DefaultCASAttempts) {
		old, cas, err := s.Data.GetSharedData(name)
		if err != nil {
			return false, err
		}
		next, replayed, err := UpdateReplaySet(old, key, exp, now(), orDefault(s.MaxEntries, DefaultShardEntries))
		if err != nil || replayed {
			return replayed, err
		}
		err = s.Data.SetSharedData(name, next, cas)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, ErrCASMismatch) {
			return false, err
		}
	}
	return false, ErrReplayContended
}
