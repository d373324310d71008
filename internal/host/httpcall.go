package host

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// calloutResponse is what proxy_on_http_call_response can read: map 6 (headers, ":status"
// included), buffer 4 (body) and map 7 (trailers).
type calloutResponse struct {
	headers  *headerMap
	body     []byte
	trailers *headerMap
	failed   bool // reset: the callback gets (0, 0, 0)
}

// Synthesized responses of Envoy's async client (its router answers with a local reply, which
// the async client delivers as a successful response).
const (
	bodyUpstreamTimeout = "upstream request timeout"
	// UNCONFIRMED exact wording (Router::Filter::onUpstreamReset); newer Envoy appends
	// transport failure details.
	bodyConnectFailure = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
)

func synthesized(status int, body string) *calloutResponse {
	h := newHeaderMap([][2]string{{":status", strconv.Itoa(status)}})
	h.add("content-length", strconv.Itoa(len(body)))
	h.add("content-type", "text/plain")
	return &calloutResponse{headers: h, body: []byte(body)}
}

// httpCall is Context::httpCall, owned by the root context: BadArgument for a negative timeout
// (timeout_ms read as a C int), an unknown cluster, or headers without ":path", ":method" and
// ":authority"; tokens 4, 8, 12, ... per VM.
func (in *instance) httpCall(root *ctxState, cluster string, headers [][2]string, body []byte, trailers [][2]string, timeoutMs int32) (uint32, Status) {
	if timeoutMs < 0 {
		return 0, StatusBadArgument
	}
	base, ok := in.host.cfg.Clusters[cluster]
	if !ok {
		return 0, StatusBadArgument
	}
	hm := newHeaderMap(nil)
	for _, p := range headers {
		hm.add(p[0], p[1])
	}
	if len(hm.get(":path")) == 0 || len(hm.get(":method")) == 0 || len(hm.get(":authority")) == 0 {
		return 0, StatusBadArgument
	}
	if len(body) > 0 {
		hm.set("content-length", strconv.Itoa(len(body)))
	}
	in.nextHTTPCall += 4
	token := in.nextHTTPCall
	in.calls[token] = true
	h := in.host
	ctx := in.calloutCtx()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		resp := h.doCallout(ctx, base, hm, body, trailers, time.Duration(timeoutMs)*time.Millisecond)
		if resp == nil || in.vm == nil {
			return // cancelled: the root context (or the whole VM) is gone
		}
		vm := in.vm
		vm.mu.Lock()
		defer vm.mu.Unlock()
		if vm.inst != in || in.closed {
			return
		}
		in.deliverCallout(token, resp)
		vm.notify()
	}()
	_ = root
	return token, StatusOK
}

// calloutCtx is cancelled when the instance is closed (Envoy cancels a root context's requests
// when it is destroyed) or the host shuts down.
func (in *instance) calloutCtx() context.Context {
	if in.cancelCtx == nil {
		in.cancelCtx, in.cancel = context.WithCancel(in.host.calloutCtx)
	}
	return in.cancelCtx
}

// doCallout performs the request against the cluster's base URL and converts the outcome the way
// Envoy's async client reports it. It returns nil when the call was cancelled.
func (h *Host) doCallout(ctx context.Context, base string, hm *headerMap, body []byte, trailers [][2]string, timeout time.Duration) *calloutResponse {
	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	first := func(k string) string {
		if v := hm.get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	req, err := http.NewRequestWithContext(cctx, first(":method"), strings.TrimSuffix(base, "/")+first(":path"), bytes.NewReader(body))
	if err != nil {
		return synthesized(503, bodyConnectFailure)
	}
	req.Host = first(":authority")
	req.ContentLength = int64(len(body))
	for _, p := range hm.entries {
		if strings.HasPrefix(p[0], ":") || p[0] == "content-length" || p[0] == "host" {
			continue
		}
		req.Header.Add(p[0], p[1])
	}
	if len(trailers) > 0 {
		req.Trailer = http.Header{}
		for _, p := range trailers {
			req.Trailer.Add(p[0], p[1])
		}
		req.ContentLength = -1
	}
	resp, err := h.client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(cctx.Err(), context.DeadlineExceeded):
			return synthesized(504, bodyUpstreamTimeout)
		default:
			return synthesized(503, bodyConnectFailure)
		}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		// Headers were already delivered: the async client resets the stream, which reaches
		// the plugin as a failure (0, 0, 0) — also on a timeout after the headers.
		return &calloutResponse{failed: true}
	}
	out := &calloutResponse{headers: newHeaderMap([][2]string{{":status", strconv.Itoa(resp.StatusCode)}}), body: b}
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			out.headers.add(k, v)
		}
	}
	if len(resp.Trailer) > 0 {
		out.trailers = newHeaderMap(nil)
		for _, k := range sortedKeys(resp.Trailer) {
			for _, v := range resp.Trailer[k] {
				out.trailers.add(k, v)
			}
		}
	}
	return out
}

// deliverCallout is Context::onHttpCallSuccess / onHttpCallFailure followed by
// ContextBase::onHttpCallResponse: proxy_on_http_call_response(root, token, headers, body size,
// trailers) on the ROOT context, with the response readable only during the callback. It may
// arrive after the stream that made the call was deleted.
func (in *instance) deliverCallout(token uint32, resp *calloutResponse) {
	if !in.calls[token] || in.root == nil {
		return
	}
	delete(in.calls, token)
	root := in.root
	var nh, bs, nt int
	if resp.failed {
		root.statusCode = uint32(StatusBrokenConnection)
		root.statusMsg = "reset"
	} else {
		in.callResp = resp
		nh, bs = len(resp.headers.entries), len(resp.body)
		if resp.trailers != nil {
			nt = len(resp.trailers.entries)
		}
	}
	in.addAfter(func() {
		in.callResp = nil
		root.statusMsg = ""
	})
	in.withActions(func() {
		in.call("proxy_on_http_call_response", in.fns.onHTTPCallResponse, root,
			uint64(root.id), uint64(token), uint64(nh), uint64(bs), uint64(nt))
	})
}
