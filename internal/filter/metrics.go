//go:build wasip1

package filter

import (
	"github.com/wasm-authn/wasm-authn/internal/abi"
	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/policy"
)

// metrics holds the ids of a fixed, bounded set of counters defined once in
// proxy_on_configure: requests allowed, requests denied per reason, and per
// provider successes, failures per reason and cache hits/misses. Names never
// contain request data.
type metrics struct {
	allowedID uint32
	deniedID  map[authn.Reason]uint32
	providers []providerMetrics
}

type providerMetrics struct {
	success, cacheHit, cacheMiss uint32
	failure                      map[authn.Reason]uint32
	// Remote keys (jwt): fetches and whether stale keys are served.
	fetchOK, fetchFailed, staleKeys uint32
}

// noMetric marks a metric this provider does not have. Zero is a valid id
// on some hosts (Envoy starts at 4, the Go SDK's emulator at 0).
const noMetric = ^uint32(0)

func defineMetrics(p *policy.Policy) (*metrics, error) {
	var err error
	def := func(name string) uint32 {
		if err != nil {
			return 0
		}
		var id uint32
		id, err = abi.DefineMetric(abi.MetricCounter, p.MetricPrefix+"."+name)
		return id
	}
	m := &metrics{deniedID: map[authn.Reason]uint32{}}
	m.allowedID = def("allowed")
	for _, r := range authn.Reasons() {
		m.deniedID[r] = def("denied." + r.String())
	}
	for _, prov := range p.Providers {
		base := "provider." + prov.Name() + "."
		pm := providerMetrics{success: def(base + "success"), cacheHit: noMetric, cacheMiss: noMetric,
			fetchOK: noMetric, fetchFailed: noMetric, staleKeys: noMetric, failure: map[authn.Reason]uint32{}}
		if m := prov.Method(); m == "basic" || m == "jwt" {
			pm.cacheHit, pm.cacheMiss = def(base+"cache_hit"), def(base+"cache_miss")
		}
		if jp, ok := jwtOf(prov); ok && jp.Remote() != nil {
			pm.fetchOK, pm.fetchFailed = def(base+"jwks_fetch.success"), def(base+"jwks_fetch.failure")
			if err == nil {
				pm.staleKeys, err = abi.DefineMetric(abi.MetricGauge, p.MetricPrefix+"."+base+"stale_keys")
			}
		}
		for _, r := range []authn.Reason{authn.ReasonInvalidCredential, authn.ReasonMalformedCredential, authn.ReasonMultipleCredentials, authn.ReasonCredentialTooLarge, authn.ReasonInternal} {
			pm.failure[r] = def(base + "failure." + r.String())
		}
		m.providers = append(m.providers, pm)
	}
	return m, err
}

func inc(id uint32) {
	if id != noMetric {
		_ = abi.IncrementMetric(id, 1)
	}
}

func (m *metrics) allowed()              { inc(m.allowedID) }
func (m *metrics) denied(r authn.Reason) { inc(m.deniedID[r]) }

// fetched counts a key fetch of provider i and records whether it serves
// stale keys.
func (m *metrics) fetched(i int, ok, stale bool) {
	pm := m.providers[i]
	if ok {
		inc(pm.fetchOK)
	} else {
		inc(pm.fetchFailed)
	}
	m.stale(i, stale)
}

// stale sets provider i's stale_keys gauge.
func (m *metrics) stale(i int, stale bool) {
	if id := m.providers[i].staleKeys; id != noMetric {
		v := uint64(0)
		if stale {
			v = 1
		}
		_ = abi.RecordMetric(id, v)
	}
}

func (m *metrics) verdicts(vs []policy.ProviderVerdict) {
	for i := range vs {
		v := &vs[i]
		pm := &m.providers[v.Provider]
		if v.CacheMiss {
			inc(pm.cacheMiss)
		}
		switch v.Outcome {
		case authn.Valid:
			inc(pm.success)
			if v.CacheHit {
				inc(pm.cacheHit)
			}
		case authn.Invalid:
			inc(pm.failure[v.Err.Reason])
		}
	}
}
