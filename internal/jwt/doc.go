// Package jwt is the JWT bearer-token provider (RFC 6750, RFC 7519,
// RFC 9068): it finds the token in a request, verifies its JWS signature
// (RFC 7515, RFC 7518, RFC 8037) with static or fetched keys (RFC 7517),
// validates its claims, and turns it into an authn.Identity. It never
// touches the proxy-wasm ABI: the filter fetches remote keys, pauses
// requests and offers Envoy's native signature check through interfaces
// defined here.
//
// # Fail closed
//
// A token is accepted only if every step passes, in this fixed order:
//
//  1. Extraction: exactly one token over the configured sources
//     (Authorization: Bearer, a header with an optional prefix, a query
//     parameter, a cookie); two are 400 invalid_request, even if equal.
//  2. Structure (parseUnsafe): three base64url segments; the header a
//     strict JSON object (no duplicate member names); "alg" in the
//     provider's allow-list (fixed at configure time, never "none"; HS*
//     only with an explicitly configured secret); no "crit"; no
//     "b64": false; not JWE; no nested JWT. "jwk", "jku", "x5u", "x5c" and
//     "x5t" are ignored: keys come only from configuration.
//  3. Key choice (KeySet.candidates): by "kid" and by the key type the
//     algorithm needs; never every key.
//  4. Signature: size checks (ECDSA raw R||S of the curve's size with r
//     and s in [1, n-1]; RSA of the modulus size, modulus ≥ 2048 bits by
//     default), then the host's SignatureVerifier if it handles the
//     algorithm, else golang-jwt's signing method in Wasm. A host "invalid" is final.
//  5. Claims, parsed once (strict JSON, no duplicates) into *Claims and
//     checked in order: typ, iss, aud, exp, nbf, iat, lifetime, claim
//     matchers. The same parse feeds rule constraints and the headers sent
//     upstream.
//
// Every rejection is a Failure with a fixed authn.Reason, HTTP status and
// RFC 6750 error code; descriptions never echo the token.
//
// # JOSE library: golang-jwt v5, for the signature step
//
// We compared go-jose v4.1.9, golang-jwt v5.3.1 and jwx v3.4.0 on their
// security record, the size they add to a Wasm module, and speed, and
// chose golang-jwt. Its SigningMethod values verify a signature given the
// signing input, the signature and a key, so they slot into this package's
// own order of checks; they check every RS*, PS*, ES* and EdDSA signature
// verified in Wasm. Its token parser (jwt.Parse and friends) is not used,
// nor its HS* methods: see verifyMAC, which keeps the HMAC keyed per
// secret instead of keying one per token, and so halves HS256's cost.
//
// Size. A wasip1 c-shared module that verifies RS256/PS256/ES256/EdDSA/
// HS256 and parses a PEM key (crypto/*, crypto/x509, encoding/json) is
// 5,448,049 bytes stripped (-ldflags=-s; 2,208,058 for an empty module).
// Doing the same through each library instead, measured the same way
// (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, Go 1.26.8):
//
//	crypto/* only                            5,448,049 bytes
//	golang-jwt v5.3.1                        5,811,067 (+363 KB)
//	go-jose v4.1.9 (+ JWKS parsing)          6,499,670 (+1,052 KB)
//	jwx v3.4.0 (+ JWKS parsing)              8,990,410 (+3,542 KB)
//
// In the plugin, golang-jwt's signing methods added 128,805 bytes
// (8,033,760 -> 8,162,565, unstripped). Every VM of every Envoy worker
// loads the module, so size is memory and start-up time times the worker
// count. The cost worth knowing: golang-jwt imports crypto/x509, whose os
// dependency makes the module import WASI path_filestat_get, which hosts
// before proxy-wasm-cpp-host PR #533 (Envoy < 1.39) lack; those were
// unsupported already (see the README).
//
// Speed. All three wrap the same crypto/rsa, crypto/ecdsa and
// crypto/ed25519 calls, so the signature check dominates and they differ
// in parsing. go-jose and jwx verify only through their own parse of the
// whole token, which would be a second parse of attacker input next to the
// strict one below, with more allocations per verification (natively: 58
// for crypto/* plus encoding/json, 67 golang-jwt, 105 jwx, 114 go-jose).
// golang-jwt's signing methods need no parse at all, and leave room for
// the host's native verify_signature, which no library can call. In Wasm,
// RS256's signature step stayed at about 250-270 µs with golang-jwt,
// within run-to-run noise; HS256's went from 11.1 to 12.5 µs with
// golang-jwt's method (it keys a new HMAC per token, as go-jose and jwx
// do), and to 5.6-7.7 µs with verifyMAC.
//
// Security record. Each library has had denial-of-service advisories in
// token parsing (go-jose CVE-2025-27144 and golang-jwt CVE-2025-30204:
// strings.Split on attacker-controlled dots; jwx CVE-2024-21664: a nil
// dereference in jws.Parse) and in JWE (go-jose CVE-2024-28180, jwx
// CVE-2023-49290). golang-jwt's was in the parser this package does not
// call. None of their JOSE-level policies match what this provider must
// enforce: go-jose accepts "b64": false when it is listed in "crit";
// golang-jwt verifies PS* with any salt length and leaves key-type checks
// to the caller's key function; all three resolve duplicate JSON members
// silently (last one wins). So the checks stay here, around the library:
// PS* uses golang-jwt's method with the salt fixed to the hash size
// (strictPSS, RFC 7518 §3.5); the key's type and curve are matched to the
// algorithm when it is chosen; ECDSA signatures are checked for size and
// for r, s in [1, n-1] before the library sees them.
//
// The rest of the request path is a small compact-JWS parser (no
// splitting: one pass that counts dots, so a token of dots costs nothing;
// the three segments decoded into one buffer) and a strict JSON scanner
// (scanObject): one pass validates the header or the claims (RFC 8259
// grammar, UTF-8, depth, no duplicate member names at any depth) and lists
// the top-level members, which are read directly. gjson reads claim paths
// and arrays afterwards; since duplicates were refused, it cannot read a
// value another parser would not. golang-jwt has no JWK support; JWKs are parsed here,
// strictly (ParseJWKS), and checked against go-jose's JWK parser as an
// independent oracle in the tests. DER public keys (PEM configuration, and
// Key.SPKI for the host) are read and written with
// golang.org/x/crypto/cryptobyte. golang-jwt also signs the test tokens,
// through its own API, and go-jose signs the DPoP proofs in tests.
//
// # Cost
//
// A full uncached Authenticate (extraction, parsing, key choice,
// signature, claims, one claim header), in Wasm (wazero's compiler, Go
// 1.26.8, this machine, whose speed varies by up to 50% from run to run:
// typical figures) and natively (amd64), from BenchmarkVerify:
//
//	        Wasm       native
//	RS256   0.29 ms    36 µs   (PS256 0.29 ms)
//	ES256   1.05 ms    68 µs
//	ES384   3.8 ms     0.52 ms
//	ES512   46-75 ms   1.6 ms  (P-521 has no assembly in Wasm)
//	EdDSA   0.5 ms     49 µs
//	HS256   22 µs      3 µs    (the keyed HMAC about 6 µs of it)
//	cache hit           14-19 µs   1 µs (mostly the token's SHA-256)
//	"alg":"none" reject 8-10 µs    1 µs (no signature work)
//
// BenchmarkSteps splits HS256's cost in Wasm: extraction 1.1 µs, parsing
// (base64url and the header) 4.4, key choice 0.2, signature 7.2, claims
// 5.3, claim checks 0.3, one claim header 0.9.
//
// The signature is 85-100% of an asymmetric verification (x-primitive in
// the benchmarks is the ratio to the bare check). Hence the cache, and the
// host's SignatureVerifier: Envoy's BoringSSL checks RS256 and ES256 in
// tens of microseconds. ES512 deserves care: a provider whose keys include
// a P-521 key and which allows ES512 (the default list does) lets every
// forged ES512 token naming that key cost 46 ms of the worker thread when
// the host cannot verify it; Provider.SlowAlgorithms reports it and the
// configuration warns. Tokens whose kid or type matches no key cost no
// signature work at all.
//
// # How the filter uses a Provider
//
// Per VM, in proxy_on_configure: config.Load builds the Provider; the
// filter calls SetSignatureVerifier with its verify_signature bridge (or
// leaves it nil), and, when Remote() is not nil, drives KeyStore():
//
//	ks := p.KeyStore()
//	if ks.NeedFetch(now) {            // on ticks and on requests
//		f := ks.Target()              // cluster, :authority, :path, timeout
//		dispatch proxy_http_call(f.Cluster, GET f.Path, f.Authority, f.Timeout)
//		ks.Begin(now)
//	}
//	// in the call's callback:
//	status 200 and body ≤ MaxJWKSBytes:
//		if f.Discovery { ks.UpdateDiscovery(body, now) } else { ks.Update(body, now) }
//	otherwise: ks.Fail(now)
//
// Keys fetched by one VM may be shared with the others (proxy shared data):
// a VM that reads a body from shared data calls Update with it too; the
// generation returned by Keys tells whether anything changed.
//
// Authenticate returns authn.Pending while keys have not arrived yet (or a
// refetch for an unknown kid is under way): the filter pauses the request,
// and when the store changes (or on a tick) asks again; a request that
// waited RemoteSpec.MaxWait is denied with p.Unavailable() (401 invalid_token). While no
// keys have ever been fetched and a fetch has failed, Authenticate answers
// 401 at once. The gauge "stale keys" is KeyStore.Stale.
//
// Verdicts carry CacheHit/CacheMiss for the verified-token cache (see
// Options.CacheEntries). When the token came from a cookie, Strip names it
// in authn.Edit.RemoveCookies; RemoveCookies rewrites a Cookie header.
//
// # Standards
//
// RFC 6750 §2.1 (Authorization: Bearer), §2.3 (query), §3 (challenges and
// error codes); RFC 7515 (JWS: compact serialization §7.1, crit §4.1.11);
// RFC 7517 (JWK, JWKS); RFC 7518 §3 (algorithms; PS* salt = hash size,
// §3.5; HMAC key ≥ hash size, §3.2); RFC 7519 §4.1 (registered claims);
// RFC 7797 (b64, rejected); RFC 8037 (EdDSA with Ed25519); RFC 9864 §2.2
// (its fully specified name, Ed25519); RFC 8725 §3.1 (algorithm
// verification); RFC 9068 (at+jwt); RFC 9470 (step-up); RFC 8707
// (resource indicators); OpenID Connect Discovery 1.0 §3-4.
package jwt
