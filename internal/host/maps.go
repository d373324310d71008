package host

// mutableMap is Context::getMap: the header maps the filter may modify right now, nil (→
// BadArgument) otherwise.
func (in *instance) mutableMap(c *ctxState, t MapType) *headerMap {
	s := c.stream
	if s == nil {
		return nil
	}
	switch t {
	case MapRequestHeaders:
		if s.req.headersHeld {
			return s.req.headers
		}
	case MapRequestTrailers:
		return s.trailersFor(&s.req)
	case MapResponseHeaders:
		if s.resp.headersHeld {
			return s.resp.headers
		}
	case MapResponseTrailers:
		return s.trailersFor(&s.resp)
	}
	return nil
}

// trailersFor returns the held trailers, adding an empty trailer map when the filter asks for
// one during the last data frame (decoder_callbacks_->addDecodedTrailers()).
func (s *Stream) trailersFor(f *flow) *headerMap {
	if f.trailersHeld {
		return f.trailers
	}
	if f.trailers == nil && f.chunkSet && s.eos && s.ctx.stream != nil {
		f.trailers = newHeaderMap(nil)
		f.trailersHeld = true
		f.trailersOut = true // added trailers follow the last data frame
		return f.trailers
	}
	return nil
}

// constMap is Context::getConstMap: what the get calls may read.
func (in *instance) constMap(c *ctxState, t MapType) *headerMap {
	switch t {
	case MapHTTPCallResponseHeaders:
		if in.callResp != nil {
			return in.callResp.headers
		}
		return nil
	case MapHTTPCallResponseTrailer:
		if in.callResp != nil {
			return in.callResp.trailers
		}
		return nil
	case MapGrpcReceiveInitial, MapGrpcReceiveTrailing:
		return nil
	}
	s := c.stream
	if s == nil {
		return nil
	}
	if s.logPhase {
		// The access-log phase reads the access-log copies of the maps.
		switch t {
		case MapRequestHeaders:
			return s.req.headers
		case MapResponseHeaders:
			return s.resp.headers
		case MapResponseTrailers:
			return s.resp.trailers
		}
		return nil
	}
	switch t {
	case MapRequestHeaders:
		if s.req.headersHeld {
			return s.req.headers
		}
	case MapRequestTrailers:
		if s.req.trailersHeld {
			return s.req.trailers
		}
	case MapResponseHeaders:
		if s.resp.headersHeld {
			return s.resp.headers
		}
	case MapResponseTrailers:
		if s.resp.trailersHeld {
			return s.resp.trailers
		}
	}
	return nil
}

// bufRef is a buffer as Context::getBuffer returns it. set is nil for buffers the filter may not
// modify (configuration, callout bodies, a body buffer with no instance behind it).
type bufRef struct {
	data []byte
	set  func([]byte)
}

// copyFrom is Envoy's Buffer::copyFrom for a mutable buffer instance: (0, 0) prepends,
// (0, >=size) replaces everything, (>=size, _) appends; anything else is BadArgument.
func (b *bufRef) copyFrom(start, length int, data []byte) Status {
	if b.set == nil {
		return StatusBadArgument
	}
	size := len(b.data)
	switch {
	case start == 0 && length == 0:
		b.set(append(append([]byte(nil), data...), b.data...))
	case start == 0 && length >= size:
		b.set(append([]byte(nil), data...))
	case start != 0 && start >= size:
		b.set(append(append([]byte(nil), b.data...), data...))
	default:
		return StatusBadArgument
	}
	return StatusOK
}

// buffer is Context::getBuffer; nil means NotFound.
func (in *instance) buffer(c *ctxState, t BufferType) *bufRef {
	switch t {
	case BufferCallData:
		return &bufRef{data: in.callData}
	case BufferVMConfiguration:
		// Envoy returns the VM configuration whenever asked, not only in proxy_on_vm_start.
		return &bufRef{data: in.host.cfg.VMConfig}
	case BufferPluginConfiguration:
		// Only while temp_plugin_ is set: proxy_on_configure (and the root's
		// proxy_on_context_create).
		if in.tempPlugn {
			return &bufRef{data: in.host.cfg.PluginConfig}
		}
		return nil
	case BufferHTTPRequestBody:
		if c.stream != nil {
			return c.stream.req.view()
		}
		return &bufRef{}
	case BufferHTTPResponseBody:
		if c.stream != nil {
			return c.stream.resp.view()
		}
		return &bufRef{}
	case BufferHTTPCallResponseBody:
		if in.callResp != nil {
			return &bufRef{data: in.callResp.body}
		}
		return nil
	case BufferDownstreamData, BufferUpstreamData, BufferGrpcReceive:
		return &bufRef{}
	}
	return nil
}
