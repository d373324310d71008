// Package dpop verifies DPoP proofs (RFC 9449, OAuth 2.0 Demonstrating
// Proof of Possession) and the binding of access tokens to their keys. It
// is pure: it never touches the proxy-wasm ABI and reads no configuration
// JSON. The filter gives it the request's pieces, the access token's
// "cnf" claim, a clock, and proxy-wasm shared data through an interface.
//
// # How the filter uses it
//
// In proxy_on_request_headers, for "Authorization: DPoP <token>":
//
//	proof, f := dpop.ProofHeader(req.Values("dpop"))   // exactly one DPoP header
//	// verify the access token itself (jwt provider): signature, claims
//	htu, err := dpop.HTU(req.Scheme, req.Authority, req.Path) // on error: htu = ""
//	p, f := dpop.Verify(proof, dpop.Request{Method: req.Method, HTU: htu,
//		AccessToken: token, Nonces: current, Now: req.Now}, opts)
//	f = dpop.CheckBinding(dpop.Confirmation(claims), p.Thumbprint) // cnf.jkt
//	f = dpop.CheckReplay(store, p)                                // last
//
// and any Failure f is answered with opts.Deny(f, currentNonce): its Err
// carries the status, error code and WWW-Authenticate challenge, and its
// Nonce the DPoP-Nonce header to send with use_dpop_nonce. A token
// presented with "Bearer" while IsBound(Confirmation(claims)) is refused
// with FailBoundTokenAsBearer (RFC 9449 §7.2). The order matters for cost
// and for the store: the access token is verified first (the proof's key
// is chosen by the client, so every proof costs a signature check, and
// only a valid token should buy one), and replay is checked last, so that
// only proofs bound to a valid token take room in the replay store.
//
// # What Verify checks, in order (RFC 9449 §4.3)
//
//  1. The proof: not empty, at most Options.MaxProofBytes (8 KiB).
//  2. The compact JWS, parsed by package jwt's strict parser (the one
//     access tokens go through): three base64url segments, a header that
//     is a strict JSON object (no member name repeated at any depth), no
//     JWE, "crit", "b64": false or nested JWT, "alg" not "none".
//  3. "typ" exactly "dpop+jwt": RFC 9449 registers this value, so no
//     case variant or "application/" prefix is accepted.
//  4. "alg" in the allow-list and asymmetric. By default ES256, ES384,
//     EdDSA, Ed25519, PS256 and RS256 (DefaultAlgorithms); ES512 only when
//     listed; HS* and "none" never, whatever is configured.
//  5. "jwk": present, an object without private or symmetric members ("d",
//     "p", "q", "dp", "dq", "qi", "oth", "k", kty "oct"), a public key
//     (RSA, EC P-256/384/521, Ed25519) that jwt.ParseJWK accepts, RSA
//     integers in their minimal encoding, of the type and curve "alg"
//     needs (and the jwk's own "alg", if any), RSA between 2048 and 4096
//     bits by default (never under 2048).
//  6. The signature with that key: the host's jwt.SignatureVerifier
//     (Envoy's verify_signature) when Options.Verifier is set and handles
//     it, else Go's crypto. A host "invalid" is final.
//  7. The claims, parsed once as a strict JSON object, in order: "jti" (a
//     non-empty string of at most 128 bytes), "htm" (exactly the method),
//     "htu" (equal to the request's URI after normalization), "iat"
//     (at most MaxAge, 60 s, in the past and FutureSkew, 5 s, in the
//     future), "ath" (base64url(SHA-256(access token)), compared as
//     digests in constant time; required whenever a token is presented),
//     "nonce" (one of Request.Nonces, when the caller requires one).
//
// Verify returns the key's RFC 7638 thumbprint (Thumbprint), the jti, the
// iat and Expires = iat + MaxAge, after which the proof is refused as too
// old and its jti may be forgotten.
//
// # The request's URI
//
// HTU rebuilds the request's URI from :scheme, :authority and :path, and
// Verify normalizes the proof's "htu" the same way before comparing them:
// query and fragment dropped (on both sides: RFC 9449 §4.3 compares
// "ignoring any query and fragment parts"), scheme and host lower-cased,
// the default port (and an empty one) removed, percent-encoding
// normalized (hex upper-cased, unreserved characters decoded), dot
// segments removed: RFC 3986 §6.2.2 and §6.2.3, as RFC 9449 §4.3 advises.
// Userinfo, schemes other than http and https, and paths that are not in
// origin form are refused. An encoded slash ("%2F") stays distinct from
// "/".
//
// # Binding
//
// CheckBinding compares the token's "cnf"."jkt" (RFC 9449 §6) with the
// proof's thumbprint as decoded 32-byte digests, in constant time. A
// DPoP-scheme token without "jkt" is refused (FailNotBound), including one
// bound to a client certificate only ("x5t#S256", RFC 8705, which package
// mtls checks against the connection).
//
// # Replay
//
// A proof is remembered under ReplayKey(jti, thumbprint): 16 bytes of a
// SHA-256 over both, so that a jti chosen by one client never collides
// with another client's. ReplayStore is the interface; MemoryStore is a
// bounded in-memory store (one VM, tests); SharedStore shares the set
// across worker VMs through proxy-wasm shared data, as sharded sets
// updated by compare-and-swap: read value and CAS token, drop expired
// entries, report a replay if the key is there, append it, write with the
// CAS token, and on CasMismatch start again, at most MaxAttempts (8)
// times; then, and on any host error, a corrupt value or a full shard, it
// fails closed (FailReplayUnavailable, 503). No store ever forgets a live
// entry to make room. Capacity must cover the peak rate of DPoP requests
// times MaxAge + FutureSkew: for example, 4 shards of 2048 entries hold
// 8192 proofs, about 125 DPoP requests per second with the default 65 s
// window; 64 shards hold 131,072 (about 2,000 per second). Smaller shards
// cost less per update (each update copies its shard in and out of the VM).
//
// # Errors (RFC 9449 §7.1, §9, §12.2)
//
// Proof failures are 401 with
//
//	WWW-Authenticate: DPoP error="invalid_dpop_proof", error_description="…", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"
//
// nonce failures 401 use_dpop_nonce with a DPoP-Nonce header, token and
// binding failures 401 invalid_token, and a replay store that cannot
// answer 503. Descriptions are fixed texts that never echo the proof or
// the token; each Failure has a stable name for logs and an authn.Reason
// for metrics.
//
// # Cost
//
// One Verify, in Wasm (wazero's compiler, Go 1.26, this machine's noisy
// two cores) and natively (amd64), from BenchmarkVerify; the signature is
// most of it (x-signature is the ratio to the bare check):
//
//	        Wasm        native
//	ES256   1.2 ms      0.11 ms
//	ES384   4.0 ms      0.72 ms
//	EdDSA   0.57 ms     66 µs
//	PS256   0.45 ms     67 µs
//	RS256   0.5-0.8 ms  88 µs
//
// Every proof brings its own key, so nothing per key is reused across
// requests. Refusing a proof before the signature (typ, alg, private jwk)
// costs 30-50 µs in Wasm; UpdateReplaySet on a full 2048-entry shard about
// 90 µs. With the host verifier, BoringSSL checks ES256 and RS256
// natively.
//
// # Standards
//
// RFC 9449 (DPoP: §4.2 proof syntax, §4.3 checks, §6 jkt, §7.1 resource
// requests and errors, §7.2 Bearer compatibility, §8-9 nonces, §11.1
// replay); RFC 7638 (JWK thumbprint); RFC 7515 and RFC 7518 (JWS, minimal
// integer encoding §6.3.1); RFC 7517 (JWK); RFC 7800 (cnf); RFC 8037
// (EdDSA); RFC 3986 §5.2.4, §6.2 (URI normalization); RFC 9110 §7.1
// (target URI).
package dpop
