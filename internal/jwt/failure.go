package jwt

import (
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Failure says precisely why this provider rejected a request. It is
// finer than authn.Reason (which metrics use) and is what tests assert:
// each Failure has one fixed authn.Reason, HTTP status, RFC 6750 error code
// and client-safe description, none of which echo the token.
type Failure int

// The failures, grouped by the step that detects them.
const (
	FailNone Failure = iota

	// Extracting the token (RFC 6750 §2, §3.1 invalid_request: 400).
	FailMultipleTokens   // more than one token in the request (also the same one twice)
	FailTokenTooLarge    // over the provider's size limit
	FailEmptyToken       // "Bearer" with no token, or an empty header/parameter/cookie
	FailUndecodableQuery // the query string cannot be percent-decoded

	// Parsing the JWS (401 invalid_token).
	FailMalformed     // not three base64url segments of JSON objects
	FailJWE           // five segments or an "enc" header: an encrypted token
	FailDuplicateKey  // the header or the claims repeat a JSON member name
	FailAlgNone       // "alg": "none" (RFC 7519 §6, unsecured JWT)
	FailAlgNotAllowed // an algorithm outside the provider's allow-list
	FailCrit          // a "crit" header: no extension is understood (RFC 7515 §4.1.11)
	FailB64           // "b64": false, an unencoded payload (RFC 7797)
	FailNestedJWT     // "cty": "JWT", a nested token

	// Choosing the key (401 invalid_token).
	FailUnknownKID  // no key has the token's "kid" (after a refetch, if any)
	FailNoKey       // no key of the algorithm's type, or no "kid" and several candidates
	FailKeyTooSmall // an RSA key under the provider's minimum size

	// The signature (401 invalid_token).
	FailSignatureFormat // wrong length, or an ECDSA r or s that is zero or not below n
	FailSignature       // the signature does not verify

	// The claims, checked in this order after the signature (401 invalid_token).
	FailClaimsNotObject // the verified payload is not a strict JSON object (RFC 7519 §7.2, step 10)
	FailType            // "typ" is not the configured one (RFC 9068 §4: at+jwt)
	FailClaimType       // a registered claim of the wrong JSON type
	FailIssuer          // "iss" missing or not one of the provider's issuers
	FailAudience        // "aud" missing or none of the provider's audiences
	FailExpired         // "exp" in the past (beyond the clock skew)
	FailNoExpiry        // "exp" missing while required
	FailNotYetValid     // "nbf" in the future (beyond the clock skew)
	FailIssuedInFuture  // "iat" in the future (beyond the clock skew)
	FailLifetime        // exp - iat over the provider's maximum (or iat missing)
	FailClaim           // a provider claim matcher (sub, azp, custom) does not match

	// Keys: 401 invalid_token with a reason, failing closed; counted as
	// internal_error.
	FailKeysUnavailable // remote keys are not available (never fetched, or the wait expired)

	// Per-rule constraints, checked by the policy after the verdict.
	FailInsufficientScope // a required scope is missing: 403 insufficient_scope
	FailRuleClaim         // a rule's claim matcher does not match: 403 insufficient_scope
	FailStepUp            // acr or auth_time insufficient: 401 insufficient_user_authentication (RFC 9470)
	FailResource          // the rule's resource is not in "aud" (RFC 8707): 401 invalid_token

	// Certificate-bound tokens (RFC 8705 §3): 401 invalid_token.
	FailNotCertBound   // binding required, but the token has no cnf "x5t#S256"
	FailNoClientCert   // a bound token on a connection without a client certificate
	FailCertMismatch   // cnf "x5t#S256" is not the client certificate's thumbprint
	FailPeerUnreadable // the host could not tell the client certificate: 503

	failCount
)

type failureInfo struct {
	name   string
	reason authn.Reason
	status int
	code   string
	desc   string
}

const (
	codeInvalidRequest = "invalid_request"
	codeInvalidToken   = "invalid_token"
	codeScope          = "insufficient_scope"
	codeStepUp         = "insufficient_user_authentication"
)

var failures = [failCount]failureInfo{
	FailNone:              {"none", authn.ReasonNone, 0, "", ""},
	FailMultipleTokens:    {"multiple_tokens", authn.ReasonMultipleCredentials, 400, codeInvalidRequest, "the request carries more than one bearer token"},
	FailTokenTooLarge:     {"token_too_large", authn.ReasonCredentialTooLarge, 400, codeInvalidRequest, "the bearer token is too large"},
	FailEmptyToken:        {"empty_token", authn.ReasonMalformedCredential, 400, codeInvalidRequest, "the bearer token is empty"},
	FailUndecodableQuery:  {"undecodable_query", authn.ReasonMalformedCredential, 400, codeInvalidRequest, "the query string cannot be decoded"},
	FailMalformed:         {"malformed", authn.ReasonMalformedCredential, 401, codeInvalidToken, "the token is not a well-formed signed JWT"},
	FailJWE:               {"encrypted_token", authn.ReasonMalformedCredential, 401, codeInvalidToken, "encrypted tokens (JWE) are not accepted"},
	FailDuplicateKey:      {"duplicate_member", authn.ReasonMalformedCredential, 401, codeInvalidToken, "the token repeats a JSON member name"},
	FailAlgNone:           {"alg_none", authn.ReasonInvalidCredential, 401, codeInvalidToken, "unsecured tokens are not accepted"},
	FailAlgNotAllowed:     {"alg_not_allowed", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's signature algorithm is not accepted"},
	FailCrit:              {"crit", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token has critical header parameters that are not understood"},
	FailB64:               {"b64", authn.ReasonInvalidCredential, 401, codeInvalidToken, "tokens with an unencoded payload are not accepted"},
	FailNestedJWT:         {"nested_token", authn.ReasonInvalidCredential, 401, codeInvalidToken, "nested tokens are not accepted"},
	FailUnknownKID:        {"unknown_kid", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's key is not known"},
	FailNoKey:             {"no_key", authn.ReasonInvalidCredential, 401, codeInvalidToken, "no key can verify the token"},
	FailKeyTooSmall:       {"key_too_small", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's key is too small"},
	FailSignatureFormat:   {"signature_format", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's signature is malformed"},
	FailSignature:         {"bad_signature", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's signature is not valid"},
	FailClaimsNotObject:   {"malformed_claims", authn.ReasonMalformedCredential, 401, codeInvalidToken, "the token's claims are not a valid JSON object"},
	FailType:              {"bad_typ", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is not of the expected type"},
	FailClaimType:         {"claim_type", authn.ReasonInvalidCredential, 401, codeInvalidToken, "a registered claim has the wrong type"},
	FailIssuer:            {"bad_issuer", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's issuer is not accepted"},
	FailAudience:          {"bad_audience", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is not intended for this audience"},
	FailExpired:           {"expired", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token has expired"},
	FailNoExpiry:          {"no_expiry", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token has no expiration time"},
	FailNotYetValid:       {"not_yet_valid", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is not valid yet"},
	FailIssuedInFuture:    {"issued_in_future", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is issued in the future"},
	FailLifetime:          {"lifetime", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's lifetime is too long"},
	FailClaim:             {"claim_mismatch", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token's claims are not accepted"},
	FailKeysUnavailable:   {"keys_unavailable", authn.ReasonInternal, 401, codeInvalidToken, "the keys to verify the token are not available"},
	FailInsufficientScope: {"insufficient_scope", authn.ReasonForbidden, 403, codeScope, "the token lacks a required scope"},
	FailRuleClaim:         {"rule_claim_mismatch", authn.ReasonForbidden, 403, codeScope, "the token's claims do not allow this request"},
	FailStepUp:            {"insufficient_user_authentication", authn.ReasonForbidden, 401, codeStepUp, "a stronger or more recent authentication is required"},
	FailResource:          {"bad_resource", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is not intended for this resource"},
	FailNotCertBound:      {"not_certificate_bound", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is not bound to a client certificate"},
	FailNoClientCert:      {"no_client_certificate", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is bound to a client certificate but the connection has none"},
	FailCertMismatch:      {"certificate_mismatch", authn.ReasonInvalidCredential, 401, codeInvalidToken, "the token is bound to another client certificate"},
	FailPeerUnreadable:    {"peer_unreadable", authn.ReasonInternal, 503, "", "the client certificate could not be read"},
}

func (f Failure) info() failureInfo {
	if f >= 0 && f < failCount {
		return failures[f]
	}
	return failureInfo{name: "unknown", reason: authn.ReasonInternal, status: 503}
}

// String is a stable name for logs and tests ("expired", "alg_none", ...).
func (f Failure) String() string { return f.info().name }

// Reason is the authn.Reason (and so the metric) f is counted under.
func (f Failure) Reason() authn.Reason { return f.info().reason }

// Status is the HTTP status of a response denying for f.
func (f Failure) Status() int { return f.info().status }

// Code is the RFC 6750 / RFC 9470 "error" code, or "" for none.
func (f Failure) Code() string { return f.info().code }

// Description is the client-safe error_description for f.
func (f Failure) Description() string { return f.info().desc }

// FailureOf returns the Failure an error from this package stands for, or
// FailNone if err did not come from this package.
func FailureOf(err *authn.Error) Failure {
	if err == nil {
		return FailNone
	}
	for f := Failure(1); f < failCount; f++ {
		if failures[f].desc == err.Description {
			return f
		}
	}
	return FailNone
}

// challenge builds an RFC 6750 §3 WWW-Authenticate value. Attribute values
// are quoted-strings: quotes and backslashes are escaped and control
// characters dropped, so nothing from a request can break the header.
func challenge(realm string, attrs ...string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm=`)
	quote(&b, realm)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		b.WriteString(", ")
		b.WriteString(attrs[i])
		b.WriteByte('=')
		quote(&b, attrs[i+1])
	}
	return b.String()
}

func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			// dropped: a header value cannot carry them
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// deny returns the *authn.Error for f under realm, with its Bearer
// challenge (extra holds further attribute pairs, e.g. "scope", "a b").
func deny(f Failure, realm string, extra ...string) *authn.Error {
	in := f.info()
	e := &authn.Error{Reason: in.reason, Description: in.desc, Status: in.status, Code: in.code}
	if in.code != "" {
		attrs := append([]string{"error", in.code, "error_description", in.desc}, extra...)
		e.Challenge = challenge(realm, attrs...)
	}
	return e
}
