// Package authn holds the types every authentication method shares: the
// request as the methods see it, the verdict of one provider, and the
// reasons a request is denied. It never touches the proxy-wasm ABI.
package authn

import (
	"iter"
	"slices"
	"strings"
	"time"
)

// Reason says why a provider or the policy denied a request.
type Reason int

// The reasons, each with a fixed HTTP status (see Status).
const (
	ReasonNone                Reason = iota
	ReasonMissingCredential          // 401: no credential for any acceptable method
	ReasonInvalidCredential          // 401: a credential was presented and is wrong
	ReasonMalformedCredential        // 400: a credential that cannot be parsed
	ReasonMultipleCredentials        // 400: more than one credential for a method
	ReasonCredentialTooLarge         // 400: over the size limit
	ReasonForbidden                  // 403: authenticated, but not allowed here
	ReasonNoRule                     // 403: no rule matches the request
	ReasonBadRequest                 // 400: a request the policy cannot judge safely
	ReasonInternal                   // 503: the host failed; fail closed
)

var reasonNames = [...]string{
	ReasonNone:                "none",
	ReasonMissingCredential:   "missing_credential",
	ReasonInvalidCredential:   "invalid_credential",
	ReasonMalformedCredential: "malformed_credential",
	ReasonMultipleCredentials: "multiple_credentials",
	ReasonCredentialTooLarge:  "credential_too_large",
	ReasonForbidden:           "forbidden",
	ReasonNoRule:              "no_rule",
	ReasonBadRequest:          "bad_request",
	ReasonInternal:            "internal_error",
}

// Reasons lists every reason but ReasonNone, for defining metrics once.
func Reasons() []Reason {
	rs := make([]Reason, 0, len(reasonNames)-1)
	for r := ReasonMissingCredential; int(r) < len(reasonNames); r++ {
		rs = append(rs, r)
	}
	return rs
}

// String is the stable name used in metrics, logs and response bodies.
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Status is the HTTP status of a response denying for r.
func (r Reason) Status() int {
	switch r {
	case ReasonMissingCredential, ReasonInvalidCredential:
		return 401
	case ReasonMalformedCredential, ReasonMultipleCredentials, ReasonCredentialTooLarge, ReasonBadRequest:
		return 400
	case ReasonForbidden, ReasonNoRule:
		return 403
	}
	return 503
}

// Error is a denial with a reason and a description that is safe to show
// the client: it never holds the credential.
type Error struct {
	Reason      Reason
	Description string
	// Status overrides Reason.Status() when non-zero (e.g. 401 for RFC 9470
	// insufficient_user_authentication, 403 for insufficient_scope).
	Status int
	// Code overrides the body's "error" (e.g. RFC 6750 "invalid_token");
	// metrics still use Reason.
	Code string
	// Challenge, when set, is the WWW-Authenticate value of the provider
	// that produced the error (e.g. Bearer with error= attributes); it
	// replaces that provider's plain challenge.
	Challenge string
	// Headers are more response headers the error needs (e.g. DPoP-Nonce,
	// RFC 9449 §9). They never hold a credential.
	Headers []Header
}

// HTTPStatus is the response status for e.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Reason.Status()
}

// ErrorCode is the body's "error" for e.
func (e *Error) ErrorCode() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Reason.String()
}

func (e *Error) Error() string { return e.Reason.String() + ": " + e.Description }

// Deny returns an *Error.
func Deny(r Reason, description string) *Error { return &Error{Reason: r, Description: description} }

// Header is one request header, key in lower case.
type Header struct {
	Key, Value string
}

// Request is a request as the methods see it. It is built once per stream
// from the host's header map; methods must not modify it.
type Request struct {
	Method    string
	Scheme    string
	Authority string
	// Path is :path as received, query included.
	Path    string
	Headers []Header
	Now     time.Time
}

// PathOnly returns :path without the query.
func (r *Request) PathOnly() string {
	p, _, _ := strings.Cut(r.Path, "?")
	return p
}

// RawQuery returns the query of :path without '?'.
func (r *Request) RawQuery() string {
	_, q, _ := strings.Cut(r.Path, "?")
	return q
}

// Each yields every value of the header named key (lower case), in order.
// Ranging over it allocates nothing, unlike Values.
func (r *Request) Each(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, h := range r.Headers {
			if h.Key == key && !yield(h.Value) {
				return
			}
		}
	}
}

// Values returns every value of the header named key (lower case), in order.
func (r *Request) Values(key string) []string { return slices.Collect(r.Each(key)) }

// Identity is who a provider authenticated.
type Identity struct {
	// Principal is the consumer or user name.
	Principal string
	// Metadata is forwarded upstream as headers under the metadata prefix.
	Metadata map[string]string
	// Headers are provider-specific headers to send upstream (e.g. claims
	// mapped to headers); their names are stripped from every request.
	Headers []Header
	// Claims is provider-specific data (e.g. verified JWT claims) that the
	// provider's Constraints read.
	Claims any
}

// Constraint is a per-rule requirement on an authenticated identity, such
// as required scopes or claim values. It is compiled with the rule and must
// be immutable.
type Constraint interface {
	// Check returns nil if id satisfies the constraint.
	Check(id *Identity, req *Request) *Error
}

// Edit is a change to the request on its way upstream.
type Edit struct {
	// RemoveHeaders are header names to delete (all values).
	RemoveHeaders []string
	// RemoveQuery are query parameter names to delete from :path.
	RemoveQuery []string
	// RemoveCookies are cookie names to delete from the Cookie header(s).
	RemoveCookies []string
}

// Names holds one name (of a header, query parameter or cookie) as a
// slice a provider makes once and shares with every Edit: AppendName
// returns it as it is to a list that is still empty, instead of
// allocating a copy per request.
type Names []string

// Name returns n as Names; make it once, at configure time.
func Name(n string) Names { return Names{n} }

// AppendName appends name to list. The shared slice is capped at its
// length, so appending to it later copies it instead of writing into it.
func AppendName(list []string, name Names) []string {
	if list == nil {
		return name[:1:1]
	}
	return append(list, name[0])
}

// Outcome is what one provider concluded about a request.
type Outcome int

const (
	// Absent: no credential for this provider.
	Absent Outcome = iota
	// Valid: the credential authenticates Identity.
	Valid
	// Invalid: a credential was presented and is rejected (Err says why).
	Invalid
	// Pending: the provider cannot decide yet (e.g. keys are being
	// fetched); the filter pauses the request and asks again.
	Pending
)

// Verdict is one provider's result for one request.
type Verdict struct {
	Outcome  Outcome
	Identity Identity
	Err      *Error
	// Strip removes the credential before the request goes upstream.
	Strip Edit
	// CacheHit reports that a cached verification was used; CacheMiss that
	// a cache exists and the credential was verified in full.
	CacheHit, CacheMiss bool
}

// Provider is one configured authentication method. Implementations are
// immutable after configuration but may keep a per-VM cache.
type Provider interface {
	// Name is the configured provider name.
	Name() string
	// Method is the method's name: "api_key", "basic", ...
	Method() string
	// Authenticate judges req. It never returns the credential in an error.
	Authenticate(req *Request) Verdict
	// Challenge is the WWW-Authenticate value for a 401, or "" for none.
	Challenge() string
}
