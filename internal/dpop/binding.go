package dpop

import (
	"crypto/subtle"

	"github.com/tidwall/gjson"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

var cnfPath, _ = jwt.ParseClaimPath("cnf")

// Confirmation returns a verified JWT access token's "cnf" claim (RFC
// 7800 §3.1), read from the claims' one parse; it does not exist when the
// token has none. Pass it to CheckBinding and IsBound.
func Confirmation(c *jwt.Claims) gjson.Result {
	if c == nil {
		return gjson.Result{}
	}
	return c.Lookup(cnfPath)
}

// CheckBinding checks that an access token presented with the DPoP scheme
// is bound to the proof's key (RFC 9449 §6.1, §7.1): cnf is the token's
// "cnf" claim (from Confirmation, or an introspection response's, parsed
// strictly) and thumbprint the verified Proof's. It fails with
//
//   - FailNotBound: no "cnf", or a "cnf" without "jkt" (a token bound to
//     a certificate only, RFC 8705, is not DPoP-bound);
//   - FailBadConfirmation: "cnf" not an object, or "jkt" not a string of
//     43 base64url characters encoding 32 bytes;
//   - FailBindingMismatch: "jkt" is another key's thumbprint.
//
// The thumbprints are compared as decoded digests, in constant time. All
// three are 401 invalid_token. It runs in proxy_on_request_headers, after
// Verify and before CheckReplay.
func CheckBinding(cnf gjson.Result, thumbprint string) Failure {
	if !cnf.Exists() {
		return FailNotBound
	}
	if !cnf.IsObject() {
		return FailBadConfirmation
	}
	jkt := cnf.Get("jkt")
	if !jkt.Exists() {
		return FailNotBound
	}
	want, ok := decodeThumbprint(jkt)
	if !ok {
		return FailBadConfirmation
	}
	got, ok := decodeThumbprint(gjson.Result{Type: gjson.String, Str: thumbprint})
	if !ok || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return FailBindingMismatch
	}
	return FailNone
}

// IsBound reports whether a token with confirmation cnf is DPoP-bound:
// "cnf" has a "jkt" member (of any type). A "cnf" that exists but is not
// an object counts as bound too, so that a malformed binding never passes
// as a bearer token. The filter refuses a bound token presented with the
// Bearer scheme with FailBoundTokenAsBearer (RFC 9449 §7.2).
func IsBound(cnf gjson.Result) bool {
	if !cnf.Exists() {
		return false
	}
	return !cnf.IsObject() || cnf.Get("jkt").Exists()
}

func decodeThumbprint(v gjson.Result) (d [32]byte, ok bool) {
	if v.Type != gjson.String || len(v.Str) != ThumbprintLen {
		return d, false
	}
	n, err := b64.Strict().Decode(d[:], []byte(v.Str))
	return d, err == nil && n == len(d)
}
