package abi

// Root is the plugin (root) context of one worker VM. Its methods run in the
// callbacks of the same names.
type Root interface {
	// OnVMStart runs in proxy_on_vm_start; false fails the VM.
	OnVMStart(vmConfigSize int) bool
	// OnConfigure runs in proxy_on_configure; the plugin configuration is
	// readable only during this call. false fails the plugin.
	OnConfigure(pluginConfigSize int) bool
	// OnTick runs when the timer set with SetTickPeriod fires.
	OnTick()
	// OnHTTPCallResponse receives a callout's response; numHeaders ==
	// bodySize == numTrailers == 0 means the call failed (reset).
	OnHTTPCallResponse(token uint32, numHeaders, bodySize, numTrailers int)
	// NewStream creates the context of one HTTP stream.
	NewStream(id uint32) Stream
}

// Stream is the context of one HTTP stream.
type Stream interface {
	OnRequestHeaders(numHeaders int, endOfStream bool) Action
	OnRequestBody(bodySize int, endOfStream bool) Action
	OnRequestTrailers(numTrailers int) Action
	OnResponseHeaders(numHeaders int, endOfStream bool) Action
	OnResponseBody(bodySize int, endOfStream bool) Action
	OnResponseTrailers(numTrailers int) Action
	// OnDone runs once when the stream ends (proxy_on_log, or
	// proxy_on_delete if the host never logged it).
	OnDone()
}

// Recycler is implemented by streams that can serve again: Recycle runs
// after proxy_on_delete, once the host will not name the stream again, and
// may keep it for a later NewStream. It must drop whatever the request
// held.
type Recycler interface {
	Recycle()
}

// DefaultStream continues every phase; embed it and override what matters.
type DefaultStream struct{}

func (DefaultStream) OnRequestHeaders(int, bool) Action  { return Continue }
func (DefaultStream) OnRequestBody(int, bool) Action     { return Continue }
func (DefaultStream) OnRequestTrailers(int) Action       { return Continue }
func (DefaultStream) OnResponseHeaders(int, bool) Action { return Continue }
func (DefaultStream) OnResponseBody(int, bool) Action    { return Continue }
func (DefaultStream) OnResponseTrailers(int) Action      { return Continue }
func (DefaultStream) OnDone()                            {}

var newRoot func(id uint32) Root

// SetRootFactory registers the constructor of root contexts. Call it from
// init(); it makes no host call.
func SetRootFactory(f func(id uint32) Root) { newRoot = f }
