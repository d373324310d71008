package plugintest

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// idp is a real identity provider on loopback: discovery and JWKS, with
// switchable answers.
type idp struct {
	srv   *httptest.Server
	mu    sync.Mutex
	jwks  string
	code  int
	delay time.Duration
	hits  atomic.Int64 // JWKS requests
	disco atomic.Int64 // discovery requests
}

func newIdP(t *testing.T) *idp {
	d := &idp{jwks: jwksOf(t, ""), code: 200}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		jwks, code, delay := d.jwks, d.code, d.delay
		d.mu.Unlock()
		if r.Host != "idp.test" {
			http.Error(w, "wrong host "+r.Host, 400)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			d.disco.Add(1)
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":"https://idp.test/keys/jwks.json"}`, testIssuer)
		case "/keys/jwks.json":
			d.hits.Add(1)
			time.Sleep(delay)
			w.WriteHeader(code)
			fmt.Fprint(w, jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *idp) set(jwks string, code int, delay time.Duration) {
	d.mu.Lock()
	d.jwks, d.code, d.delay = jwks, code, delay
	d.mu.Unlock()
}

func remoteConfig(keys string) []byte {
	return []byte(fmt.Sprintf(`{"realm":"api","providers":[{"name":"idp","jwt":{"issuers":[%q],"audiences":[%q],
	  %s}}],"rules":[{"name":"api","require":{"provider":"idp"}}]}`, testIssuer, testAudience, keys))
}

const remoteJWKS = `"remote_jwks":{"cluster":"outbound|443||idp.test","uri":"https://idp.test/keys/jwks.json","timeout_ms":500,"refresh_seconds":60,"unknown_kid_refetch_seconds":30,"max_wait_ms":3000}`

func startRemote(t *testing.T, d *idp, keys string, workers int, clock host.Clock) *EnvoyHost {
	t.Helper()
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: remoteConfig(keys), SkipCanary: true, Workers: workers, Clock: clock,
		PluginName: "wasm-authn", Clusters: map[string]string{"outbound|443||idp.test": d.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1500; i++ { // 15 s: these machines can be slow
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Keys are fetched at configuration through a callout to the named
// cluster; a request that arrives first waits, paused, for them.
func TestRemoteJWKS(t *testing.T) {
	d := newIdP(t)
	e := startRemote(t, d, remoteJWKS, 1, nil)
	if r := e.Do(Get("api.test", "/x", bearer(token(t, "RS256", nil, nil)))); !r.Allowed() {
		t.Fatalf("status %d %s", r.Status(), r.Local.Body)
	}
	if n := d.hits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times; want 1", n)
	}
	if e.Counter("wasm_authn.provider.idp.jwks_fetch.success") != 1 {
		t.Errorf("jwks_fetch.success = %d", e.Counter("wasm_authn.provider.idp.jwks_fetch.success"))
	}
}

// OIDC discovery: the discovery document names the JWKS; both are fetched
// through the same cluster.
func TestRemoteDiscovery(t *testing.T) {
	d := newIdP(t)
	e := startRemote(t, d, `"oidc_discovery":{"cluster":"outbound|443||idp.test","timeout_ms":500,"max_wait_ms":3000}`, 1, nil)
	if r := e.Do(Get("api.test", "/x", bearer(token(t, "ES256", nil, nil)))); !r.Allowed() {
		t.Fatalf("status %d %v", r.Status(), r.Local)
	}
	if d.disco.Load() != 1 || d.hits.Load() != 1 {
		t.Errorf("discovery fetched %d, JWKS %d times; want 1 and 1", d.disco.Load(), d.hits.Load())
	}
}

// OIDC discovery whose jwks_uri names another host (as Google's does):
// with jwks_cluster, the document comes from the issuer's cluster and the
// keys from the other; without it, both calls go to the issuer's cluster,
// which here does not serve the keys' host, and the request is refused.
func TestRemoteDiscoveryJWKSCluster(t *testing.T) {
	var keyHits atomic.Int64
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "idp.test" || r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":"https://keys.test/oauth2/certs"}`, testIssuer)
	}))
	defer issuer.Close()
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "keys.test" || r.URL.Path != "/oauth2/certs" {
			http.NotFound(w, r)
			return
		}
		keyHits.Add(1)
		fmt.Fprint(w, jwksOf(t, ""))
	}))
	defer keys.Close()
	clusters := map[string]string{"outbound|443||idp.test": issuer.URL, "outbound|443||keys.test": keys.URL}
	start := func(disco string) *EnvoyHost {
		e, err := NewEnvoyHost(t, host.Config{PluginConfig: remoteConfig(`"oidc_discovery":{` + disco + `,"timeout_ms":500,"max_wait_ms":3000}`),
			SkipCanary: true, PluginName: "wasm-authn", Clusters: clusters})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tok := token(t, "ES256", nil, nil)
	e := start(`"cluster":"outbound|443||idp.test","jwks_cluster":"outbound|443||keys.test"`)
	if r := e.Do(Get("api.test", "/x", bearer(tok))); !r.Allowed() {
		t.Fatalf("with jwks_cluster: status %d %v", r.Status(), r.Local)
	}
	if keyHits.Load() != 1 {
		t.Fatalf("keys fetched %d times; want 1", keyHits.Load())
	}
	e = start(`"cluster":"outbound|443||idp.test"`)
	if r := e.Do(Get("api.test", "/x", bearer(tok))); r.Status() != 401 {
		t.Fatalf("without jwks_cluster: status %d; want 401", r.Status())
	}
	if keyHits.Load() != 1 {
		t.Fatalf("keys fetched %d times; want still 1", keyHits.Load())
	}
}

// A remote key set in Google's other format, a map of kid to PEM X.509
// certificate (Firebase's robot/v1/metadata/x509/... serves it), is read
// as the certificates' keys.
func TestRemoteCertificateMap(t *testing.T) {
	certs := map[string]string{}
	for _, alg := range []string{"RS256", "ES256"} {
		k := genKeys(t)[alg]
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: k.kid},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.signer.Public(), k.signer)
		if err != nil {
			t.Fatal(err)
		}
		certs[k.kid] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	doc, _ := json.Marshal(certs)
	d := newIdP(t)
	d.set(string(doc), 200, 0)
	e := startRemote(t, d, remoteJWKS, 1, nil)
	for _, alg := range []string{"RS256", "ES256"} {
		if r := e.Do(Get("api.test", "/x", bearer(token(t, alg, nil, nil)))); !r.Allowed() {
			t.Errorf("%s: status %d %v", alg, r.Status(), r.Local)
		}
	}
	if r := e.Do(Get("api.test", "/x", bearer(token(t, "EdDSA", nil, nil)))); r.Status() != 401 {
		t.Errorf("a kid the map lacks: status %d; want 401", r.Status())
	}
}

// Key rotation: a token naming a new kid makes the plugin refetch (at
// most once per unknown_kid_refetch_seconds) while the request waits.
func TestRemoteJWKSRotation(t *testing.T) {
	d := newIdP(t)
	e := startRemote(t, d, remoteJWKS, 1, nil)
	eventually(t, "the first fetch", func() bool { return e.Counter("wasm_authn.provider.idp.jwks_fetch.success") == 1 })
	d.set(jwksOf(t, "-v2"), 200, 0)
	rotated := token(t, "ES256", nil, map[string]any{"kid": "p256-v2"})
	if r := e.Do(Get("api.test", "/x", bearer(rotated))); !r.Allowed() {
		t.Fatalf("new kid: status %d %v", r.Status(), r.Local)
	}
	if d.hits.Load() != 2 {
		t.Fatalf("JWKS fetched %d times; want 2", d.hits.Load())
	}
	// Another unknown kid within the interval: no refetch, 401.
	if r := e.Do(Get("api.test", "/x", bearer(token(t, "ES256", nil, map[string]any{"kid": "p256-v3"})))); r.Status() != 401 {
		t.Fatalf("second unknown kid: status %d; want 401", r.Status())
	}
	if d.hits.Load() != 2 {
		t.Fatalf("refetched within the interval: %d fetches", d.hits.Load())
	}
	// The old kid is gone after rotation.
	if r := e.Do(Get("api.test", "/x", bearer(token(t, "ES256", nil, nil)))); r.Status() != 401 {
		t.Fatalf("removed kid: status %d; want 401", r.Status())
	}
}

// An IdP outage after keys were fetched: refreshes fail, the last good
// keys are still served, and the stale_keys gauge says so.
func TestRemoteJWKSOutageServesStaleKeys(t *testing.T) {
	clock := host.NewManualClock(time.Now())
	d := newIdP(t)
	e := startRemote(t, d, remoteJWKS, 1, clock)
	eventually(t, "the first fetch", func() bool { return e.Counter("wasm_authn.provider.idp.jwks_fetch.success") == 1 })
	d.set("", 503, 0)
	clock.Advance(2 * time.Minute) // past refresh_seconds
	e.VM(0).Tick()
	eventually(t, "the failed refresh", func() bool { return e.Counter("wasm_authn.provider.idp.jwks_fetch.failure") == 1 })
	e.VM(0).Tick()
	if v, _, _ := e.Metric("wasm_authn.provider.idp.stale_keys"); v != 1 {
		t.Errorf("stale_keys = %d; want 1", v)
	}
	tok := token(t, "RS256", map[string]any{"iat": clock.Now().Unix(), "exp": clock.Now().Add(time.Hour).Unix()}, nil)
	if r := e.Do(Get("api.test", "/x", bearer(tok))); !r.Allowed() {
		t.Fatalf("stale keys not served: %d", r.Status())
	}
	// The IdP recovers.
	d.set(jwksOf(t, ""), 200, 0)
	clock.Advance(2 * time.Minute)
	e.VM(0).Tick()
	eventually(t, "the recovery", func() bool { return e.Counter("wasm_authn.provider.idp.jwks_fetch.success") == 2 })
	e.VM(0).Tick()
	if v, _, _ := e.Metric("wasm_authn.provider.idp.stale_keys"); v != 0 {
		t.Errorf("stale_keys = %d after recovery; want 0", v)
	}
}

// With no keys yet, a slow IdP (timeout: Envoy answers the callout with a
// 504) or a malformed JWKS fails requests closed with 401 and a reason.
func TestRemoteJWKSUnavailableFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		jwks  string
		code  int
		delay time.Duration
	}{
		{"slow IdP", jwksOf(t, ""), 200, 1500 * time.Millisecond},
		{"malformed JWKS", `{"keys":[{"kty":"RSA","n":"!!"}`, 200, 0},
		{"IdP error", "oops", 500, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newIdP(t)
			d.set(tc.jwks, tc.code, tc.delay)
			e := startRemote(t, d, remoteJWKS, 1, nil)
			r := e.Do(Get("api.test", "/x", bearer(token(t, "RS256", nil, nil))))
			if r.Status() != 401 || !strings.Contains(challengeOf(r), `error="invalid_token"`) {
				t.Fatalf("status %d, challenge %q; want 401 invalid_token", r.Status(), challengeOf(r))
			}
			if !strings.Contains(string(r.Local.Body), "key") {
				t.Errorf("body %s does not say why", r.Local.Body)
			}
			if e.Counter("wasm_authn.provider.idp.jwks_fetch.failure") == 0 {
				t.Errorf("no failed fetch counted")
			}
		})
	}
}

// Two worker VMs share fetched keys through shared data: a refresh is
// fetched by one VM, under a compare-and-swap lock, and serves both.
func TestRemoteJWKSSharedAcrossWorkers(t *testing.T) {
	clock := host.NewManualClock(time.Now())
	d := newIdP(t)
	e := startRemote(t, d, remoteJWKS, 2, clock)
	// At start-up each VM fetches unless another VM's keys are already in
	// shared data.
	eventually(t, "the start-up fetches", func() bool {
		n := d.hits.Load()
		return n >= 1 && int64(e.Counter("wasm_authn.provider.idp.jwks_fetch.success")) == n
	})
	start := d.hits.Load()
	successes := e.Counter("wasm_authn.provider.idp.jwks_fetch.success")
	d.set(jwksOf(t, "-v2"), 200, 0)
	clock.Advance(2 * time.Minute)
	e.VM(0).Tick()
	e.VM(1).Tick() // the lock is held: VM 1 does not fetch
	eventually(t, "the refresh", func() bool { return d.hits.Load() == start+1 })
	eventually(t, "the refresh response", func() bool { return e.Counter("wasm_authn.provider.idp.jwks_fetch.success") == successes+1 })
	e.VM(1).Tick() // picks up VM 0's keys from shared data
	rotated := token(t, "ES256", map[string]any{"iat": clock.Now().Unix(), "exp": clock.Now().Add(time.Hour).Unix()}, map[string]any{"kid": "p256-v2"})
	for i := 0; i < 2; i++ {
		if r := DoOn(e.VM(i), host.Connection{}, Get("api.test", "/x", bearer(rotated))); !r.Allowed() {
			t.Fatalf("VM %d: status %d", i, r.Status())
		}
	}
	if got := d.hits.Load(); got != start+1 {
		t.Fatalf("JWKS fetched %d times for the refresh; want once for both VMs", got-start)
	}
}

// A request that waits for keys until max_wait_ms runs out is refused with
// 401 invalid_token and its Bearer challenge.
func TestRemoteJWKSWaitRunsOut(t *testing.T) {
	d := newIdP(t)
	d.set(jwksOf(t, ""), 200, 2*time.Second) // slower than max_wait_ms, faster than the timeout
	e := startRemote(t, d, `"remote_jwks":{"cluster":"outbound|443||idp.test","uri":"https://idp.test/keys/jwks.json","timeout_ms":5000,"max_wait_ms":300}`, 1, nil)
	done := make(chan Result, 1)
	go func() { done <- e.Do(Get("api.test", "/x", bearer(token(t, "RS256", nil, nil)))) }()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-done:
			if r.Status() != 401 || !strings.Contains(challengeOf(r), `error="invalid_token"`) {
				t.Fatalf("status %d, challenge %q; want 401 invalid_token", r.Status(), challengeOf(r))
			}
			return
		case <-deadline:
			t.Fatal("the paused request was never answered")
		case <-time.After(50 * time.Millisecond):
			e.VM(0).Tick() // the deadline is checked on ticks
		}
	}
}
