package plugintest

import "strings"

// Request is what a client sent: request headers, pseudo-headers included.
type Request struct {
	Headers [][2]string
}

// Get builds a GET request for path on host, with extra headers.
func Get(host, path string, extra ...[2]string) Request {
	h := [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", host}, {":path", path}}
	return Request{Headers: append(h, extra...)}
}

// Reply is a local response the plugin sent.
type Reply struct {
	Status  int
	Details string
	Headers [][2]string
	Body    []byte
}

// Result is what happened to a request.
type Result struct {
	// Local is the plugin's local reply, nil if the request went on.
	Local *Reply
	// Upstream are the request headers as the plugin left them.
	Upstream [][2]string
	// Paused reports a request that neither continued nor got a reply.
	Paused bool
}

// Header returns the values of a header in hs (lower-case name).
func Header(hs [][2]string, name string) []string {
	var vs []string
	for _, h := range hs {
		if strings.EqualFold(h[0], name) {
			vs = append(vs, h[1])
		}
	}
	return vs
}

// Allowed reports whether the request went upstream.
func (r Result) Allowed() bool { return r.Local == nil && !r.Paused }

// Status is the local reply's status, or 0 when allowed.
func (r Result) Status() int {
	if r.Local == nil {
		return 0
	}
	return r.Local.Status
}
