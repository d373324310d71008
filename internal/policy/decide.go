package policy

import (
	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Expr is a requirement over providers: a provider reference (with optional
// constraints), or any/all of sub-expressions.
type Expr struct {
	// Provider is an index into Policy.Providers; -1 for any/all.
	Provider int
	// Consumers, when non-empty, is the set of principals the provider's
	// identity must be one of; others are forbidden (403).
	Consumers map[string]bool
	// Constraints are further per-rule requirements on the provider's
	// identity (scopes, claims, ...), checked in order after Consumers.
	Constraints []authn.Constraint
	Any         []*Expr
	All         []*Expr
}

// Providers returns the provider indexes e refers to, each once, in order.
func (e *Expr) Providers() []int {
	var out []int
	seen := map[int]bool{}
	var walk func(*Expr)
	walk = func(e *Expr) {
		if e.Provider >= 0 {
			if !seen[e.Provider] {
				seen[e.Provider] = true
				out = append(out, e.Provider)
			}
			return
		}
		for _, c := range e.Any {
			walk(c)
		}
		for _, c := range e.All {
			walk(c)
		}
	}
	walk(e)
	return out
}

// Decision is the outcome for one request.
type Decision struct {
	Allow bool
	// Pending: a provider cannot decide yet; ask again later.
	Pending bool
	// Err is the reason to deny (nil when allowed).
	Err *authn.Error
	// Challenges are WWW-Authenticate values for a 401.
	Challenges []string
	// Provider and Identity are the first satisfied requirement's, in
	// expression order, when allowed.
	Provider authn.Provider
	Identity authn.Identity
	// Strip removes every credential the request presented to a provider
	// that accepted it.
	Strip authn.Edit
	// Headers are the provider-specific identity headers (e.g. JWT claims)
	// of every provider that accepted its credential.
	Headers []authn.Header
	// Verdicts holds each consulted provider's verdict, in the rule's
	// order, for metrics.
	Verdicts []ProviderVerdict
}

// ProviderVerdict is the verdict of one consulted provider.
type ProviderVerdict struct {
	Provider int // index in Policy.Providers
	authn.Verdict
}

// verdict returns provider i's verdict (the zero verdict if i was not
// consulted). A rule consults a few providers: a slice beats a map.
func (d *Decision) verdict(i int) *authn.Verdict {
	for k := range d.Verdicts {
		if d.Verdicts[k].Provider == i {
			return &d.Verdicts[k].Verdict
		}
	}
	return &authn.Verdict{}
}

// concat returns a followed by b. With one of them empty it returns the
// other, capped at its length, without copying: a later concat onto the
// result then copies instead of writing into the provider's slice.
func concat[T any](a, b []T) []T {
	switch {
	case len(b) == 0:
		return a
	case len(a) == 0:
		return b[:len(b):len(b)]
	}
	return append(a[:len(a):len(a)], b...)
}

// Decide judges req under rule r: every provider the rule refers to is
// consulted exactly once. A credential that is presented and rejected
// denies the request even if another requirement is met: presented
// credentials must be valid.
//
// buf, when it has room for them, holds the verdicts (Decision.Verdicts),
// which saves the caller an allocation per request.
func (p *Policy) Decide(req *authn.Request, r *Rule, buf []ProviderVerdict) Decision {
	if r.Anonymous {
		return Decision{Allow: true}
	}
	if cap(buf) < len(r.Uses) {
		buf = make([]ProviderVerdict, 0, len(r.Uses))
	}
	d := Decision{Verdicts: buf[:0]}
	for _, i := range r.Uses {
		d.Verdicts = append(d.Verdicts, ProviderVerdict{Provider: i, Verdict: p.Providers[i].Authenticate(req)})
	}
	for _, i := range r.Uses {
		if v := d.verdict(i); v.Outcome == authn.Invalid {
			d.Err = v.Err
			d.Challenges = p.challenges(r, i, v.Err)
			return d
		}
	}
	for _, i := range r.Uses {
		if d.verdict(i).Outcome == authn.Pending {
			d.Pending = true
			return d
		}
	}
	var forbidden bool
	var constraintErr *authn.Error
	var constraintProvider int
	var first *Expr
	var eval func(e *Expr) bool
	eval = func(e *Expr) bool {
		switch {
		case e.Provider >= 0:
			v := d.verdict(e.Provider)
			if v.Outcome != authn.Valid {
				return false
			}
			if len(e.Consumers) > 0 && !e.Consumers[v.Identity.Principal] {
				forbidden = true
				return false
			}
			for _, c := range e.Constraints {
				if err := c.Check(&v.Identity, req); err != nil {
					if constraintErr == nil {
						constraintErr, constraintProvider = err, e.Provider
					}
					return false
				}
			}
			if first == nil {
				first = e
			}
			return true
		case e.Any != nil:
			ok := false
			for _, c := range e.Any {
				if eval(c) {
					ok = true // evaluate all, so the first satisfied leaf is stable
				}
			}
			return ok
		default:
			for _, c := range e.All {
				if !eval(c) {
					return false
				}
			}
			return true
		}
	}
	if eval(r.Require) && first != nil {
		d.Allow = true
		d.Provider = p.Providers[first.Provider]
		d.Identity = d.verdict(first.Provider).Identity
		for _, i := range r.Uses {
			if v := d.verdict(i); v.Outcome == authn.Valid {
				d.Headers = concat(d.Headers, v.Identity.Headers)
				d.Strip.RemoveHeaders = concat(d.Strip.RemoveHeaders, v.Strip.RemoveHeaders)
				d.Strip.RemoveQuery = concat(d.Strip.RemoveQuery, v.Strip.RemoveQuery)
				d.Strip.RemoveCookies = concat(d.Strip.RemoveCookies, v.Strip.RemoveCookies)
			}
		}
		return d
	}
	if constraintErr != nil {
		d.Err = constraintErr
		d.Challenges = p.challenges(r, constraintProvider, constraintErr)
		return d
	}
	if forbidden {
		d.Err = authn.Deny(authn.ReasonForbidden, "the authenticated identity is not allowed to access this resource")
		return d
	}
	desc := "this resource requires authentication"
	for _, i := range r.Uses {
		// A provider may say why it found nothing (mtls: plaintext, or no
		// client certificate).
		if v := d.verdict(i); v.Outcome == authn.Absent && v.Err != nil && v.Err.Description != "" {
			desc += "; " + p.Providers[i].Name() + ": " + v.Err.Description
		}
	}
	d.Err = authn.Deny(authn.ReasonMissingCredential, desc)
	d.Challenges = p.challenges(r, -1, d.Err)
	if len(d.Challenges) == 0 {
		// No acceptable method has an HTTP challenge (mtls): a 401 must
		// carry one (RFC 9110 §15.5.2), so answer 403 as Envoy's RBAC does.
		d.Err.Status = 403
	}
	return d
}

// challenges lists one WWW-Authenticate value per acceptable scheme of the
// rule for a 401, the provider that produced err (index from) using the
// error's own challenge if it has one. A 403 carries only an error's own
// challenge (RFC 6750 insufficient_scope).
func (p *Policy) challenges(r *Rule, from int, err *authn.Error) []string {
	if err.HTTPStatus() != 401 {
		if err.Challenge != "" {
			return []string{err.Challenge}
		}
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, i := range r.Uses {
		c := p.Providers[i].Challenge()
		if i == from && err.Challenge != "" {
			c = err.Challenge
		}
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}
