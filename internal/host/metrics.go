package host

import "sync"

// metric is one stat, shared by every VM of a Host by name (Envoy creates the stat
// wasmcustom.<name> in the Wasm's stats scope; /stats shows it as <name>).
type metric struct {
	name    string
	typ     MetricType
	value   int64 // counter (as uint64 bits) or gauge
	samples []uint64
}

type metricStore struct {
	mu     sync.Mutex
	byName map[string]*metric
}

func newMetricStore() *metricStore { return &metricStore{byName: map[string]*metric{}} }

// define returns the stat for (name, type). Like Envoy's stats scope, the same name with another
// type is a different stat; the last one defined wins the lookup by name.
func (s *metricStore) define(name string, typ MetricType) *metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := name + "\x00" + typ.String()
	m, ok := s.byName[key]
	if !ok {
		m = &metric{name: name, typ: typ}
		s.byName[key] = m
	}
	s.byName[name] = m
	return m
}

func (s *metricStore) get(name string) (int64, MetricType, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byName[name]
	if !ok {
		return 0, 0, false
	}
	if m.typ == MetricHistogram {
		return int64(len(m.samples)), m.typ, true
	}
	return m.value, m.typ, true
}

func (s *metricStore) all() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for k, m := range s.byName {
		if k != m.name {
			continue
		}
		if m.typ == MetricHistogram {
			out[k] = int64(len(m.samples))
		} else {
			out[k] = m.value
		}
	}
	return out
}

func (s *metricStore) samples(name string) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byName[name]
	if !ok {
		return nil
	}
	return append([]uint64(nil), m.samples...)
}

func (s *metricStore) update(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// Per-VM metric calls (Context::defineMetric/incrementMetric/recordMetric/getMetric).

const metricTypeMask = 0x3

func (in *instance) defineMetric(typ uint32, name string) (uint32, Status) {
	if typ > uint32(MetricHistogram) {
		return 0, StatusBadArgument
	}
	in.nextMetric[typ] += 4
	id := in.nextMetric[typ] | typ
	in.metricIDs[id] = in.host.metrics.define(name, MetricType(typ))
	return id, StatusOK
}

func (in *instance) incrementMetric(id uint32, delta int64) Status {
	m, ok := in.metricIDs[id]
	switch MetricType(id & metricTypeMask) {
	case MetricCounter:
		if !ok {
			return StatusNotFound
		}
		if delta <= 0 {
			return StatusBadArgument
		}
		in.host.metrics.update(func() { m.value = int64(uint64(m.value) + uint64(delta)) })
		return StatusOK
	case MetricGauge:
		if !ok {
			return StatusNotFound
		}
		in.host.metrics.update(func() { m.value += delta })
		return StatusOK
	}
	return StatusBadArgument
}

func (in *instance) recordMetric(id uint32, v uint64) Status {
	m, ok := in.metricIDs[id]
	if !ok {
		return StatusNotFound
	}
	switch MetricType(id & metricTypeMask) {
	case MetricCounter:
		in.host.metrics.update(func() { m.value = int64(uint64(m.value) + v) })
	case MetricGauge:
		in.host.metrics.update(func() { m.value = int64(v) })
	case MetricHistogram:
		in.host.metrics.update(func() { m.samples = append(m.samples, v) })
	default:
		return StatusNotFound
	}
	return StatusOK
}

func (in *instance) getMetric(id uint32) (uint64, Status) {
	m, ok := in.metricIDs[id]
	switch MetricType(id & metricTypeMask) {
	case MetricCounter, MetricGauge:
		if !ok {
			return 0, StatusNotFound
		}
		var v uint64
		in.host.metrics.update(func() { v = uint64(m.value) })
		return v, StatusOK
	}
	return 0, StatusBadArgument
}
