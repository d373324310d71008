package host

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Errors returned by Stream.Wait and VM.RoundTrip.
var (
	// ErrStreamReset: the plugin reset the stream with proxy_close_stream (Envoy resets it with
	// response code details "wasm_close_stream").
	ErrStreamReset = errors.New("stream reset by the plugin")
	// ErrVMFailed: the VM failed while the stream was stopped. Envoy would keep such a stream
	// until a timeout fires; the host reports it at once instead.
	ErrVMFailed = errors.New("the VM failed while the stream was stopped")
	// ErrStreamClosed: the stream was closed.
	ErrStreamClosed = errors.New("stream closed")
)

// LocalReply is a response the filter (or the host on its behalf) sent instead of forwarding the
// request: proxy_send_local_response, or the 503 of a failed VM.
type LocalReply struct {
	Status int
	// Details is the response code details, whitespace replaced with '_'
	// (%RESPONSE_CODE_DETAILS%).
	Details string
	Body    []byte
	// Headers are the additional headers the plugin passed, keys lower-cased.
	Headers [][2]string
	// GrpcStatus is the gRPC status, or -1 for none.
	GrpcStatus int
	// Failure is set for the host's "wasm_fail_stream" reply after the VM failed.
	Failure bool
}

func (lr *LocalReply) clone() *LocalReply {
	c := *lr
	c.Body = append([]byte(nil), lr.Body...)
	c.Headers = append([][2]string(nil), lr.Headers...)
	return &c
}

// flow is one direction of a stream (request: decoder path; response: encoder path) as the Wasm
// filter and the filter manager around it see it.
type flow struct {
	started bool

	headers      *headerMap
	headersHeld  bool // request_headers_ / response_headers_: mutable while the filter holds them
	trailers     *headerMap
	trailersHeld bool
	chunk        []byte // request_body_buffer_: the current data frame
	chunkSet     bool
	buffering    bool   // buffering_request_body_: the filter sees the filter manager's buffer
	buffered     []byte // data the filter manager buffered for this filter

	stopAll         bool // headers returned StopAllIteration*: everything waits for continue
	headersStopped  bool // headers returned StopIteration (allow_on_headers_stop_iteration)
	dataStopped     bool
	trailersStopped bool
	heldEOS         bool // end of stream arrived (as data) while stopAll
	heldTrailers    bool // trailers arrived while stopAll
	endSeen         bool

	// What was passed on to the next filter (the upstream for requests, the client for
	// responses).
	headersOut  bool
	body        []byte
	trailersOut bool
	ended       bool
}

func (f *flow) stopped() bool {
	return f.stopAll || f.headersStopped || f.dataStopped || f.trailersStopped
}

// view is the HttpRequestBody/HttpResponseBody buffer the filter sees (Context::getBuffer).
func (f *flow) view() *bufRef {
	if f.buffering {
		return &bufRef{data: f.buffered, set: func(b []byte) { f.buffered = b }}
	}
	if f.chunkSet {
		return &bufRef{data: f.chunk, set: func(b []byte) { f.chunk = b }}
	}
	return &bufRef{} // a buffer with no instance: size 0, immutable
}

func (f *flow) passHeaders() {
	f.headersOut = true
	f.headersStopped = false
}

func (f *flow) maybeEnd() {
	if f.endSeen && f.headersOut && !f.stopped() && len(f.buffered) == 0 && !f.heldTrailers &&
		(f.trailers == nil || f.trailersOut) {
		f.ended = true
	}
}

// Stream is one HTTP stream on a VM, driven event by event like Envoy's filter manager drives the
// Wasm filter. Its methods are safe for concurrent use (they serialise on the VM); callout
// responses arrive on other goroutines.
type Stream struct {
	vm   *VM
	in   *instance
	ctx  *ctxState
	conn Connection

	start      time.Time
	completeAt time.Time
	eos        bool // end_of_stream_

	req, resp flow

	localReply       *LocalReply
	failureReplySent bool // failure_local_reply_sent_
	streamFailed     bool // stream_failed_ (CHECK_FAIL)
	reset            bool
	logPhase         bool
	closed           bool

	responseCode  int
	codeDetails   string
	filterState   map[string][]byte
	bytesReceived int
	bytesSent     int
	upstreamCalls int
}

// NewStream starts a stream on the VM (Envoy creates the filter and its context here; the
// context id is allocated now, proxy_on_context_create runs lazily with the request headers).
// Under FailReload a failed VM is first replaced if the backoff allows.
func (vm *VM) NewStream(conn Connection) *Stream {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.maybeReload()
	in := vm.inst
	h := vm.host
	if conn.ID == 0 {
		conn.ID = h.connSeq.Add(1)
	}
	if conn.SourceAddress == "" {
		conn.SourceAddress = "127.0.0.1:40000"
	}
	if conn.DestinationAddress == "" {
		conn.DestinationAddress = "127.0.0.1:10000"
	}
	if conn.Protocol == "" {
		conn.Protocol = "HTTP/1.1"
	}
	c := &ctxState{id: in.allocContextID()}
	if in.root != nil {
		c.parent = in.root.id
	}
	s := &Stream{vm: vm, in: in, ctx: c, conn: conn, start: h.clock.Now()}
	c.stream = s
	in.contexts[c.id] = c
	return s
}

// NewStreamUnderRoot is NewStream, but the stream's proxy_on_context_create
// names root as its root context: fault injection for a stream the plugin
// has no root for (a root it failed to create, or a host bug).
func (vm *VM) NewStreamUnderRoot(conn Connection, root uint32) *Stream {
	s := vm.NewStream(conn)
	vm.mu.Lock()
	s.ctx.parent = root
	vm.mu.Unlock()
	return s
}

// maybeReload replaces a VM that failed at run time (FailReload). The caller holds vm.mu.
func (vm *VM) maybeReload() {
	h := vm.host
	in := vm.inst
	if h.cfg.Failure != FailReload || in.failed != failRuntimeError {
		return
	}
	now := h.clock.Now()
	if !vm.lastReload.IsZero() && now.Sub(vm.lastReload) < h.cfg.ReloadBackoff {
		return
	}
	vm.lastReload = now
	fresh, err := h.startInstance(vm, vm.index)
	if err != nil {
		h.addLog(Log{VM: vm.index, Level: LogError, Source: SourceHost, Message: "wasm reload failed: " + err.Error()})
		return
	}
	in.close()
	vm.inst = fresh
	vm.reloads++
	h.addLog(Log{VM: vm.index, Level: LogInfo, Source: SourceHost, Message: "wasm VM reloaded after a runtime error"})
}

// ID returns the stream's context id.
func (s *Stream) ID() uint32 { return s.ctx.id }

// Connection returns the stream's connection.
func (s *Stream) Connection() Connection { return s.conn }

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// onCreate is ContextBase::onCreate: proxy_on_context_create(stream, root) once, lazily.
func (s *Stream) onCreate() {
	in := s.in
	if !s.ctx.created && in.failed == failNone && in.fns.onContextCreate != nil {
		in.withActions(func() {
			in.call("proxy_on_context_create", in.fns.onContextCreate, s.ctx, uint64(s.ctx.id), uint64(s.ctx.parent))
		})
	}
	s.ctx.created = true
}

// checkFail is cpp-host's CHECK_FAIL_HTTP.
func (s *Stream) checkFail(open, closed Action) (Action, bool) {
	if s.in.failed == failNone {
		return 0, false
	}
	if s.vm.host.cfg.Failure == FailOpen {
		return open, true
	}
	if !s.streamFailed {
		s.failStream()
		s.streamFailed = true
	}
	return closed, true
}

// failStream is Context::failStream: a local 503 with an empty body, gRPC status Unavailable and
// details "wasm_fail_stream", at most once per stream, without calling the VM.
func (s *Stream) failStream() {
	if s.failureReplySent {
		return
	}
	s.installLocalReply(&LocalReply{Status: 503, Details: "wasm_fail_stream", GrpcStatus: 14, Failure: true})
	s.failureReplySent = true
}

type callKind int

const (
	kindHeaders callKind = iota
	kindData
	kindTrailers
)

// invoke runs one stream callback the way ContextBase::on{Request,Response}{Headers,Body,
// Trailers} do: CHECK_FAIL before and after, the after-VM-call actions, and the return-value
// conversion. apply records the result before the after-VM-call actions run.
func (s *Stream) invoke(kind callKind, name string, fn api.Function, apply func(Action), args ...uint64) Action {
	in := s.in
	var open, closed Action
	switch kind {
	case kindHeaders:
		open, closed = Continue, StopAllIterationAndWatermark
	case kindData:
		open, closed = Continue, StopIterationNoBuffer
	default:
		open, closed = Continue, StopIteration
	}
	if a, failed := s.checkFail(open, closed); failed {
		apply(a)
		return a
	}
	if fn == nil {
		apply(Continue)
		return Continue
	}
	var act Action
	in.withActions(func() {
		r, _ := in.call(name, fn, s.ctx, append([]uint64{uint64(s.ctx.id)}, args...)...)
		if a, failed := s.checkFail(open, closed); failed {
			act = a
		} else {
			act = s.convert(kind, uint32(r))
		}
		apply(act)
	})
	return act
}

// convert is convertVmCallResultToFilter{Headers,Data,Trailers}Status followed by Envoy's
// convertFilter*Status.
func (s *Stream) convert(kind callKind, r uint32) Action {
	stop := s.in.stopNext // a local reply was sent during the callback
	switch kind {
	case kindHeaders:
		if stop || r > 4 {
			return StopAllIterationAndWatermark
		}
		switch r {
		case 0, 2: // 2 (ContinueAndEndStream) has no case in Envoy's conversion: Continue
			return Continue
		case 1:
			if s.vm.host.cfg.AllowOnHeadersStopIteration {
				return StopIteration
			}
			return StopAllIterationAndWatermark
		case 3:
			return StopAllIterationAndBuffer
		}
		return StopAllIterationAndWatermark
	case kindData:
		if stop || r > 3 {
			return StopIterationNoBuffer
		}
		return [...]Action{Continue, StopIterationAndBuffer, StopIterationAndWatermark, StopIterationNoBuffer}[r]
	}
	if stop || r > 1 {
		return StopIteration
	}
	if r == 0 {
		return Continue
	}
	return StopIteration
}

func (s *Stream) flow(request bool) *flow {
	if request {
		return &s.req
	}
	return &s.resp
}

// skipResponseFilter: Envoy's encode* return Continue without calling the VM when the context
// was never created or a failure reply was sent.
func (s *Stream) skipResponseFilter() bool { return !s.ctx.created || s.failureReplySent }

// requestDone reports whether the request side can no longer progress (a local reply or a reset).
func (s *Stream) requestDone() bool { return s.localReply != nil || s.reset || s.closed }

// RequestHeaders delivers the request headers (decodeHeaders): pseudo-headers first
// (":method", ":path", ":authority", ":scheme"), then the rest. endOfStream is true for a request
// without body and trailers.
func (s *Stream) RequestHeaders(h [][2]string, endOfStream bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	defer s.vm.notify()
	f := &s.req
	if f.started || s.requestDone() {
		return StopIterationNoBuffer
	}
	s.onCreate()
	f.started = true
	f.headers = newHeaderMap(h)
	f.headersHeld = true
	s.eos = endOfStream
	f.endSeen = endOfStream
	return s.decodeHeaders(f, endOfStream)
}

func (s *Stream) decodeHeaders(f *flow, eos bool) Action {
	return s.invoke(kindHeaders, "proxy_on_request_headers", s.in.fns.onRequestHeaders, func(a Action) {
		s.applyHeaders(f, a)
	}, uint64(len(f.headers.entries)), b2u(eos))
}

func (s *Stream) applyHeaders(f *flow, a Action) {
	switch a {
	case Continue:
		f.headersHeld = false
		f.passHeaders()
		f.maybeEnd()
	case StopIteration:
		f.headersStopped = true
	default:
		f.stopAll = true
	}
}

// RequestBody delivers a request data frame (decodeData).
func (s *Stream) RequestBody(b []byte, endOfStream bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	defer s.vm.notify()
	if !s.req.started || s.requestDone() {
		return StopIterationNoBuffer
	}
	s.bytesReceived += len(b)
	return s.data(true, append([]byte(nil), b...), endOfStream)
}

// data is decodeData/encodeData for one direction.
func (s *Stream) data(request bool, b []byte, eos bool) Action {
	f := s.flow(request)
	if eos {
		f.endSeen = true
	}
	if f.stopAll || f.trailersStopped || f.heldTrailers {
		// The filter manager buffers the data for this filter without calling it.
		f.buffered = append(f.buffered, b...)
		if eos {
			f.heldEOS = true
		}
		return Held
	}
	if !s.ctx.created || (!request && s.skipResponseFilter()) {
		f.body = append(f.body, b...)
		f.maybeEnd()
		return Continue
	}
	if f.buffering {
		// decoder_callbacks_->addDecodedData(data): the frame joins the buffer the filter sees.
		f.buffered = append(f.buffered, b...)
		f.chunk, f.chunkSet = nil, true
		if len(f.buffered) > s.vm.host.cfg.BufferLimit {
			s.overflow(request)
			return StopIterationAndBuffer
		}
	} else {
		f.chunk, f.chunkSet = b, true
	}
	s.eos = eos
	size := len(f.view().data)
	name, fn := "proxy_on_request_body", s.in.fns.onRequestBody
	if !request {
		name, fn = "proxy_on_response_body", s.in.fns.onResponseBody
	}
	return s.invoke(kindData, name, fn, func(a Action) { s.applyData(request, f, a) }, uint64(size), b2u(eos))
}

func (s *Stream) applyData(request bool, f *flow, a Action) {
	f.buffering = false
	switch a {
	case Continue:
		f.chunkSet = false
		if !f.headersOut {
			f.passHeaders()
		}
		f.body = append(f.body, f.buffered...)
		f.body = append(f.body, f.chunk...)
		f.buffered, f.chunk = nil, nil
		f.dataStopped = false
		f.maybeEnd()
	case StopIterationAndBuffer:
		f.buffering = true
		f.buffered = append(f.buffered, f.chunk...)
		f.chunk = nil
		f.dataStopped = true
	case StopIterationAndWatermark:
		// The filter manager buffers the frame; the next callback sees only the next frame.
		f.buffered = append(f.buffered, f.chunk...)
		f.chunk = nil
		f.dataStopped = true
	default:
		// StopIterationNoBuffer: the frame is neither forwarded nor buffered (UNCONFIRMED: what
		// Envoy's filter manager does with an undrained frame).
		f.dataStopped = true
	}
	if len(f.buffered) > s.vm.host.cfg.BufferLimit && s.localReply == nil {
		s.overflow(request)
	}
}

// overflow is the filter manager's buffer-limit reply: 413 for a request body, 500 for a
// response body.
func (s *Stream) overflow(request bool) {
	if request {
		s.installLocalReply(&LocalReply{Status: 413, Body: []byte("Payload Too Large"), Details: "request_payload_too_large", GrpcStatus: -1})
	} else {
		s.installLocalReply(&LocalReply{Status: 500, Body: []byte("Internal Server Error"), Details: "response_payload_too_large", GrpcStatus: -1})
	}
}

// RequestTrailers delivers the request trailers (decodeTrailers); they end the request.
func (s *Stream) RequestTrailers(t [][2]string) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	defer s.vm.notify()
	if !s.req.started || s.requestDone() {
		return StopIterationNoBuffer
	}
	return s.trailersIn(true, t)
}

func (s *Stream) trailersIn(request bool, t [][2]string) Action {
	f := s.flow(request)
	f.endSeen = true
	f.trailers = newHeaderMap(t)
	if f.stopAll {
		f.heldTrailers = true
		return Held
	}
	if !s.ctx.created || (!request && s.skipResponseFilter()) {
		f.trailersOut = true
		f.body = append(f.body, f.buffered...)
		f.buffered = nil
		f.maybeEnd()
		return Continue
	}
	return s.callTrailers(request, f)
}

func (s *Stream) callTrailers(request bool, f *flow) Action {
	f.trailersHeld = true
	name, fn := "proxy_on_request_trailers", s.in.fns.onRequestTrailers
	if !request {
		name, fn = "proxy_on_response_trailers", s.in.fns.onResponseTrailers
	}
	return s.invoke(kindTrailers, name, fn, func(a Action) {
		if a != Continue {
			f.trailersStopped = true
			return
		}
		f.trailersHeld = false
		if !f.headersOut {
			f.passHeaders()
		}
		f.body = append(f.body, f.buffered...)
		f.buffered = nil
		f.dataStopped = false
		f.trailersOut = true
		f.maybeEnd()
	}, uint64(len(f.trailers.entries)))
}

// ResponseHeaders delivers the upstream response headers (encodeHeaders), ":status" first.
func (s *Stream) ResponseHeaders(h [][2]string, endOfStream bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	defer s.vm.notify()
	if s.localReply != nil || s.resp.started || s.closed || s.reset {
		return StopIterationNoBuffer
	}
	return s.encodeHeaders(h, endOfStream)
}

func (s *Stream) encodeHeaders(h [][2]string, eos bool) Action {
	f := &s.resp
	f.started = true
	f.headers = newHeaderMap(h)
	f.endSeen = eos
	if v := f.headers.get(":status"); len(v) > 0 {
		s.responseCode, _ = strconv.Atoi(v[0])
	}
	if s.skipResponseFilter() {
		f.passHeaders()
		f.maybeEnd()
		return Continue
	}
	f.headersHeld = true
	s.eos = eos
	return s.invoke(kindHeaders, "proxy_on_response_headers", s.in.fns.onResponseHeaders, func(a Action) {
		s.applyHeaders(f, a)
	}, uint64(len(f.headers.entries)), b2u(eos))
}

// ResponseBody delivers an upstream response data frame (encodeData).
func (s *Stream) ResponseBody(b []byte, endOfStream bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	defer s.vm.notify()
	if !s.resp.started || s.closed || s.reset || (s.localReply != nil && s.resp.ended) {
		return StopIterationNoBuffer
	}
	s.bytesSent += len(b)
	return s.data(false, append([]byte(nil), b...), endOfStream)
}

// ResponseTrailers delivers the upstream response trailers (encodeTrailers).
func (s *Stream) ResponseTrailers(t [][2]string) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	defer s.vm.notify()
	if !s.resp.started || s.closed || s.reset || (s.localReply != nil && s.resp.ended) {
		return StopIterationNoBuffer
	}
	return s.trailersIn(false, t)
}

// sendLocalReply is the after-VM-call action of proxy_send_local_response
// (decoder_callbacks_->sendLocalReply).
func (s *Stream) sendLocalReply(lr *LocalReply) {
	if s.closed || s.reset {
		return
	}
	s.installLocalReply(lr)
	s.vm.notify()
}

// installLocalReply makes lr the stream's response. Before any response headers exist the reply
// goes through the encoder path, so this filter's response callbacks see it (unless it is the
// failure reply, or the context was never created); once an upstream response has started, it
// replaces that response directly (UNCONFIRMED: Envoy's sendDirectLocalReply path). A second
// local reply is ignored.
func (s *Stream) installLocalReply(lr *LocalReply) {
	if s.localReply != nil {
		return
	}
	s.localReply = lr
	s.codeDetails = lr.Details
	s.responseCode = lr.Status
	// The request goes no further.
	s.req.stopAll, s.req.headersStopped, s.req.dataStopped, s.req.trailersStopped = false, false, false, false
	s.req.headersHeld, s.req.trailersHeld = false, false

	h := [][2]string{{":status", strconv.Itoa(lr.Status)}}
	h = append(h, lr.Headers...)
	hm := newHeaderMap(h)
	// Utility::sendLocalReply: content-length, and text/plain for a non-empty body
	// (UNCONFIRMED: content-length: 0 for an empty body).
	hm.set("content-length", strconv.Itoa(len(lr.Body)))
	if len(lr.Body) > 0 && len(hm.get("content-type")) == 0 {
		hm.add("content-type", "text/plain")
	}
	runFilter := !s.resp.started && !lr.Failure && !s.skipResponseFilter()
	s.resp = flow{}
	if !runFilter {
		s.resp = flow{started: true, headers: hm, headersOut: true, body: append([]byte(nil), lr.Body...), endSeen: true}
		s.resp.ended = true
		return
	}
	s.encodeHeaders(hm.entries, len(lr.Body) == 0)
	if len(lr.Body) > 0 && !s.reset {
		s.data(false, append([]byte(nil), lr.Body...), true)
	}
}

// continueStream is Context::continueStream.
func (in *instance) continueStream(c *ctxState, t StreamType) Status {
	switch t {
	case StreamHTTPRequest, StreamHTTPResponse:
		if s := c.stream; s != nil {
			request := t == StreamHTTPRequest
			in.addAfter(func() { s.continueFlow(request) })
			// Envoy clears the request pointers for both stream types.
			s.req.headersHeld, s.req.trailersHeld = false, false
			s.req.chunkSet = false
		}
		return StatusOK
	case StreamDownstream:
		return StatusOK // no network filter callbacks on an HTTP context
	}
	return StatusUnimplemented // Upstream
}

// continueFlow is continueDecoding/continueEncoding, run after the VM call.
func (s *Stream) continueFlow(request bool) {
	defer s.vm.notify()
	f := s.flow(request)
	if s.closed || s.reset || (request && s.localReply != nil) || !f.stopped() {
		return // nothing to continue ("cannot continue filter chain")
	}
	wasStopAll := f.stopAll
	f.stopAll, f.headersStopped = false, false
	if !f.headersOut {
		f.passHeaders()
	}
	if wasStopAll {
		// Iteration resumes from this filter: the buffered data and the trailers go through it.
		if len(f.buffered) > 0 || f.heldEOS {
			b := f.buffered
			f.buffered = nil
			eos := f.heldEOS && !f.heldTrailers
			f.heldEOS = false
			s.data(request, b, eos)
			if f.stopped() || s.requestDone() && request {
				return
			}
		}
		if f.heldTrailers {
			f.heldTrailers = false
			if s.ctx.created && !(!request && s.skipResponseFilter()) {
				s.callTrailers(request, f)
				return
			}
			f.trailersOut = true
		}
		f.maybeEnd()
		return
	}
	// Stopped at data or trailers: the buffered data (and trailers) go to the next filter.
	f.body = append(f.body, f.buffered...)
	f.buffered = nil
	f.buffering = false
	f.dataStopped = false
	if f.trailersStopped {
		f.trailersStopped = false
		f.trailersHeld = false
		f.trailersOut = true
	}
	f.maybeEnd()
}

// resetByPlugin is the after-VM-call action of proxy_close_stream.
func (s *Stream) resetByPlugin() {
	if s.codeDetails == "" {
		s.codeDetails = "wasm_close_stream"
	}
	s.reset = true
	s.vm.notify()
}

// Wait blocks while the filter holds the stream stopped (StopAllIteration from a header
// callback, a stopped data frame or trailers) until proxy_continue_stream or a local reply
// releases it, or ctx is done. Callout responses arrive on other goroutines meanwhile.
func (s *Stream) Wait(ctx context.Context) error {
	return s.waitUntil(ctx, func() bool { return !s.pausedLocked() })
}

func (s *Stream) pausedLocked() bool {
	if s.localReply == nil && s.req.stopped() {
		return true
	}
	return s.resp.stopped()
}

// Paused reports whether the filter holds the stream stopped.
func (s *Stream) Paused() bool {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return s.pausedLocked()
}

// RequestHeaderMap returns the request headers as the plugin left them: what the upstream gets.
func (s *Stream) RequestHeaderMap() [][2]string {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if s.req.headers == nil {
		return nil
	}
	return s.req.headers.pairs()
}

// RequestTrailerMap returns the request trailers as the plugin left them.
func (s *Stream) RequestTrailerMap() [][2]string {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if s.req.trailers == nil {
		return nil
	}
	return s.req.trailers.pairs()
}

// ForwardedRequestBody returns the request body passed on to the upstream so far.
func (s *Stream) ForwardedRequestBody() []byte {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return append([]byte(nil), s.req.body...)
}

// RequestForwarded reports whether the request headers were passed on to the upstream, and
// RequestComplete whether the whole request was.
func (s *Stream) RequestForwarded() bool {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return s.req.headersOut && s.localReply == nil
}

// RequestComplete reports whether the whole request (headers, body, trailers) was passed on.
func (s *Stream) RequestComplete() bool {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return s.req.ended && s.localReply == nil
}

// ResponseHeaderMap returns the response headers as the plugin left them: what the client gets
// (the local reply's headers after a local reply).
func (s *Stream) ResponseHeaderMap() [][2]string {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if s.resp.headers == nil {
		return nil
	}
	return s.resp.headers.pairs()
}

// ResponseBodyOut returns the response body passed on to the client so far.
func (s *Stream) ResponseBodyOut() []byte {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return append([]byte(nil), s.resp.body...)
}

// ResponseTrailerMap returns the response trailers as the plugin left them.
func (s *Stream) ResponseTrailerMap() [][2]string {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if s.resp.trailers == nil {
		return nil
	}
	return s.resp.trailers.pairs()
}

// ResponseComplete reports whether the whole response was passed on to the client.
func (s *Stream) ResponseComplete() bool {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return s.resp.ended
}

// LocalReply returns the local reply sent on this stream, or nil.
func (s *Stream) LocalReply() *LocalReply {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if s.localReply == nil {
		return nil
	}
	return s.localReply.clone()
}

// WasReset reports whether the plugin reset the stream (proxy_close_stream).
func (s *Stream) WasReset() bool {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return s.reset
}

// ResponseCodeDetails returns %RESPONSE_CODE_DETAILS% as far as the host knows it.
func (s *Stream) ResponseCodeDetails() string {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return s.codeDetails
}

// Close ends the stream the way Envoy does: the final access log (proxy_on_log; the context is
// created first if it never was), then onDestroy (proxy_on_done, proxy_on_delete). Each call is
// skipped if the VM has failed; proxy_on_delete also if the context was never created in the VM.
func (s *Stream) Close() {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	defer s.vm.notify()
	if s.closed {
		return
	}
	in := s.in
	s.completeAt = s.vm.host.clock.Now()
	// Context::log
	if !s.ctx.created {
		s.onCreate()
	}
	s.logPhase = true
	if in.failed == failNone && in.fns.onLog != nil {
		in.withActions(func() { in.call("proxy_on_log", in.fns.onLog, s.ctx, uint64(s.ctx.id)) })
	}
	s.logPhase = false
	// Context::onDestroy
	if s.ctx.created {
		if in.failed == failNone && in.fns.onDone != nil {
			in.withActions(func() { in.call("proxy_on_done", in.fns.onDone, s.ctx, uint64(s.ctx.id)) })
		}
		if in.failed == failNone && in.fns.onDelete != nil {
			in.withActions(func() { in.call("proxy_on_delete", in.fns.onDelete, s.ctx, uint64(s.ctx.id)) })
		}
	}
	s.closed = true
	delete(in.contexts, s.ctx.id)
}
