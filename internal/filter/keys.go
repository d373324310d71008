//go:build wasip1

package filter

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/abi"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// remoteKeys fetches one jwt provider's keys through proxy_http_call and
// shares them with the other worker VMs through shared data, so that one
// worker's fetch serves all. Shared data is one process-wide store per
// vm_id (and Istio sets none), so keys are prefixed with the plugin's name
// and a digest of the provider's name and key URI.
type remoteKeys struct {
	index   int // provider index, for metrics
	prov    *jwt.Provider
	store   *jwt.KeyStore
	shared  string // shared-data key of the JWKS
	lock    string // shared-data key of the fetch lock
	applied uint32 // cas of the shared JWKS last applied
	token   uint32 // in-flight callout, 0 for none
	target  jwt.Fetch
}

func newRemoteKeys(plugin string, index int, p *jwt.Provider) *remoteKeys {
	spec := p.Remote()
	d := sha256.Sum256([]byte(p.Name() + "\x00" + spec.Cluster + "\x00" + spec.URI))
	base := "wasm-authn/" + plugin + "/jwks/" + hex.EncodeToString(d[:8])
	return &remoteKeys{index: index, prov: p, store: p.KeyStore(), shared: base, lock: base + "/lock"}
}

// sync applies a JWKS another VM published, if it is newer than ours.
func (rk *remoteKeys) sync() {
	v, cas, err := abi.GetSharedData(rk.shared)
	if err != nil || cas == rk.applied || len(v) < 8 {
		return
	}
	fetched := time.Unix(0, int64(binary.LittleEndian.Uint64(v)))
	if rk.store.Update(v[8:], fetched) == nil {
		rk.applied = cas
	}
}

// publish shares a JWKS this VM fetched.
func (rk *remoteKeys) publish(body []byte, now time.Time) {
	v := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(body)), uint64(now.UnixNano()))
	v = append(v, body...)
	if err := abi.SetSharedData(rk.shared, v, 0); err != nil {
		abi.Log(abi.LogWarn, "wasm-authn: cannot share the keys of provider "+rk.prov.Name()+": "+err.Error())
		return
	}
	if _, cas, err := abi.GetSharedData(rk.shared); err == nil {
		rk.applied = cas
	}
}

// takeLock claims the right to fetch for all VMs until now+ttl, with
// compare-and-swap. At start-up every VM fetches without it.
func (rk *remoteKeys) takeLock(now time.Time, ttl time.Duration) bool {
	v, cas, err := abi.GetSharedData(rk.lock)
	if err == nil && len(v) == 8 && now.UnixNano() < int64(binary.LittleEndian.Uint64(v)) {
		return false
	}
	if err != nil && !abi.IsStatus(err, abi.StatusNotFound) {
		return true // shared data unusable: fetch anyway
	}
	exp := binary.LittleEndian.AppendUint64(nil, uint64(now.Add(ttl).UnixNano()))
	return abi.SetSharedData(rk.lock, exp, cas) == nil
}

// fetch dispatches the store's next fetch if it needs one.
func (r *root) fetch(rk *remoteKeys, now time.Time, locked bool) {
	// NeedFetch is false while a call is in flight, until twice its
	// timeout: a response that never came must not block fetching forever.
	if !rk.store.NeedFetch(now) {
		return
	}
	if rk.token != 0 {
		delete(r.callouts, rk.token)
		rk.token = 0
	}
	f := rk.store.Target()
	// The lock outlives the call (and its response's delivery) with room
	// to spare; a VM that dies holding it delays the others by that much.
	if locked && !rk.takeLock(now, 2*f.Timeout+time.Second) {
		return
	}
	headers := []abi.Header{
		{Key: ":method", Value: "GET"}, {Key: ":path", Value: f.Path}, {Key: ":authority", Value: f.Authority},
		{Key: "accept", Value: "application/json"}, {Key: "user-agent", Value: "wasm-authn"},
	}
	token, err := abi.HTTPCall(f.Cluster, headers, nil, nil, uint32(f.Timeout/time.Millisecond))
	if err != nil {
		// BadArgument: the cluster does not exist (Istio needs a
		// ServiceEntry for an external IdP).
		abi.Log(abi.LogError, "wasm-authn: cannot fetch the keys of provider "+rk.prov.Name()+" from cluster "+
			strconv.Quote(f.Cluster)+": "+err.Error())
		rk.store.Fail(now)
		r.metrics.fetched(rk.index, false, rk.store.Stale())
		return
	}
	rk.store.Begin(now)
	rk.token, rk.target = token, f
	r.callouts[token] = rk
}

// onFetched handles a key fetch's response in proxy_on_http_call_response.
func (r *root) onFetched(rk *remoteKeys, numHeaders, bodySize int, now time.Time) {
	rk.token = 0
	status := ""
	if numHeaders > 0 {
		status, _ = abi.GetHeader(abi.MapHTTPCallResponseHeaders, ":status")
	}
	var err error
	switch {
	case numHeaders == 0:
		err = errString("the connection failed")
	case status != "200":
		err = errString("status " + status)
	case bodySize > jwt.MaxJWKSBytes:
		err = errString("the body is larger than " + strconv.Itoa(jwt.MaxJWKSBytes) + " bytes")
	}
	var body []byte
	if err == nil {
		body, err = abi.GetBuffer(abi.BufferHTTPCallResponse, 0, uint32(bodySize))
	}
	if err != nil {
		rk.store.Fail(now)
	} else if rk.target.Discovery {
		err = rk.store.UpdateDiscovery(body, now)
	} else if err = rk.store.Update(body, now); err == nil {
		rk.publish(body, now)
	}
	r.metrics.fetched(rk.index, err == nil, rk.store.Stale())
	if err != nil {
		abi.Log(abi.LogWarn, "wasm-authn: fetching the keys of provider "+rk.prov.Name()+" failed: "+err.Error())
		return
	}
	if rk.target.Discovery {
		r.fetch(rk, now, false) // the JWKS named by the discovery document
	}
}

type errString string

func (e errString) Error() string { return string(e) }
