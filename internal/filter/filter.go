//go:build wasip1

// Package filter is the thin adapter between the proxy-wasm ABI and the
// authentication policy: it owns the root and stream contexts and every
// host call, and leaves every decision to package policy.
package filter

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/wasm-authn/wasm-authn/internal/abi"
	"github.com/wasm-authn/wasm-authn/internal/authn"
	"github.com/wasm-authn/wasm-authn/internal/config"
	"github.com/wasm-authn/wasm-authn/internal/dpop"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
	"github.com/wasm-authn/wasm-authn/internal/policy"
)

// root is the plugin context of one worker VM. It holds the compiled policy
// (immutable) and the metric ids.
type root struct {
	id      uint32
	policy  *policy.Policy
	metrics *metrics

	// allowedLog holds each rule's debug line for an allowed request, by
	// rule index, made once instead of per request.
	allowedLog []string
	// stripLens has bit n set when an identity header name (policy
	// Strip) is n bytes long (bit 63: 63 or more), so that most request
	// headers are told apart from them by their length alone.
	stripLens uint64

	// Remote keys of jwt providers, callouts in flight, and streams paused
	// until keys arrive.
	remotes  []*remoteKeys
	callouts map[uint32]*remoteKeys
	waiting  map[uint32]*stream
	spare    []*stream // deleted streams kept for reuse (NewStream)
}

// NewRoot is the root context factory registered in init().
func NewRoot(id uint32) abi.Root { return &root{id: id} }

func (r *root) OnVMStart(int) bool { return true }

// OnConfigure parses, validates and compiles the plugin configuration. A bad
// configuration fails the plugin with one critical log line per problem;
// the plugin never serves with a half-valid configuration.
func (r *root) OnConfigure(size int) bool {
	var data []byte
	if size > 0 {
		b, err := abi.GetBuffer(abi.BufferPluginConfiguraton, 0, uint32(size))
		if err != nil {
			abi.Log(abi.LogCritical, "wasm-authn: cannot read the plugin configuration: "+err.Error())
			return false
		}
		data = b
	}
	var (
		p        *policy.Policy
		warnings []string
		err      error
	)
	plugin := "default"
	if b, err := abi.GetProperty("plugin_name"); err == nil && len(b) > 0 {
		plugin = string(b)
	}
	env := config.Env{Peer: hostPeer, Shared: hostShared{}, SharedPrefix: "wasm-authn/" + plugin + "/"}
	// Compiling makes no host call that returns memory, so collection may
	// run automatically; a large configuration's garbage would otherwise
	// stay in linear memory, which never shrinks.
	abi.WithGC(func() { p, warnings, err = config.LoadWith(data, env) })
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			abi.Log(abi.LogCritical, "wasm-authn: invalid configuration: "+line)
		}
		return false
	}
	for _, w := range warnings {
		abi.Log(abi.LogWarn, "wasm-authn: configuration warning: "+w)
	}
	m, err := defineMetrics(p)
	if err != nil {
		abi.Log(abi.LogCritical, "wasm-authn: cannot define metrics: "+err.Error())
		return false
	}
	r.policy, r.metrics = p, m
	r.allowedLog = make([]string, len(p.Rules))
	for i, rule := range p.Rules {
		r.allowedLog[i] = "wasm-authn: allowed by rule " + rule.Name
	}
	r.stripLens = 0
	for _, k := range p.Strip {
		r.stripLens |= 1 << min(len(k), 63)
	}
	r.callouts, r.waiting, r.remotes = map[uint32]*remoteKeys{}, map[uint32]*stream{}, nil
	verifier := newHostVerifier()
	now := time.Now()
	for i, prov := range p.Providers {
		jp, ok := jwtOf(prov)
		if !ok {
			continue
		}
		if sv, ok := prov.(interface{ SetSignatureVerifier(jwt.SignatureVerifier) }); ok {
			sv.SetSignatureVerifier(verifier)
		}
		if rp, ok := prov.(interface{ Replay() *dpop.SharedStore }); ok && rp.Replay() != nil {
			if err := rp.Replay().Init(); err != nil {
				abi.Log(abi.LogCritical, "wasm-authn: cannot prepare the DPoP replay store: "+err.Error())
				return false
			}
		}
		if np, ok := prov.(interface{ Nonces() *dpop.SharedNonces }); ok && np.Nonces() != nil {
			if err := np.Nonces().Init(); err != nil {
				abi.Log(abi.LogCritical, "wasm-authn: cannot prepare the DPoP nonce secret: "+err.Error())
				return false
			}
		}
		if jp.Remote() == nil {
			continue
		}
		rk := newRemoteKeys(plugin, i, jp)
		r.remotes = append(r.remotes, rk)
		// Keys another worker already fetched serve at once; otherwise
		// every VM fetches now, so keys are ready before traffic.
		rk.sync()
		r.fetch(rk, now, false)
	}
	if len(r.remotes) > 0 {
		if err := abi.SetTickPeriod(uint32(tickPeriod / time.Millisecond)); err != nil {
			abi.Log(abi.LogCritical, "wasm-authn: cannot set the tick period: "+err.Error())
			return false
		}
	}
	abi.Log(abi.LogInfo, "wasm-authn: configured")
	return true
}

// tickPeriod drives key refreshes, picks up keys other VMs fetched, and
// bounds how late a paused request notices them or its deadline.
const tickPeriod = 100 * time.Millisecond

// OnTick refreshes remote keys (one VM fetches for all, under a shared
// lock) and denies paused requests whose wait is over.
func (r *root) OnTick() {
	now := time.Now()
	changed := false
	for _, rk := range r.remotes {
		_, before := rk.store.Keys()
		rk.sync()
		r.fetch(rk, now, rk.store.Ready())
		if _, after := rk.store.Keys(); after != before {
			changed = true
		}
		r.metrics.stale(rk.index, rk.store.Stale())
	}
	if changed {
		r.resume(now)
	}
	for id, s := range r.waiting {
		if now.After(s.deadline) {
			delete(r.waiting, id)
			if abi.SetEffectiveContext(id) == nil {
				s.deny(s.unavailable(), nil, "")
			}
		}
	}
}

// OnHTTPCallResponse receives a key fetch and re-judges paused requests.
func (r *root) OnHTTPCallResponse(token uint32, numHeaders, bodySize, _ int) {
	rk, ok := r.callouts[token]
	if !ok {
		return
	}
	delete(r.callouts, token)
	now := time.Now()
	r.onFetched(rk, numHeaders, bodySize, now)
	r.resume(now)
}

// resume re-judges every paused request: it continues, is denied, or keeps
// waiting (judge puts it back).
func (r *root) resume(now time.Time) {
	paused := r.waiting
	r.waiting = make(map[uint32]*stream, len(paused))
	for id, s := range paused {
		if err := abi.SetEffectiveContext(id); err != nil {
			continue // the stream is gone
		}
		if s.judge(now) == abi.Continue {
			if err := abi.ContinueStream(abi.StreamRequest); err != nil {
				abi.Log(abi.LogError, "wasm-authn: cannot continue a request: "+err.Error())
				_ = abi.CloseStream(abi.StreamRequest)
			}
		}
	}
}

// NewStream returns a stream the host deleted, if one is kept, else a new
// one: a stream is a few hundred bytes, and most requests of a worker
// end before the next begins.
func (r *root) NewStream(id uint32) abi.Stream {
	if n := len(r.spare); n > 0 {
		s := r.spare[n-1]
		r.spare[n-1] = nil
		r.spare = r.spare[:n-1]
		s.id = id
		return s
	}
	return &stream{root: r, id: id}
}

// maxSpareStreams bounds the deleted streams a root keeps for reuse.
const maxSpareStreams = 4

// Recycle keeps s, which the host deleted, for a later NewStream: it keeps
// its buffers and drops everything the request held.
func (s *stream) Recycle() {
	r := s.root
	if r.waiting[s.id] == s {
		delete(r.waiting, s.id) // OnDone did, unless it failed
	}
	if len(r.spare) >= maxSpareStreams {
		return
	}
	headers, pending := s.req.Headers, s.pending
	clear(headers[:cap(headers)])
	*s = stream{root: r, req: authn.Request{Headers: headers[:0]}, pending: pending[:0]}
	r.spare = append(r.spare, s)
}

// testPanic is nil except in test builds (panic_hook.go).
var testPanic func(*authn.Request)

// stream is the context of one HTTP stream.
type stream struct {
	abi.DefaultStream
	root      *root
	id        uint32
	responded bool
	// While paused for keys: until when, and the providers waited for.
	deadline time.Time
	pending  []int
	// req is the request as read in the latest judge; it lives as long as
	// the stream, which saves an allocation per request.
	req authn.Request
	// verdicts holds the providers' verdicts of the latest judge.
	verdicts [2]policy.ProviderVerdict
}

// OnRequestHeaders judges the request. Every host error on this path ends
// in a deny.
func (s *stream) OnRequestHeaders(int, bool) abi.Action {
	return s.judge(time.Now())
}

// OnDone forgets a stream that ended while paused.
func (s *stream) OnDone() {
	delete(s.root.waiting, s.id)
}

// judge decides the request: Continue, or Pause after a local reply or
// while a provider waits for keys. It runs in proxy_on_request_headers and
// again, with the effective context set, when keys arrive.
func (s *stream) judge(now time.Time) abi.Action {
	p := s.root.policy
	if p == nil {
		return s.deny(authn.Deny(authn.ReasonInternal, "the filter is not configured"), nil, "")
	}
	s.req = authn.Request{Headers: s.req.Headers[:0], Now: now}
	req := &s.req
	authorizations := 0
	var spoofed []string
	err := abi.VisitHeaders(abi.MapRequestHeaders, func(n int) {
		if cap(req.Headers) < n {
			req.Headers = make([]authn.Header, 0, n)
		}
	}, func(k, v string) {
		// Envoy's codecs lower-case header names; do not rely on it.
		k = lowerASCII(k)
		switch k {
		case ":method":
			req.Method = v
		case ":scheme":
			req.Scheme = v
		case ":authority":
			req.Authority = v
		case ":path":
			req.Path = v
		case "authorization":
			authorizations++
		}
		if s.isIdentityHeader(k) && !contains(spoofed, k) {
			spoofed = append(spoofed, k)
		}
		req.Headers = append(req.Headers, authn.Header{Key: k, Value: v})
	})
	if err != nil {
		return s.fail("read request headers", err)
	}
	if testPanic != nil {
		testPanic(req)
	}
	// Identity headers sent by the client are removed first, whatever the
	// outcome, so they can never be spoofed.
	for _, k := range spoofed {
		if err := abi.RemoveHeader(abi.MapRequestHeaders, k); err != nil {
			return s.fail("remove a client identity header", err)
		}
	}
	if authorizations > 1 {
		return s.deny(authn.Deny(authn.ReasonBadRequest, "the request has more than one Authorization header"), nil, "")
	}
	if why := policy.UnsafePath(req.PathOnly()); why != "" {
		return s.deny(authn.Deny(authn.ReasonBadRequest, why), nil, "")
	}
	rule := p.Route(req)
	if rule == nil {
		return s.deny(authn.Deny(authn.ReasonNoRule, "no rule allows this request"), nil, "")
	}
	d := p.Decide(req, rule, s.verdicts[:0])
	if d.Pending {
		return s.wait(&d, now)
	}
	s.root.metrics.verdicts(d.Verdicts)
	if !d.Allow {
		return s.deny(d.Err, d.Challenges, rule.Name)
	}
	if err := s.forward(req, &d); err != nil {
		return s.fail("edit the request", err)
	}
	s.root.metrics.allowed()
	abi.Log(abi.LogDebug, s.root.allowedLog[rule.Index])
	return abi.Continue
}

// wait pauses the request until the keys of the pending providers arrive,
// at most their MaxWait; it makes sure a fetch is under way.
func (s *stream) wait(d *policy.Decision, now time.Time) abi.Action {
	r := s.root
	var maxWait time.Duration
	s.pending = s.pending[:0]
	for _, v := range d.Verdicts {
		if v.Outcome != authn.Pending {
			continue
		}
		i := v.Provider
		s.pending = append(s.pending, i)
		for _, rk := range r.remotes {
			if rk.index == i {
				r.fetch(rk, now, false)
				if w := rk.prov.Remote().MaxWait; maxWait == 0 || w < maxWait {
					maxWait = w
				}
			}
		}
	}
	if maxWait <= 0 {
		return s.deny(s.unavailable(), nil, "")
	}
	if s.deadline.IsZero() {
		s.deadline = now.Add(maxWait)
	}
	r.waiting[s.id] = s
	return abi.Pause
}

// unavailable is the denial of a request whose keys did not arrive in time.
func (s *stream) unavailable() *authn.Error {
	for _, i := range s.pending {
		if jp, ok := jwtOf(s.root.policy.Providers[i]); ok {
			return jp.Unavailable()
		}
	}
	return authn.Deny(authn.ReasonInternal, "the credential could not be checked in time")
}

func (s *stream) isIdentityHeader(k string) bool {
	p := s.root.policy
	if s.root.stripLens&(1<<min(len(k), 63)) != 0 && contains(p.Strip, k) {
		return true
	}
	return strings.HasPrefix(k, p.Identity.MetadataPrefix)
}

// forward removes the credentials and adds the identity headers.
func (s *stream) forward(req *authn.Request, d *policy.Decision) error {
	for _, k := range d.Strip.RemoveHeaders {
		if err := abi.RemoveHeader(abi.MapRequestHeaders, k); err != nil {
			return err
		}
	}
	if len(d.Strip.RemoveCookies) > 0 {
		var kept []string
		for v := range req.Each("cookie") {
			if c := jwt.RemoveCookies(v, d.Strip.RemoveCookies); c != "" {
				kept = append(kept, c)
			}
		}
		if err := abi.RemoveHeader(abi.MapRequestHeaders, "cookie"); err != nil {
			return err
		}
		for _, c := range kept {
			if err := abi.AddHeader(abi.MapRequestHeaders, "cookie", c); err != nil {
				return err
			}
		}
	}
	if len(d.Strip.RemoveQuery) > 0 {
		if err := abi.ReplaceHeader(abi.MapRequestHeaders, ":path", authn.RemoveQuery(req.Path, d.Strip.RemoveQuery)); err != nil {
			return err
		}
	}
	if d.Provider == nil {
		return nil // anonymous
	}
	id := &s.root.policy.Identity
	if err := replace(id.Method, d.Provider.Method()); err != nil {
		return err
	}
	if err := replace(id.Provider, d.Provider.Name()); err != nil {
		return err
	}
	if err := replace(id.Principal, d.Identity.Principal); err != nil {
		return err
	}
	if len(d.Identity.Metadata) > 0 {
		for k, v := range d.Identity.Metadata {
			if err := replace(id.MetadataPrefix+k, v); err != nil {
				return err
			}
		}
	}
	for _, h := range d.Headers {
		if err := replace(h.Key, h.Value); err != nil {
			return err
		}
	}
	return nil
}

// replace sets request header k to v, cleaned of characters a header
// value must not hold.
func replace(k, v string) error {
	return abi.ReplaceHeader(abi.MapRequestHeaders, k, authn.CleanValue(v))
}

// fail denies with a 503 after an unexpected host error.
func (s *stream) fail(what string, err error) abi.Action {
	abi.Log(abi.LogError, "wasm-authn: cannot "+what+": "+err.Error())
	return s.deny(authn.Deny(authn.ReasonInternal, "the request could not be checked"), nil, "")
}

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// deny is the single exit for every rejection: it sends the local reply
// (status, challenges, a small JSON body without any credential), counts it
// and logs the reason at debug. It sends at most one reply per stream.
func (s *stream) deny(e *authn.Error, challenges []string, rule string) abi.Action {
	if s.responded {
		return abi.Pause
	}
	s.responded = true
	if s.root.metrics != nil {
		s.root.metrics.denied(e.Reason)
	}
	msg := "wasm-authn: denied (" + e.Reason.String() + "): " + e.Description
	if rule != "" {
		msg += " [rule " + rule + "]"
	}
	abi.Log(abi.LogDebug, msg)
	body, _ := json.Marshal(errorBody{Error: e.ErrorCode(), Description: e.Description})
	if len(challenges) == 0 && e.Challenge != "" {
		// A 401 must carry a challenge (RFC 9110 §15.5.2), e.g. a request
		// denied when its wait for keys ran out.
		challenges = []string{e.Challenge}
	}
	headers := []abi.Header{{Key: "content-type", Value: "application/json"}, {Key: "cache-control", Value: "no-store"}}
	for _, c := range challenges {
		headers = append(headers, abi.Header{Key: "www-authenticate", Value: c})
	}
	for _, h := range e.Headers {
		headers = append(headers, abi.Header{Key: h.Key, Value: authn.CleanValue(h.Value)})
	}
	if err := abi.SendLocalResponse(uint32(e.HTTPStatus()), "wasm_authn_"+e.ErrorCode(), body, headers, -1); err != nil {
		abi.Log(abi.LogCritical, "wasm-authn: cannot send the local reply, resetting the stream: "+err.Error())
		_ = abi.CloseStream(abi.StreamRequest)
	}
	return abi.Pause
}

// lowerASCII lower-cases the ASCII letters of a header name, as HTTP
// compares field names (RFC 9110 §5.1); other bytes stay as they are, so
// that no Unicode folding (the Kelvin sign to "k", say) makes a name equal
// to one the upstream would tell apart. Names already in lower case, as
// Envoy passes them, are returned without a copy.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
