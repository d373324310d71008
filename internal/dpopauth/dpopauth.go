// Package dpopauth makes a jwt provider accept DPoP-bound access tokens
// (RFC 9449): "Authorization: DPoP <token>" with a DPoP proof header whose
// key the token's cnf.jkt names, each proof used once across worker VMs.
// It wraps the jwt provider, which verifies the token itself, and the dpop
// package, which verifies proofs.
package dpopauth

import (
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/dpop"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// Provider is a jwt provider with DPoP. Like the jwt provider, its
// configuration is immutable and its caches are per VM.
type Provider struct {
	inner    *jwt.Provider
	opts     dpop.Options
	required bool
	replay   *dpop.SharedStore
	nonces   *dpop.SharedNonces
}

// New wraps inner. With required, Bearer tokens are refused; otherwise
// Bearer tokens are accepted unless they are DPoP-bound (cnf.jkt), which
// RFC 9449 §7.1 forbids presenting as Bearer. replay may be nil only where
// no request is judged (validation): a request is then denied. With
// nonces, every proof must carry a current server nonce (RFC 9449 §8-9);
// one without is answered 401 use_dpop_nonce with a DPoP-Nonce header.
func New(inner *jwt.Provider, opts dpop.Options, required bool, replay *dpop.SharedStore, nonces *dpop.SharedNonces) *Provider {
	return &Provider{inner: inner, opts: opts, required: required, replay: replay, nonces: nonces}
}

// Nonces returns the server nonce source, to Init in proxy_on_configure;
// nil when nonces are not required.
func (p *Provider) Nonces() *dpop.SharedNonces { return p.nonces }

// JWT returns the wrapped provider (its keys, cache and verifier).
func (p *Provider) JWT() *jwt.Provider { return p.inner }

// Replay returns the shared replay store, to Init in proxy_on_configure.
func (p *Provider) Replay() *dpop.SharedStore { return p.replay }

func (p *Provider) Name() string   { return p.inner.Name() }
func (p *Provider) Method() string { return "jwt" }

// Challenge is the DPoP challenge when DPoP is required, else Bearer's.
func (p *Provider) Challenge() string {
	if p.required {
		return p.opts.Challenge()
	}
	return p.inner.Challenge()
}

// SetSignatureVerifier lets proofs use the host's native crypto too.
func (p *Provider) SetSignatureVerifier(v jwt.SignatureVerifier) {
	p.inner.SetSignatureVerifier(v)
	p.opts.Verifier = v
}

// Authenticate runs in proxy_on_request_headers.
func (p *Provider) Authenticate(req *authn.Request) authn.Verdict {
	tok, isDPoP := dpopToken(req)
	if !isDPoP {
		v := p.inner.Authenticate(req)
		if v.Outcome != authn.Valid {
			return v
		}
		if p.required {
			return authn.Verdict{Outcome: authn.Invalid, Err: &authn.Error{Reason: authn.ReasonInvalidCredential, Status: 401,
				Code: dpop.CodeInvalidToken, Description: "this resource requires a DPoP-bound token", Challenge: p.opts.Challenge()}}
		}
		if c, ok := v.Identity.Claims.(*jwt.Claims); ok && dpop.IsBound(dpop.Confirmation(c)) {
			return p.deny(dpop.FailBoundTokenAsBearer)
		}
		return v
	}
	if len(req.Values("authorization")) != 1 {
		return p.deny(dpop.FailMultipleProofs)
	}
	// Verify the token as the jwt provider would a Bearer one.
	inner := *req
	inner.Headers = make([]authn.Header, 0, len(req.Headers))
	for _, h := range req.Headers {
		if h.Key == "authorization" {
			h.Value = "Bearer " + tok
		}
		inner.Headers = append(inner.Headers, h)
	}
	v := p.inner.Authenticate(&inner)
	if v.Outcome != authn.Valid {
		return v
	}
	proofHeader, f := dpop.ProofHeader(req.Values("dpop"))
	if f != dpop.FailNone {
		return p.deny(f)
	}
	htu, err := dpop.HTU(req.Scheme, req.Authority, req.Path)
	if err != nil {
		return p.deny(dpop.FailURI)
	}
	dr := dpop.Request{Method: req.Method, HTU: htu, AccessToken: tok, Now: req.Now}
	var nonce string
	if p.nonces != nil {
		var err error
		if nonce, dr.Nonces, err = p.nonces.Nonces(req.Now); err != nil {
			return p.deny(dpop.FailNonceUnavailable)
		}
	}
	proof, f := dpop.Verify(proofHeader, dr, p.opts)
	if f != dpop.FailNone {
		return p.denyNonce(f, nonce)
	}
	c, _ := v.Identity.Claims.(*jwt.Claims)
	if c == nil {
		return p.deny(dpop.FailBadConfirmation)
	}
	if f := dpop.CheckBinding(dpop.Confirmation(c), proof.Thumbprint); f != dpop.FailNone {
		return p.deny(f)
	}
	var store dpop.ReplayStore
	if p.replay != nil {
		store = p.replay
	}
	if f := dpop.CheckReplay(store, proof); f != dpop.FailNone {
		return p.deny(f)
	}
	v.Strip.RemoveHeaders = append(v.Strip.RemoveHeaders, "authorization", "dpop")
	return v
}

func (p *Provider) deny(f dpop.Failure) authn.Verdict { return p.denyNonce(f, "") }

// denyNonce denies for f, with a DPoP-Nonce header holding nonce when f
// asks the client to use one.
func (p *Provider) denyNonce(f dpop.Failure, nonce string) authn.Verdict {
	d := p.opts.Deny(f, nonce)
	if d.Nonce != "" {
		d.Err.Headers = append(d.Err.Headers, authn.Header{Key: "dpop-nonce", Value: d.Nonce})
	}
	return authn.Verdict{Outcome: authn.Invalid, Err: d.Err}
}

// dpopToken returns the token of "Authorization: DPoP <token>" (scheme
// case-insensitive).
func dpopToken(req *authn.Request) (string, bool) {
	for _, v := range req.Values("authorization") {
		if len(v) > 5 && strings.EqualFold(v[:5], "dpop ") {
			return strings.TrimLeft(v[5:], " "), true
		}
	}
	return "", false
}
