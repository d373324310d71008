package jwt

import (
	"strconv"
	"strings"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/authn"
)

// Requirement is what one policy rule asks of a token this provider
// verified, beyond the provider's own checks. The policy checks it after
// the verdict, on every request (cached verdicts included).
type Requirement struct {
	// Scopes must all be granted ("scope" or "scp"): else 403
	// insufficient_scope with the scope attribute (RFC 6750 §3.1).
	Scopes []string
	// Claims must all match: else 403 insufficient_scope.
	Claims []ClaimMatcher
	// ACRValues, if any, must include the token's "acr"; MaxAge, if
	// positive, bounds the time since "auth_time" (which is then
	// required). Else 401 insufficient_user_authentication with
	// acr_values and max_age (RFC 9470 §3).
	ACRValues []string
	MaxAge    time.Duration
	// Resource, if set, must be one of the token's "aud" values
	// (RFC 8707 §2): else 401 invalid_token.
	Resource string
}

// Constraints compiles r into the constraints the policy checks, in the
// order resource, scopes, claims, step-up (stepping up does not help a
// token for another resource or without the scope). It returns nil for an
// empty requirement.
func (p *Provider) Constraints(r Requirement) []authn.Constraint {
	var cs []authn.Constraint
	if r.Resource != "" {
		cs = append(cs, &resourceConstraint{realm: p.realm, resource: r.Resource})
	}
	if len(r.Scopes) > 0 {
		cs = append(cs, &scopeConstraint{realm: p.realm, scopes: append([]string(nil), r.Scopes...), attr: strings.Join(r.Scopes, " ")})
	}
	if len(r.Claims) > 0 {
		cs = append(cs, &claimConstraint{realm: p.realm, matchers: append([]ClaimMatcher(nil), r.Claims...)})
	}
	if len(r.ACRValues) > 0 || r.MaxAge > 0 {
		c := &stepUpConstraint{realm: p.realm, acr: set(r.ACRValues), acrAttr: strings.Join(r.ACRValues, " "), maxAge: r.MaxAge, skew: p.v.skew}
		if r.MaxAge > 0 {
			c.maxAgeAttr = strconv.FormatInt(int64(r.MaxAge/time.Second), 10)
		}
		cs = append(cs, c)
	}
	return cs
}

// claimsOf returns the verified claims of id, or nil if id was not
// authenticated by a jwt provider (a misconfiguration: constraints fail
// closed).
func claimsOf(id *authn.Identity) *Claims {
	c, _ := id.Claims.(*Claims)
	return c
}

type resourceConstraint struct {
	realm, resource string
}

// Check requires the rule's resource among the token's audiences.
func (c *resourceConstraint) Check(id *authn.Identity, _ *authn.Request) *authn.Error {
	if cl := claimsOf(id); cl != nil {
		for _, a := range cl.Audience {
			if a == c.resource {
				return nil
			}
		}
	}
	return deny(FailResource, c.realm)
}

type scopeConstraint struct {
	realm  string
	scopes []string
	attr   string
}

// Check requires every scope of the rule.
func (c *scopeConstraint) Check(id *authn.Identity, _ *authn.Request) *authn.Error {
	cl := claimsOf(id)
	for _, s := range c.scopes {
		if cl == nil || !cl.HasScope(s) {
			return deny(FailInsufficientScope, c.realm, "scope", c.attr)
		}
	}
	return nil
}

type claimConstraint struct {
	realm    string
	matchers []ClaimMatcher
}

// Check requires every claim matcher of the rule to match.
func (c *claimConstraint) Check(id *authn.Identity, _ *authn.Request) *authn.Error {
	cl := claimsOf(id)
	for i := range c.matchers {
		if cl == nil || !c.matchers[i].Match(cl) {
			return deny(FailRuleClaim, c.realm)
		}
	}
	return nil
}

type stepUpConstraint struct {
	realm               string
	acr                 map[string]bool
	acrAttr, maxAgeAttr string
	maxAge, skew        time.Duration
}

// Check requires an accepted acr and a recent enough auth_time (the
// request's time is the clock).
func (c *stepUpConstraint) Check(id *authn.Identity, req *authn.Request) *authn.Error {
	cl := claimsOf(id)
	ok := cl != nil
	if ok && len(c.acr) > 0 && !c.acr[cl.ACR] {
		ok = false
	}
	if ok && c.maxAge > 0 && (cl.AuthTime.IsZero() || req.Now.Sub(cl.AuthTime) > c.maxAge+c.skew) {
		ok = false
	}
	if ok {
		return nil
	}
	return deny(FailStepUp, c.realm, "acr_values", c.acrAttr, "max_age", c.maxAgeAttr)
}
