package dpop

import (
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Failure says precisely why a DPoP proof, its binding to the access token
// or its freshness was refused. Each Failure has one fixed authn.Reason
// (the metric), HTTP status, RFC 9449 §7 / RFC 6750 error code and
// client-safe description; none of them echoes the proof or the token.
// Tests assert Failures.
type Failure int

// The failures, in the order Verify, CheckBinding and CheckReplay detect
// them.
const (
	FailNone Failure = iota

	// The DPoP header (RFC 9449 §4.3 check 1). 401 invalid_dpop_proof.
	FailMissingProof   // no DPoP header (or an empty one) with a DPoP-scheme token
	FailMultipleProofs // more than one DPoP header, or one folded from several
	FailProofTooLarge  // over Options.MaxProofBytes

	// The JWS (checks 2, 4, 5, 6, 7). 401 invalid_dpop_proof.
	FailMalformed         // not a compact JWS of three base64url segments of JSON objects
	FailDuplicateMember   // the header or the claims repeat a JSON member name
	FailUnsupportedHeader // JWE, "crit", "b64": false or a nested JWT
	FailAlgNone           // "alg": "none"
	FailType              // "typ" is not exactly "dpop+jwt"
	FailAlgNotAllowed     // an algorithm outside the allow-list (any HS*, ES512 by default)
	FailMissingJWK        // no "jwk" header
	FailPrivateKey        // the "jwk" has private or symmetric key members
	FailBadJWK            // the "jwk" is not a usable public key
	FailKeyMismatch       // the key's type, curve or own "alg" does not fit "alg"
	FailKeyTooSmall       // an RSA key under Options.MinRSABits
	FailKeyTooLarge       // an RSA key over Options.MaxRSABits
	FailSignature         // the signature is malformed or does not verify with the "jwk"

	// The claims, after the signature (checks 3, 8-12). 401 invalid_dpop_proof.
	FailJTI            // "jti" missing, not a string or empty
	FailJTITooLong     // "jti" over Options.MaxJTIBytes
	FailMethod         // "htm" missing or not the request's method
	FailURI            // "htu" missing, unparsable or not the request's URI
	FailIssuedAt       // "iat" missing or not a number
	FailTooOld         // "iat" older than Options.MaxAge
	FailIssuedInFuture // "iat" later than now plus Options.FutureSkew
	FailMissingATH     // an access token is presented and "ath" is missing
	FailATHMismatch    // "ath" is not the hash of the presented access token

	// Server nonces (RFC 9449 §8-9). 401 use_dpop_nonce, with DPoP-Nonce.
	FailNonceMissing  // a nonce is required and the proof has none
	FailNonceMismatch // the proof's "nonce" is not a current server nonce
	// 503: the server's nonces cannot be computed (shared secret unavailable).
	FailNonceUnavailable

	// The access token's binding (RFC 9449 §6, §7.1). 401 invalid_token.
	FailNotBound           // a DPoP-scheme token without "cnf"."jkt"
	FailBadConfirmation    // "cnf" not an object, or "jkt" not a SHA-256 thumbprint
	FailBindingMismatch    // "cnf"."jkt" is not the proof key's thumbprint
	FailBoundTokenAsBearer // a DPoP-bound token presented with the Bearer scheme (§7.2)

	// Replay (RFC 9449 §11.1).
	FailReplay            // 401 invalid_dpop_proof: the proof was already used
	FailReplayUnavailable // 503: the replay store cannot tell (full, contended, broken)

	failCount
)

// Error codes (RFC 9449 §7.1, §9, §12.2; RFC 6750 §3.1).
const (
	CodeInvalidProof = "invalid_dpop_proof"
	CodeUseNonce     = "use_dpop_nonce"
	CodeInvalidToken = "invalid_token"
)

type failureInfo struct {
	name   string
	reason authn.Reason
	status int
	code   string
	desc   string
}

var failures = [failCount]failureInfo{
	FailNone:               {"none", authn.ReasonNone, 0, "", ""},
	FailMissingProof:       {"missing_proof", authn.ReasonMissingCredential, 401, CodeInvalidProof, "the request has no DPoP proof"},
	FailMultipleProofs:     {"multiple_proofs", authn.ReasonMultipleCredentials, 401, CodeInvalidProof, "the request has more than one DPoP proof"},
	FailProofTooLarge:      {"proof_too_large", authn.ReasonCredentialTooLarge, 401, CodeInvalidProof, "the DPoP proof is too large"},
	FailMalformed:          {"malformed_proof", authn.ReasonMalformedCredential, 401, CodeInvalidProof, "the DPoP proof is not a well-formed signed JWT"},
	FailDuplicateMember:    {"duplicate_member", authn.ReasonMalformedCredential, 401, CodeInvalidProof, "the DPoP proof repeats a JSON member name"},
	FailUnsupportedHeader:  {"unsupported_header", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof uses JOSE features that are not accepted"},
	FailAlgNone:            {"alg_none", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "unsigned DPoP proofs are not accepted"},
	FailType:               {"bad_typ", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's typ is not dpop+jwt"},
	FailAlgNotAllowed:      {"alg_not_allowed", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's signature algorithm is not accepted"},
	FailMissingJWK:         {"missing_jwk", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof has no jwk header"},
	FailPrivateKey:         {"private_jwk", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's jwk is not a public key"},
	FailBadJWK:             {"bad_jwk", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's jwk is not an accepted public key"},
	FailKeyMismatch:        {"key_alg_mismatch", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's jwk does not fit its algorithm"},
	FailKeyTooSmall:        {"key_too_small", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's key is too small"},
	FailKeyTooLarge:        {"key_too_large", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's key is too large"},
	FailSignature:          {"bad_signature", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's signature is not valid"},
	FailJTI:                {"bad_jti", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof has no valid jti"},
	FailJTITooLong:         {"jti_too_long", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof's jti is too long"},
	FailMethod:             {"htm_mismatch", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof is not for this HTTP method"},
	FailURI:                {"htu_mismatch", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof is not for this URI"},
	FailIssuedAt:           {"bad_iat", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof has no valid iat"},
	FailTooOld:             {"proof_too_old", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof is too old"},
	FailIssuedInFuture:     {"iat_in_future", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof is issued in the future"},
	FailMissingATH:         {"missing_ath", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof has no access token hash"},
	FailATHMismatch:        {"ath_mismatch", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof is not for this access token"},
	FailNonceMissing:       {"nonce_required", authn.ReasonInvalidCredential, 401, CodeUseNonce, "a server nonce is required in the DPoP proof"},
	FailNonceMismatch:      {"nonce_mismatch", authn.ReasonInvalidCredential, 401, CodeUseNonce, "the DPoP proof's nonce is not current"},
	FailNonceUnavailable:   {"nonce_unavailable", authn.ReasonInternal, 503, "", "the DPoP proof's nonce cannot be checked"},
	FailNotBound:           {"token_not_bound", authn.ReasonInvalidCredential, 401, CodeInvalidToken, "the access token is not bound to a DPoP key"},
	FailBadConfirmation:    {"bad_cnf", authn.ReasonInvalidCredential, 401, CodeInvalidToken, "the access token's key binding is malformed"},
	FailBindingMismatch:    {"jkt_mismatch", authn.ReasonInvalidCredential, 401, CodeInvalidToken, "the access token is not bound to the DPoP proof's key"},
	FailBoundTokenAsBearer: {"bound_token_as_bearer", authn.ReasonInvalidCredential, 401, CodeInvalidToken, "a DPoP-bound access token must use the DPoP scheme"},
	FailReplay:             {"replayed_proof", authn.ReasonInvalidCredential, 401, CodeInvalidProof, "the DPoP proof was already used"},
	FailReplayUnavailable:  {"replay_check_unavailable", authn.ReasonInternal, 503, "", "the DPoP proof cannot be checked for replay"},
}

func (f Failure) info() failureInfo {
	if f >= 0 && f < failCount {
		return failures[f]
	}
	return failureInfo{name: "unknown", reason: authn.ReasonInternal, status: 503}
}

// String is a stable name for logs and tests ("htu_mismatch", ...).
func (f Failure) String() string { return f.info().name }

// Reason is the authn.Reason (and so the metric) f is counted under.
func (f Failure) Reason() authn.Reason { return f.info().reason }

// Status is the HTTP status of a response denying for f.
func (f Failure) Status() int { return f.info().status }

// Code is the "error" code (CodeInvalidProof, CodeUseNonce,
// CodeInvalidToken), or "" for a server-side failure.
func (f Failure) Code() string { return f.info().code }

// Description is the client-safe error_description for f.
func (f Failure) Description() string { return f.info().desc }

// NeedsNonce reports whether a response for f must carry a DPoP-Nonce
// header (RFC 9449 §9: use_dpop_nonce).
func (f Failure) NeedsNonce() bool { return f.info().code == CodeUseNonce }

// FailureOf returns the Failure an error from Deny stands for, or FailNone
// if err did not come from this package.
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

// Denial is how to answer a request denied for a Failure.
type Denial struct {
	// Err has the status, the body's error code, the client-safe
	// description and, for a 401, the DPoP WWW-Authenticate challenge
	// (RFC 9449 §7.1).
	Err *authn.Error
	// Nonce, when not empty, is the value of the DPoP-Nonce response header
	// to send with Err (RFC 9449 §9: use_dpop_nonce).
	Nonce string
}

// Deny returns the response for f under o: status, code, description
// and the challenge
//
//	DPoP realm="…", error="invalid_dpop_proof", error_description="…", algs="ES256 …"
//
// (realm only when Options.Realm is set; algs lists the allowed
// algorithms Verify accepts). For
// FailNonceMissing and FailNonceMismatch it carries nonce, the server's
// current nonce, in Denial.Nonce. Issuing and rotating nonces is the
// caller's job; nonce is used as given, so it must be a valid header value
// (RFC 9449 §8.1: unreserved characters and a few others). It runs in
// proxy_on_request_headers, before the local reply.
func (o Options) Deny(f Failure, nonce string) Denial {
	in := f.info()
	e := &authn.Error{Reason: in.reason, Description: in.desc, Status: in.status, Code: in.code}
	if in.status == 401 {
		e.Challenge = o.challenge("error", in.code, "error_description", in.desc)
	}
	d := Denial{Err: e}
	if f.NeedsNonce() {
		d.Nonce = nonce
	}
	return d
}

// Challenge is the plain DPoP challenge, `DPoP algs="ES256 …"` (with realm
// when set), for a 401 sent when no credential was presented (RFC 9449
// §7.1).
func (o Options) Challenge() string { return o.challenge() }

func (o Options) challenge(attrs ...string) string {
	var b strings.Builder
	b.WriteString("DPoP")
	sep := " "
	add := func(k, v string) {
		b.WriteString(sep)
		sep = ", "
		b.WriteString(k)
		b.WriteByte('=')
		quote(&b, v)
	}
	if o.Realm != "" {
		add("realm", o.Realm)
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] != "" {
			add(attrs[i], attrs[i+1])
		}
	}
	// Only what Verify accepts: a misconfigured HS* or "none" is not
	// advertised (Validate reports it).
	b.WriteString(sep)
	b.WriteString(`algs="`)
	n := 0
	for _, a := range o.allowed() {
		if asymmetric(a) {
			if n > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(a) // an algorithm name: no character to escape
			n++
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quote writes s as an RFC 9110 quoted-string: quotes and backslashes are
// escaped and control characters dropped, so no value can break the
// header.
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
