package jwt

import (
	"crypto/ecdsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// jwkOf renders a fixture's public key as a JWK.
func jwkOf(t testing.TB, name, kid string) string {
	t.Helper()
	k := privateKey(t, name).(*ecdsa.PrivateKey)
	raw, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	size := (len(raw) - 1) / 2
	return mustJSON(t, map[string]string{"kty": "EC", "crv": k.Curve.Params().Name, "kid": kid,
		"x": base64.RawURLEncoding.EncodeToString(raw[1 : 1+size]), "y": base64.RawURLEncoding.EncodeToString(raw[1+size:])})
}

func jwks(keys ...string) []byte { return []byte(`{"keys":[` + strings.Join(keys, ",") + `]}`) }

func testSpec() *RemoteSpec {
	return &RemoteSpec{
		Cluster: "idp", URI: "https://idp.example/jwks", Authority: "idp.example", Path: "/jwks",
		Timeout: time.Second, Refresh: 10 * time.Minute, UnknownKIDInterval: 30 * time.Second, MaxWait: time.Second,
	}
}

func TestKeyStoreFetchAndRefresh(t *testing.T) {
	s := NewKeyStore(testSpec(), DefaultMinRSABits)
	t0 := testNow
	if s.Ready() || !s.NeedFetch(t0) {
		t.Fatalf("new store: ready %v, need %v; want false, true", s.Ready(), s.NeedFetch(t0))
	}
	if f := s.Target(); f.Cluster != "idp" || f.Authority != "idp.example" || f.Path != "/jwks" || f.Discovery || f.Timeout != time.Second {
		t.Fatalf("Target = %+v", f)
	}
	s.Begin(t0)
	if s.NeedFetch(t0.Add(time.Millisecond)) {
		t.Fatal("NeedFetch while a fetch is in flight")
	}
	if err := s.Update(jwks(jwkOf(t, "ec256", "a")), t0.Add(10*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	set, gen := s.Keys()
	if !s.Ready() || s.Stale() || set.Len() != 1 || gen != 1 {
		t.Fatalf("after fetch: ready %v stale %v keys %d gen %d", s.Ready(), s.Stale(), set.Len(), gen)
	}
	if s.NeedFetch(t0.Add(9 * time.Minute)) {
		t.Fatal("NeedFetch before the refresh interval")
	}
	refresh := t0.Add(10*time.Minute + 10*time.Millisecond)
	if !s.NeedFetch(refresh) || !s.NextFetch().Equal(refresh) {
		t.Fatalf("NeedFetch at refresh = false (next %v)", s.NextFetch())
	}
	// The same keys again: the generation does not change.
	s.Begin(refresh)
	if err := s.Update(jwks(jwkOf(t, "ec256", "a")), refresh); err != nil {
		t.Fatal(err)
	}
	if _, gen := s.Keys(); gen != 1 {
		t.Fatalf("gen = %d after an identical set; want 1", gen)
	}
	// Rotated keys: it does.
	if err := s.Update(jwks(jwkOf(t, "ec256b", "b")), refresh); err != nil {
		t.Fatal(err)
	}
	if set, gen := s.Keys(); gen != 2 || set.Keys()[0].ID != "b" {
		t.Fatalf("after rotation: gen %d", gen)
	}
}

func TestKeyStoreOutageServesStaleKeys(t *testing.T) {
	s := NewKeyStore(testSpec(), DefaultMinRSABits)
	t0 := testNow
	s.Begin(t0)
	if err := s.Update(jwks(jwkOf(t, "ec256", "a")), t0); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(11 * time.Minute)
	s.Begin(t1)
	s.Fail(t1)
	if set, _ := s.Keys(); !s.Ready() || !s.Stale() || set.Len() != 1 {
		t.Fatalf("after failure: ready %v stale %v keys %d; want the last good keys, stale", s.Ready(), s.Stale(), set.Len())
	}
	// Backoff: 1 s, 2 s, 4 s, ... at most a minute.
	if s.NeedFetch(t1.Add(500*time.Millisecond)) || !s.NeedFetch(t1.Add(time.Second)) {
		t.Fatal("first retry not after 1 s")
	}
	now, last := t1, t1
	for i := 0; i < 10; i++ {
		last = now
		s.Begin(now)
		s.Fail(now)
		now = s.NextFetch()
	}
	if got := now.Sub(last); got != time.Minute {
		t.Fatalf("backoff after 10 failures = %v; want the 1 min cap", got)
	}
	// Malformed answers are failures too and keep the keys.
	for _, body := range []string{`not json`, `{"keys":{}}`, `{"keys":[]}`, `{"keys":[{"kty":"oct","k":"AAAA"}]}`, `{"keys":[],"keys":[]}`} {
		if err := s.Update([]byte(body), now); err == nil {
			t.Errorf("Update(%q) = nil; want an error", body)
		}
		if set, _ := s.Keys(); set.Len() != 1 || !s.Stale() {
			t.Errorf("Update(%q) dropped the last good keys", body)
		}
	}
	// Recovery clears Stale.
	if err := s.Update(jwks(jwkOf(t, "ec256", "a")), now); err != nil || s.Stale() {
		t.Fatalf("recovery: %v, stale %v", err, s.Stale())
	}
}

func TestKeyStoreUnknownKIDRateLimit(t *testing.T) {
	s := NewKeyStore(testSpec(), DefaultMinRSABits)
	t0 := testNow
	if s.OnUnknownKID(t0) {
		t.Fatal("OnUnknownKID before any keys: the first fetch is already due")
	}
	s.Begin(t0)
	_ = s.Update(jwks(jwkOf(t, "ec256", "a")), t0)
	if !s.OnUnknownKID(t0.Add(time.Second)) || !s.NeedFetch(t0.Add(time.Second)) {
		t.Fatal("first unknown kid does not schedule a refetch")
	}
	s.Begin(t0.Add(time.Second))
	if !s.OnUnknownKID(t0.Add(2 * time.Second)) {
		t.Fatal("while the refetch is in flight, a request may wait for it")
	}
	_ = s.Update(jwks(jwkOf(t, "ec256", "a")), t0.Add(2*time.Second))
	if s.OnUnknownKID(t0.Add(10*time.Second)) || s.NeedFetch(t0.Add(10*time.Second)) {
		t.Fatal("a second unknown kid within the interval refetches")
	}
	if !s.OnUnknownKID(t0.Add(31 * time.Second)) {
		t.Fatal("no refetch after the interval")
	}
	static := NewStaticKeyStore(testKeys(t))
	if static.OnUnknownKID(t0) || static.NeedFetch(t0) || !static.Ready() {
		t.Fatal("a static store fetches")
	}
}

// A call that never calls back stops blocking after twice its timeout.
func TestKeyStoreLostCall(t *testing.T) {
	s := NewKeyStore(testSpec(), DefaultMinRSABits)
	s.Begin(testNow)
	if s.NeedFetch(testNow.Add(time.Second)) || !s.NeedFetch(testNow.Add(2*time.Second)) {
		t.Fatal("a lost call blocks fetching forever")
	}
}

func TestKeyStoreDiscovery(t *testing.T) {
	spec := testSpec()
	spec.Discovery, spec.Issuer, spec.Path = true, "https://idp.example", "/.well-known/openid-configuration"
	s := NewKeyStore(spec, DefaultMinRSABits)
	if f := s.Target(); !f.Discovery || f.Path != "/.well-known/openid-configuration" {
		t.Fatalf("Target = %+v; want the discovery document", f)
	}
	s.Begin(testNow)
	for _, bad := range []string{
		`{"issuer":"https://evil.example","jwks_uri":"https://idp.example/keys"}`,
		`{"issuer":"https://idp.example"}`,
		`{"issuer":"https://idp.example","jwks_uri":"ftp://idp.example/keys"}`,
		`{"issuer":"https://idp.example","issuer":"https://idp.example","jwks_uri":"https://idp.example/keys"}`,
	} {
		if err := s.UpdateDiscovery([]byte(bad), testNow); err == nil {
			t.Errorf("UpdateDiscovery(%s) = nil; want an error", bad)
		}
	}
	if s.Ready() || !s.Failing() {
		t.Fatal("after failed discovery: want not ready and failing")
	}
	if err := s.UpdateDiscovery([]byte(`{"issuer":"https://idp.example","jwks_uri":"https://keys.idp.example/certs?v=2"}`), testNow); err != nil {
		t.Fatal(err)
	}
	if f := s.Target(); f.Discovery || f.Authority != "keys.idp.example" || f.Path != "/certs?v=2" || f.Cluster != "idp" || !s.NeedFetch(testNow) {
		t.Fatalf("after discovery: Target = %+v", f)
	}

	// With a JWKS cluster, the document comes from the issuer's cluster and
	// the keys from the other.
	spec.JWKSCluster = "keys"
	s = NewKeyStore(spec, DefaultMinRSABits)
	if f := s.Target(); !f.Discovery || f.Cluster != "idp" {
		t.Fatalf("Target = %+v; want the discovery document from cluster idp", f)
	}
	s.Begin(testNow)
	if err := s.UpdateDiscovery([]byte(`{"issuer":"https://idp.example","jwks_uri":"https://keys.idp.example/certs"}`), testNow); err != nil {
		t.Fatal(err)
	}
	if f := s.Target(); f.Discovery || f.Authority != "keys.idp.example" || f.Cluster != "keys" {
		t.Fatalf("after discovery: Target = %+v; want the JWKS from cluster keys", f)
	}
}

func TestSplitURI(t *testing.T) {
	tests := []struct{ uri, authority, path string }{
		{"https://idp.example/jwks", "idp.example", "/jwks"},
		{"http://idp.example:8080", "idp.example:8080", "/"},
		{"https://[::1]:8443/a%20b?x=1&y=2", "[::1]:8443", "/a%20b?x=1&y=2"},
	}
	for _, tt := range tests {
		a, p, err := SplitURI(tt.uri)
		if err != nil || a != tt.authority || p != tt.path {
			t.Errorf("SplitURI(%q) = %q, %q, %v; want %q, %q", tt.uri, a, p, err, tt.authority, tt.path)
		}
	}
	for _, bad := range []string{"", "idp.example/jwks", "ftp://x/y", "https:///x", "https://u@x/y", "https://x/y#f", "mailto:a@b"} {
		if _, _, err := SplitURI(bad); err == nil {
			t.Errorf("SplitURI(%q) = nil error", bad)
		}
	}
}

// The provider over a remote store: Pending until keys arrive, 401 when the
// first fetch failed, Pending again for an unknown kid (once per interval).
func TestProviderRemoteKeys(t *testing.T) {
	p := newProvider(t, func(o *Options) { o.Keys, o.Remote = nil, testSpec() })
	ks := p.KeyStore()
	tok := token(t, "ES256", claims(), "kid", "a")
	if v := p.Authenticate(bearer(tok)); v.Outcome != authn.Pending {
		t.Fatalf("before keys: %v; want Pending", v.Outcome)
	}
	ks.Begin(testNow)
	ks.Fail(testNow)
	wantFailure(t, p.Authenticate(bearer(tok)), FailKeysUnavailable, tok)
	if e := p.Unavailable(); e.HTTPStatus() != 401 {
		t.Fatalf("Unavailable = %d", e.HTTPStatus())
	}
	if err := ks.Update(jwks(jwkOf(t, "ec256", "a")), testNow); err != nil {
		t.Fatal(err)
	}
	if v := p.Authenticate(bearer(tok)); v.Outcome != authn.Valid {
		t.Fatalf("with keys: %v %v", v.Outcome, v.Err)
	}
	// A key rotated in before the refresh: the first request waits for
	// one refetch; after it the kid is still unknown and is rejected.
	rotated := rawToken(t, "ES256", "ec256b", `{"alg":"ES256","kid":"b"}`, mustJSON(t, claims()))
	if v := p.Authenticate(bearer(rotated)); v.Outcome != authn.Pending || !ks.NeedFetch(testNow) {
		t.Fatalf("unknown kid: %v; want Pending and a fetch", v.Outcome)
	}
	ks.Begin(testNow)
	_ = ks.Update(jwks(jwkOf(t, "ec256", "a")), testNow)
	wantFailure(t, p.Authenticate(bearer(rotated)), FailUnknownKID, rotated)
	// After the interval, the rotated key is there.
	later := bearer(rotated)
	later.Now = testNow.Add(31 * time.Second)
	if v := p.Authenticate(later); v.Outcome != authn.Pending {
		t.Fatalf("after the interval: %v; want Pending", v.Outcome)
	}
	ks.Begin(later.Now)
	_ = ks.Update(jwks(jwkOf(t, "ec256", "a"), jwkOf(t, "ec256b", "b")), later.Now)
	if v := p.Authenticate(later); v.Outcome != authn.Valid {
		t.Fatalf("after rotation: %v %v", v.Outcome, v.Err)
	}
}
