package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
)

// Request is a downstream HTTP request as Envoy's connection manager hands it to the filter chain.
type Request struct {
	Method    string
	Path      string // the request target, query included (":path")
	Authority string // ":authority" (the Host header for HTTP/1.1)
	Scheme    string // ":scheme", default "http"
	// Header holds the regular headers, in order; keys are lower-cased by the host.
	Header   [][2]string
	Body     []byte
	Trailers [][2]string
	Conn     Connection
}

// RequestFromHTTP converts a request received by an http.Server, reading at most maxBody bytes
// of its body (a larger body is an error). The connection's addresses, protocol and TLS state are
// taken from r.
func RequestFromHTTP(r *http.Request, maxBody int64) (*Request, error) {
	req := &Request{Method: r.Method, Path: r.URL.RequestURI(), Authority: r.Host, Scheme: "http"}
	if r.RequestURI != "" {
		req.Path = r.RequestURI
	}
	if r.TLS != nil {
		req.Scheme = "https"
		req.Conn.TLS = TLSInfoFromState(r.TLS, nil)
	}
	req.Conn.SourceAddress = r.RemoteAddr
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(interface{ String() string }); ok {
		req.Conn.DestinationAddress = a.String()
	}
	switch {
	case r.ProtoMajor == 2:
		req.Conn.Protocol = "HTTP/2"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		req.Conn.Protocol = "HTTP/1.0"
	default:
		req.Conn.Protocol = "HTTP/1.1"
	}
	for _, k := range sortedKeys(r.Header) {
		for _, v := range r.Header[k] {
			req.Header = append(req.Header, [2]string{strings.ToLower(k), v})
		}
	}
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) > maxBody {
			return nil, fmt.Errorf("request body over %d bytes", maxBody)
		}
		req.Body = b
	}
	for _, k := range sortedKeys(r.Trailer) {
		for _, v := range r.Trailer[k] {
			req.Trailers = append(req.Trailers, [2]string{strings.ToLower(k), v})
		}
	}
	return req, nil
}

// Response is what the client receives.
type Response struct {
	Status   int
	Header   [][2]string // ":status" excluded
	Body     []byte
	Trailers [][2]string
	// LocalReply is set when the filter (or the host, for a failed VM) answered instead of the
	// upstream.
	LocalReply *LocalReply
	// Upstream is what the upstream received, nil if the request was not forwarded.
	Upstream *UpstreamRequest
}

// UpstreamRequest is the request as forwarded to the upstream.
type UpstreamRequest struct {
	Header   [][2]string // pseudo-headers included
	Body     []byte
	Trailers [][2]string
}

// Get returns the first value of a response header (case-insensitive).
func (r *Response) Get(key string) string {
	key = strings.ToLower(key)
	for _, p := range r.Header {
		if p[0] == key {
			return p[1]
		}
	}
	return ""
}

// Write sends the response on w.
func (r *Response) Write(w http.ResponseWriter) {
	for _, p := range r.Header {
		if p[0] == "content-length" || strings.HasPrefix(p[0], ":") {
			continue
		}
		w.Header().Add(p[0], p[1])
	}
	for _, p := range r.Trailers {
		w.Header().Add(http.TrailerPrefix+p[0], p[1])
	}
	if len(r.Trailers) == 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(r.Body)))
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// headerPairs builds the filter's view of the request headers: pseudo-headers first, "host"
// folded into ":authority", and what the connection manager adds before the filters run
// (x-forwarded-proto, and x-request-id when absent). UNCONFIRMED: the exact set and order Envoy's
// HCM produces.
func (r *Request) headerPairs() [][2]string {
	scheme := r.Scheme
	if scheme == "" {
		scheme = "http"
	}
	h := [][2]string{{":authority", r.Authority}, {":path", r.Path}, {":method", r.Method}, {":scheme", scheme}}
	hasID := false
	for _, p := range r.Header {
		k := strings.ToLower(p[0])
		switch k {
		case "host", "x-forwarded-proto":
			continue
		case "x-request-id":
			hasID = true
		}
		h = append(h, [2]string{k, p[1]})
	}
	h = append(h, [2]string{"x-forwarded-proto", scheme})
	if !hasID {
		h = append(h, [2]string{"x-request-id", newRequestID()})
	}
	return h
}

// waitUntil blocks until cond holds (evaluated under the VM lock), the stream is reset, the VM
// fails while the stream is stopped, or ctx is done.
func (s *Stream) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		s.vm.mu.Lock()
		switch {
		case s.reset:
			s.vm.mu.Unlock()
			return ErrStreamReset
		case cond():
			s.vm.mu.Unlock()
			return nil
		case s.in.failed != failNone && s.pausedLocked():
			s.vm.mu.Unlock()
			return ErrVMFailed
		}
		ch := s.vm.changed
		s.vm.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// RoundTrip runs a whole exchange the way Envoy's filter chain and router would: the request
// goes through the plugin (waiting while it is stopped, e.g. for a callout), then, unless the
// plugin answered locally, to upstream; the upstream response goes back through the plugin; then
// the stream is closed (proxy_on_log, proxy_on_done, proxy_on_delete).
func (vm *VM) RoundTrip(ctx context.Context, req *Request, upstream http.Handler) (*Response, error) {
	s := vm.NewStream(req.Conn)
	defer s.Close()
	hasBody, hasTrailers := len(req.Body) > 0, len(req.Trailers) > 0
	s.RequestHeaders(req.headerPairs(), !hasBody && !hasTrailers)
	if hasBody {
		s.RequestBody(req.Body, !hasTrailers)
	}
	if hasTrailers {
		s.RequestTrailers(req.Trailers)
	}
	if err := s.waitUntil(ctx, func() bool { return s.localReply != nil || s.req.ended }); err != nil {
		return nil, err
	}

	var up *UpstreamRequest
	vm.mu.Lock()
	forward := s.localReply == nil
	if forward {
		up = &UpstreamRequest{Header: s.req.headers.pairs(), Body: append([]byte(nil), s.req.body...)}
		if s.req.trailers != nil {
			up.Trailers = s.req.trailers.pairs()
		}
		s.upstreamCalls++
	}
	vm.mu.Unlock()

	if forward {
		rec := serveUpstream(ctx, upstream, up, s.conn)
		res := rec.Result()
		h := [][2]string{{":status", strconv.Itoa(rec.Code)}}
		for _, k := range sortedKeys(res.Header) {
			for _, v := range res.Header[k] {
				h = append(h, [2]string{strings.ToLower(k), v})
			}
		}
		body := rec.Body.Bytes()
		var trailers [][2]string
		for _, k := range sortedKeys(res.Trailer) {
			for _, v := range res.Trailer[k] {
				trailers = append(trailers, [2]string{strings.ToLower(k), v})
			}
		}
		vm.mu.Lock()
		s.codeDetails = "via_upstream"
		vm.mu.Unlock()
		s.ResponseHeaders(h, len(body) == 0 && len(trailers) == 0)
		if len(body) > 0 {
			s.ResponseBody(body, len(trailers) == 0)
		}
		if len(trailers) > 0 {
			s.ResponseTrailers(trailers)
		}
	}
	if err := s.waitUntil(ctx, func() bool { return s.resp.ended }); err != nil {
		return nil, err
	}

	vm.mu.Lock()
	defer vm.mu.Unlock()
	out := &Response{Upstream: up, Body: append([]byte(nil), s.resp.body...)}
	if s.localReply != nil {
		out.LocalReply = s.localReply.clone()
	}
	for _, p := range s.resp.headers.entries {
		if p[0] == ":status" {
			if out.Status == 0 {
				out.Status, _ = strconv.Atoi(p[1])
			}
			continue
		}
		out.Header = append(out.Header, p)
	}
	if s.resp.trailers != nil && s.resp.trailersOut {
		out.Trailers = s.resp.trailers.pairs()
	}
	return out, nil
}

func serveUpstream(ctx context.Context, upstream http.Handler, up *UpstreamRequest, conn Connection) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	get := func(k string) string {
		for _, p := range up.Header {
			if p[0] == k {
				return p[1]
			}
		}
		return ""
	}
	target := get(":path")
	u, err := url.ParseRequestURI(target)
	if err != nil {
		u = &url.URL{Path: target}
	}
	r := (&http.Request{
		Method:     get(":method"),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       get(":authority"),
		RequestURI: target,
		RemoteAddr: conn.SourceAddress,
		Body:       io.NopCloser(bytes.NewReader(up.Body)),
	}).WithContext(ctx)
	r.ContentLength = int64(len(up.Body))
	for _, p := range up.Header {
		if strings.HasPrefix(p[0], ":") {
			continue
		}
		r.Header.Add(p[0], p[1])
	}
	if len(up.Trailers) > 0 {
		r.Trailer = http.Header{}
		for _, p := range up.Trailers {
			r.Trailer.Add(p[0], p[1])
		}
	}
	upstream.ServeHTTP(rec, r)
	return rec
}

// NextVM returns the worker VMs in turn, the way Envoy spreads connections over its workers.
func (h *Host) NextVM() *VM {
	n := h.rr.Add(1) - 1
	return h.vms[n%uint64(len(h.vms))]
}

// Handler returns an http.Handler that runs each request through the plugin in front of
// upstream (VM.RoundTrip), on the worker VMs in turn. A request body over Config.BufferLimit gets
// 413; a stream the plugin reset aborts the connection; any other failure to run the exchange
// gets 502.
func (h *Host) Handler(upstream http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := RequestFromHTTP(r, int64(h.cfg.BufferLimit))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		resp, err := h.NextVM().RoundTrip(r.Context(), req, upstream)
		switch {
		case err == nil:
			resp.Write(w)
		case errors.Is(err, ErrStreamReset):
			panic(http.ErrAbortHandler)
		case r.Context().Err() != nil:
			// The client went away.
		default:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
	})
}
