package jwt

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tidwall/gjson"
)

// Defaults for remote keys.
const (
	DefaultFetchTimeout       = 5 * time.Second
	DefaultRefreshInterval    = 10 * time.Minute
	DefaultUnknownKIDInterval = 30 * time.Second
	DefaultMaxWait            = 5 * time.Second
	// retryMin and retryMax bound the backoff after a failed fetch.
	retryMin = time.Second
	retryMax = time.Minute
)

// RemoteSpec says where a provider's keys are fetched from. The package
// never fetches: the filter dispatches proxy_http_call to Cluster with the
// headers of Fetch (KeyStore.Target) and feeds the answer to the KeyStore.
// It is immutable.
type RemoteSpec struct {
	// Cluster is the Envoy cluster the call goes to.
	Cluster string
	// URI is the JWKS URI, or with Discovery the OpenID Provider
	// Configuration document's URI (OIDC Discovery 1.0 §4).
	URI string
	// Authority and Path are the :authority and :path derived from URI.
	Authority, Path string
	// Discovery: URI is a discovery document whose "jwks_uri" names the
	// JWKS, and whose "issuer" must equal Issuer. The JWKS is fetched from
	// JWKSCluster, or from the same Cluster if it is empty.
	Discovery bool
	Issuer    string
	// JWKSCluster, with Discovery, is the cluster of the host jwks_uri
	// names when that is not the issuer's (Google's keys are on
	// www.googleapis.com, its issuer accounts.google.com).
	JWKSCluster string
	// Timeout bounds one call.
	Timeout time.Duration
	// Refresh is how long fetched keys are used before they are fetched
	// again (they are still used while the refetch is under way or fails).
	Refresh time.Duration
	// UnknownKIDInterval is the least time between two refetches caused by
	// a token whose kid is not in the set (a key rotated in early).
	UnknownKIDInterval time.Duration
	// MaxWait is the longest a request waits, paused, for keys that are
	// not available yet (or for a refetch after an unknown kid); then the
	// filter denies it with Provider.Unavailable (401 invalid_token). 0: never pause.
	MaxWait time.Duration
}

// SplitURI derives :authority and :path (query included) from an absolute
// http or https URI without user information or fragment.
func SplitURI(uri string) (authority, path string, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", errors.New("not a valid URI")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", "", errors.New("must be an http or https URI")
	case u.Host == "" || u.Opaque != "":
		return "", "", errors.New("must have a host")
	case u.User != nil:
		return "", "", errors.New("must not have user information")
	case u.Fragment != "" || u.RawFragment != "":
		return "", "", errors.New("must not have a fragment")
	}
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return u.Host, path, nil
}

// ParseDiscovery reads an OpenID Provider Configuration document (OIDC
// Discovery 1.0 §3) and returns its "jwks_uri". Its "issuer" must be
// exactly issuer (§4.3), the document a strict JSON object of at most
// MaxJWKSBytes, and jwks_uri an http or https URI.
func ParseDiscovery(body []byte, issuer string) (jwksURI string, err error) {
	if len(body) > MaxJWKSBytes {
		return "", fmt.Errorf("the discovery document is larger than %d bytes", MaxJWKSBytes)
	}
	doc, st := strictObject(body)
	if st != jsonOK {
		return "", errors.New("the discovery document is not a strict JSON object")
	}
	if iss := doc.Get("issuer"); iss.Type != gjson.String || iss.Str != issuer {
		return "", errors.New("the discovery document's issuer is not the configured issuer")
	}
	ju := doc.Get("jwks_uri")
	if ju.Type != gjson.String {
		return "", errors.New("the discovery document has no jwks_uri")
	}
	if _, _, err := SplitURI(ju.Str); err != nil {
		return "", fmt.Errorf("the discovery document's jwks_uri %v", err)
	}
	return ju.Str, nil
}

// Fetch is one HTTP GET the filter should dispatch for a KeyStore.
type Fetch struct {
	Cluster, Authority, Path string
	Timeout                  time.Duration
	// Discovery: the answer goes to UpdateDiscovery, else to Update.
	Discovery bool
}

// KeyStore holds a provider's current keys and decides when to fetch
// remote ones. It is a pure state machine, per provider per VM, used from
// one thread: the filter asks NeedFetch on ticks and requests, dispatches
// Target with proxy_http_call, calls Begin, and feeds the outcome to
// Update/UpdateDiscovery or Fail. It never blocks and never does I/O.
//
// A store for static keys is always Ready and never needs a fetch.
//
// Remote keys are fetched when there are none yet, when Refresh has passed
// since the last good fetch, after a failure once a backoff (1 s doubling
// to 1 min, at most Refresh) has passed, and at most once per
// UnknownKIDInterval because a token named an unknown kid. A failed or
// malformed fetch keeps the last good keys (the store is then Stale).
type KeyStore struct {
	spec       *RemoteSpec
	minRSABits int

	keys       *KeySet
	gen        uint64
	digest     [32]byte
	ready      bool
	stale      bool
	everFailed bool
	skipped    []string

	jwksAuthority, jwksPath string // from spec.URI or the discovery document

	inflight      bool
	inflightSince time.Time
	nextAttempt   time.Time // zero: now
	failures      int
	kidRefetch    bool      // an unknown kid asked for a fetch
	lastKIDFetch  time.Time // when OnUnknownKID last granted one
	everKIDFetch  bool
}

// NewStaticKeyStore returns a store serving keys forever.
func NewStaticKeyStore(keys *KeySet) *KeyStore {
	return &KeyStore{keys: keys, gen: 1, ready: true}
}

// NewKeyStore returns a store for spec with no keys yet. minRSABits is the
// provider's minimum RSA modulus size.
func NewKeyStore(spec *RemoteSpec, minRSABits int) *KeyStore {
	s := &KeyStore{spec: spec, minRSABits: minRSABits, keys: NewKeySet()}
	if !spec.Discovery {
		s.jwksAuthority, s.jwksPath = spec.Authority, spec.Path
	}
	return s
}

// Remote reports whether the store fetches keys.
func (s *KeyStore) Remote() bool { return s.spec != nil }

// Keys returns the current key set and its generation, which grows by one
// each time a fetch changes the keys. The set is immutable.
func (s *KeyStore) Keys() (*KeySet, uint64) { return s.keys, s.gen }

// Ready reports whether the store has keys: static ones, or a fetch has
// succeeded once.
func (s *KeyStore) Ready() bool { return s.ready }

// Stale reports that the last fetch failed or was malformed and the store
// serves keys from an earlier one (the filter's stale_keys gauge).
func (s *KeyStore) Stale() bool { return s.stale && s.ready }

// Failing reports that no keys were ever fetched and a fetch has failed:
// requests are then denied at once (401) rather than paused.
func (s *KeyStore) Failing() bool { return !s.ready && s.everFailed }

// Skipped lists why keys of the last fetched set were skipped, for logs.
func (s *KeyStore) Skipped() []string { return s.skipped }

// Target is the next fetch to dispatch: the discovery document while the
// JWKS URI is unknown, else the JWKS.
func (s *KeyStore) Target() Fetch {
	if s.spec == nil {
		return Fetch{}
	}
	f := Fetch{Cluster: s.spec.Cluster, Timeout: s.spec.Timeout}
	if s.jwksPath == "" {
		f.Authority, f.Path, f.Discovery = s.spec.Authority, s.spec.Path, true
	} else {
		f.Authority, f.Path = s.jwksAuthority, s.jwksPath
		if s.spec.JWKSCluster != "" {
			f.Cluster = s.spec.JWKSCluster
		}
	}
	return f
}

// NeedFetch reports whether the filter should dispatch Target now.
func (s *KeyStore) NeedFetch(now time.Time) bool {
	if s.spec == nil {
		return false
	}
	// A call that never called back (it should) stops blocking after
	// twice its timeout.
	if s.inflight && now.Before(s.inflightSince.Add(2*s.spec.Timeout)) {
		return false
	}
	if s.kidRefetch {
		return true
	}
	return !now.Before(s.nextAttempt)
}

// NextFetch is when NeedFetch becomes true without a request asking (for
// the filter's tick period); zero for a static store.
func (s *KeyStore) NextFetch() time.Time {
	if s.spec == nil {
		return time.Time{}
	}
	return s.nextAttempt
}

// Begin records that the filter dispatched Target at now.
func (s *KeyStore) Begin(now time.Time) {
	s.inflight, s.inflightSince = true, now
	s.kidRefetch = false
}

// OnUnknownKID is called when a token names a kid the current set lacks.
// It reports whether a refetch is under way or now scheduled, in which
// case the request should wait for it: at most one per
// UnknownKIDInterval, never for a static store.
func (s *KeyStore) OnUnknownKID(now time.Time) bool {
	if s.spec == nil || !s.ready {
		return false
	}
	if s.inflight {
		return true
	}
	if s.everKIDFetch && now.Before(s.lastKIDFetch.Add(s.spec.UnknownKIDInterval)) {
		return false
	}
	s.kidRefetch, s.lastKIDFetch, s.everKIDFetch = true, now, true
	return true
}

// Update installs a fetched JWKS. A body that is not a key set, or that has
// no usable key, is an error: the last good keys stay (Stale) and the next
// attempt backs off.
func (s *KeyStore) Update(body []byte, now time.Time) error {
	if s.spec == nil {
		return errors.New("jwt: the provider's keys are static")
	}
	s.inflight = false
	set, skipped, err := ParseJWKS(body, s.minRSABits)
	if err == nil && set.Len() == 0 {
		err = errors.New("the key set has no usable key")
	}
	if err != nil {
		s.failed(now)
		s.skipped = skipped
		return err
	}
	s.skipped = skipped
	if d := setDigest(set); !s.ready || d != s.digest {
		s.keys, s.digest = set, d
		s.gen++
	}
	s.ready, s.stale, s.failures = true, false, 0
	s.nextAttempt = now.Add(s.spec.Refresh)
	return nil
}

// UpdateDiscovery installs a fetched discovery document: the JWKS URI it
// names becomes the next Target, fetched at once. A bad document is a
// failed fetch.
func (s *KeyStore) UpdateDiscovery(body []byte, now time.Time) error {
	if s.spec == nil || !s.spec.Discovery {
		return errors.New("jwt: the provider does not use discovery")
	}
	s.inflight = false
	uri, err := ParseDiscovery(body, s.spec.Issuer)
	if err != nil {
		s.failed(now)
		return err
	}
	s.jwksAuthority, s.jwksPath, _ = SplitURI(uri)
	s.nextAttempt = now
	return nil
}

// Fail records a fetch that failed (timeout, reset, non-200 status).
func (s *KeyStore) Fail(now time.Time) {
	if s.spec == nil {
		return
	}
	s.inflight = false
	s.failed(now)
}

func (s *KeyStore) failed(now time.Time) {
	s.stale, s.everFailed = true, true
	s.failures++
	backoff := retryMin << min(s.failures-1, 6)
	backoff = min(backoff, retryMax, max(s.spec.Refresh, retryMin))
	s.nextAttempt = now.Add(backoff)
}

func setDigest(set *KeySet) [32]byte {
	h := sha256.New()
	for _, k := range set.Keys() {
		h.Write(k.fp[:])
		fmt.Fprintf(h, "%d:%s%d:%s", len(k.ID), k.ID, len(k.Alg), k.Alg)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}
