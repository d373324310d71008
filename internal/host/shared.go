package host

import "sync"

// SharedStore is proxy-wasm shared data (proxy-wasm-cpp-host SharedData): one process-wide store
// keyed by vm_id, then key. Every VM with the same vm_id sees the same data, across workers and
// plugins. All operations are atomic.
type SharedStore struct {
	mu   sync.Mutex
	cas  uint32
	data map[string]map[string]sharedEntry
}

type sharedEntry struct {
	value []byte
	cas   uint32
}

// NewSharedStore returns an empty store.
func NewSharedStore() *SharedStore {
	return &SharedStore{cas: 1, data: map[string]map[string]sharedEntry{}}
}

// nextCas is SharedData::nextCas: a global counter that skips 0. The caller holds mu.
func (s *SharedStore) nextCas() uint32 {
	c := s.cas
	s.cas++
	if s.cas == 0 {
		s.cas++
	}
	return c
}

// Get returns a copy of the value stored under (vmID, key) and its cas; NotFound if absent.
func (s *SharedStore) Get(vmID, key string) ([]byte, uint32, Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.data[vmID][key]
	if !ok {
		return nil, 0, StatusNotFound
	}
	return append([]byte(nil), e.value...), e.cas, StatusOK
}

// Set stores value under (vmID, key). With cas != 0 and an existing key whose cas differs it
// returns CasMismatch; a set on a missing key always succeeds.
func (s *SharedStore) Set(vmID, key string, value []byte, cas uint32) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.data[vmID]
	if !ok {
		m = map[string]sharedEntry{}
		s.data[vmID] = m
	}
	if e, ok := m[key]; ok && cas != 0 && cas != e.cas {
		return StatusCasMismatch
	}
	m[key] = sharedEntry{value: append([]byte(nil), value...), cas: s.nextCas()}
	return StatusOK
}
