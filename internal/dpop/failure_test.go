package dpop

import (
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

func TestDeny(t *testing.T) {
	api := Options{Realm: "api"}
	tests := []struct {
		name          string
		opts          Options
		f             Failure
		status        int
		code          string
		reason        authn.Reason
		challenge     string
		nonce         string
		wantNonceSent string
	}{
		{"invalid proof", api, FailTooOld, 401, "invalid_dpop_proof", authn.ReasonInvalidCredential,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof is too old", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`, "n1", ""},
		{"no realm, configured algorithms", Options{Algorithms: []string{"ES256", "PS256"}}, FailSignature, 401, "invalid_dpop_proof", authn.ReasonInvalidCredential,
			`DPoP error="invalid_dpop_proof", error_description="the DPoP proof's signature is not valid", algs="ES256 PS256"`, "", ""},
		{"malformed", api, FailMalformed, 401, "invalid_dpop_proof", authn.ReasonMalformedCredential,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof is not a well-formed signed JWT", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`, "", ""},
		{"two proofs", api, FailMultipleProofs, 401, "invalid_dpop_proof", authn.ReasonMultipleCredentials,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="the request has more than one DPoP proof", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`, "", ""},
		{"nonce required", api, FailNonceMissing, 401, "use_dpop_nonce", authn.ReasonInvalidCredential,
			`DPoP realm="api", error="use_dpop_nonce", error_description="a server nonce is required in the DPoP proof", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`, "eyJ7S_zG.eyJH0-Z.HX4w-7v", "eyJ7S_zG.eyJH0-Z.HX4w-7v"},
		{"nonce stale", api, FailNonceMismatch, 401, "use_dpop_nonce", authn.ReasonInvalidCredential,
			`DPoP realm="api", error="use_dpop_nonce", error_description="the DPoP proof's nonce is not current", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`, "n2", "n2"},
		{"binding", api, FailBindingMismatch, 401, "invalid_token", authn.ReasonInvalidCredential,
			`DPoP realm="api", error="invalid_token", error_description="the access token is not bound to the DPoP proof's key", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`, "n1", ""},
		{"bound token as bearer", api, FailBoundTokenAsBearer, 401, "invalid_token", authn.ReasonInvalidCredential,
			`DPoP realm="api", error="invalid_token", error_description="a DPoP-bound access token must use the DPoP scheme", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`, "", ""},
		{"replay store down", api, FailReplayUnavailable, 503, "", authn.ReasonInternal, "", "n1", ""},
		{"realm quoted", Options{Realm: "a \"b\" \\c\n", Algorithms: []string{"ES256", "HS256", "none"}}, FailReplay, 401, "invalid_dpop_proof", authn.ReasonInvalidCredential,
			`DPoP realm="a \"b\" \\c", error="invalid_dpop_proof", error_description="the DPoP proof was already used", algs="ES256"`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.opts.Deny(tc.f, tc.nonce)
			e := d.Err
			if e.HTTPStatus() != tc.status || e.ErrorCode() != tc.code && tc.code != "" || e.Reason != tc.reason {
				t.Fatalf("Deny(%v) = status %d code %q reason %v; want %d %q %v", tc.f, e.HTTPStatus(), e.ErrorCode(), e.Reason, tc.status, tc.code, tc.reason)
			}
			if e.Challenge != tc.challenge {
				t.Fatalf("Deny(%v).Challenge =\n%s\nwant\n%s", tc.f, e.Challenge, tc.challenge)
			}
			if d.Nonce != tc.wantNonceSent || tc.f.NeedsNonce() != (tc.code == CodeUseNonce) {
				t.Fatalf("Deny(%v).Nonce = %q; want %q", tc.f, d.Nonce, tc.wantNonceSent)
			}
			if FailureOf(e) != tc.f {
				t.Fatalf("FailureOf(Deny(%v)) = %v", tc.f, FailureOf(e))
			}
		})
	}
	if got, want := (Options{Realm: "api"}).Challenge(), `DPoP realm="api", algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`; got != want {
		t.Fatalf("Challenge() = %s; want %s", got, want)
	}
	if got, want := (Options{}).Challenge(), `DPoP algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`; got != want {
		t.Fatalf("Challenge() = %s; want %s", got, want)
	}
}

// TestFailures: every failure has a distinct name and description, a
// status, and a code that matches its status.
func TestFailures(t *testing.T) {
	names, descs := map[string]Failure{}, map[string]Failure{}
	for f := FailNone + 1; f < failCount; f++ {
		if prev, dup := names[f.String()]; dup || f.String() == "" || f.String() == "unknown" {
			t.Fatalf("%d: name %q (also %d)", f, f.String(), prev)
		}
		if prev, dup := descs[f.Description()]; dup || f.Description() == "" {
			t.Fatalf("%v: description %q (also %v)", f, f.Description(), prev)
		}
		names[f.String()], descs[f.Description()] = f, f
		switch {
		case f.Status() == 401 && f.Code() == "", f.Status() == 503 && f.Code() != "", f.Status() != 401 && f.Status() != 503:
			t.Fatalf("%v: status %d with code %q", f, f.Status(), f.Code())
		}
	}
	if Failure(-1).String() != "unknown" || failCount.Status() != 503 || FailureOf(nil) != FailNone ||
		FailureOf(&authn.Error{Description: "other"}) != FailNone {
		t.Fatal("out-of-range failures")
	}
}
