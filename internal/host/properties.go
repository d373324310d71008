package host

import (
	"bytes"
	"encoding/binary"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Property values, as the CEL values Envoy's Context::getProperty resolves paths to. serialize
// turns them into the bytes the guest receives (Context serializeValue).
type (
	pStr   string
	pBytes []byte
	pInt   int64
	pUint  uint64
	pBool  bool
	pTime  time.Time
	pDur   time.Duration
	pNull  struct{}
	// pMap is a CEL map; keys is nil for maps that cannot list their keys (the request,
	// connection... wrappers), which makes serializing the whole map a SerializationFailure.
	pMap struct {
		get  func(key string) (pval, bool)
		keys func() []string
	}
	// pMsg is a protobuf message: serialized as its wire bytes; fields reachable by name.
	pMsg struct {
		raw    []byte
		fields map[string]pval
	}
)

type pval interface{}

func serializeValue(v pval) ([]byte, Status) {
	switch x := v.(type) {
	case pStr:
		return []byte(x), StatusOK
	case pBytes:
		return []byte(x), StatusOK
	case pInt:
		return binary.LittleEndian.AppendUint64(nil, uint64(x)), StatusOK
	case pUint:
		return binary.LittleEndian.AppendUint64(nil, uint64(x)), StatusOK
	case float64:
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)), StatusOK
	case pBool:
		if x {
			return []byte{1}, StatusOK
		}
		return []byte{0}, StatusOK
	case pDur:
		return binary.LittleEndian.AppendUint64(nil, uint64(int64(x))), StatusOK
	case pTime:
		return binary.LittleEndian.AppendUint64(nil, uint64(time.Time(x).UnixNano())), StatusOK
	case pMsg:
		return x.raw, StatusOK
	case pMap:
		if x.keys == nil {
			return nil, StatusSerializationFailure
		}
		var pairs [][2]string
		for _, k := range x.keys() {
			kv, st := serializeValue(pStr(k))
			if st != StatusOK {
				return nil, StatusSerializationFailure
			}
			val, ok := x.get(k)
			if !ok {
				return nil, StatusSerializationFailure
			}
			vv, st := serializeValue(val)
			if st != StatusOK {
				return nil, StatusSerializationFailure
			}
			pairs = append(pairs, [2]string{string(kv), string(vv)})
		}
		return marshalPairs(pairs), StatusOK
	}
	// CEL null and anything else.
	return nil, StatusSerializationFailure
}

// splitPath splits a property path at NUL bytes the way Context::getProperty walks it: a trailing
// NUL is tolerated, an empty path has no segments.
func splitPath(path []byte) []string {
	var parts []string
	start := 0
	for start < len(path) {
		end := bytes.IndexByte(path[start:], 0)
		if end < 0 {
			end = len(path)
		} else {
			end += start
		}
		parts = append(parts, string(path[start:end]))
		start = end + 1
	}
	return parts
}

// getProperty is Context::getProperty.
func (in *instance) getProperty(c *ctxState, path []byte) ([]byte, Status) {
	parts := splitPath(path)
	if len(parts) == 0 {
		return nil, StatusSerializationFailure // an unset CEL value
	}
	v, ok := in.topValue(c, parts[0])
	if !ok {
		return nil, StatusNotFound
	}
	for _, p := range parts[1:] {
		switch x := v.(type) {
		case pMap:
			if v, ok = x.get(p); !ok {
				return nil, StatusNotFound
			}
		case pMsg:
			if v, ok = x.fields[p]; !ok {
				return nil, StatusNotFound
			}
		default:
			return nil, StatusNotFound
		}
	}
	return serializeValue(v)
}

// setProperty is Context::setProperty: the value is stored as filter state "wasm.<path>".
func (in *instance) setProperty(c *ctxState, key string, value []byte) Status {
	if c.stream == nil {
		return StatusNotFound // no stream info
	}
	if c.stream.filterState == nil {
		c.stream.filterState = map[string][]byte{}
	}
	c.stream.filterState["wasm."+key] = append([]byte(nil), value...)
	return StatusOK
}

// topValue resolves the first path segment: the CEL activation (StreamActivation::FindValue),
// then the Wasm tokens, then filter state "wasm.<name>".
func (in *instance) topValue(c *ctxState, name string) (pval, bool) {
	s := c.stream // nil: no stream info (root context, VM context)
	cfg := &in.host.cfg
	switch name {
	case "request":
		if s != nil {
			return s.requestValue(), true
		}
	case "response":
		if s != nil {
			return s.responseValue(), true
		}
	case "connection":
		if s != nil {
			return s.connectionValue(), true
		}
	case "upstream":
		if s != nil {
			return s.upstreamValue(), true
		}
	case "source":
		if s != nil {
			return peerValue(s.conn.SourceAddress), true
		}
	case "destination":
		if s != nil {
			return peerValue(s.conn.DestinationAddress), true
		}
	case "metadata":
		if s != nil {
			return pMsg{fields: map[string]pval{}}, true // empty dynamic metadata
		}
	case "filter_state":
		if s != nil {
			return pMap{get: func(k string) (pval, bool) {
				v, ok := s.filterState[k]
				return pBytes(v), ok
			}}, true
		}
	case "xds":
		return in.xdsValue(s), true
	case "plugin_name":
		if c.id != 0 {
			return pStr(cfg.PluginName), true
		}
	case "plugin_root_id":
		return pStr(cfg.RootID), true
	case "plugin_vm_id":
		return pStr(cfg.VMID), true
	case "connection_id":
		if s != nil {
			return pUint(s.conn.ID), true
		}
	default:
		if s != nil {
			if v, ok := s.filterState["wasm."+name]; ok {
				return pBytes(v), true
			}
		}
	}
	return nil, false
}

func headersValue(m *headerMap) pMap {
	return pMap{
		get: func(k string) (pval, bool) {
			if m == nil || !validHeaderName(k) {
				return nil, false
			}
			v, ok := m.joined(k)
			return pStr(v), ok
		},
		keys: func() []string {
			if m == nil {
				return nil
			}
			var keys []string
			seen := map[string]bool{}
			for _, p := range m.entries {
				if !seen[p[0]] {
					seen[p[0]] = true
					keys = append(keys, p[0])
				}
			}
			return keys
		},
	}
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c == 0 || c == '\r' || c == '\n' {
			return false
		}
	}
	return true
}

// activeRequestHeaders is activation_request_headers_: the held request headers, or in the
// access-log phase the access-log copy.
func (s *Stream) activeRequestHeaders() *headerMap {
	if s.req.headersHeld || s.logPhase {
		return s.req.headers
	}
	return nil
}

func (s *Stream) activeResponseHeaders() *headerMap {
	if s.resp.headersHeld || s.logPhase {
		return s.resp.headers
	}
	return nil
}

func (s *Stream) activeResponseTrailers() *headerMap {
	if s.resp.trailersHeld || s.logPhase {
		return s.resp.trailers
	}
	return nil
}

func firstOf(m *headerMap, k string) (pval, bool) {
	if m == nil {
		return nil, false
	}
	vs := m.get(k)
	if len(vs) == 0 {
		return nil, false
	}
	return pStr(vs[0]), true
}

// requestValue is the RequestWrapper of expr/context.cc.
func (s *Stream) requestValue() pMap {
	h := s.activeRequestHeaders()
	pathValue := func() (string, bool) {
		if h == nil {
			return "", false
		}
		if vs := h.get(":path"); len(vs) > 0 {
			return vs[0], true
		}
		return "", true
	}
	return pMap{get: func(k string) (pval, bool) {
		switch k {
		case "headers":
			return headersValue(h), true
		case "time":
			return pTime(s.start), true
		case "size":
			if h != nil {
				if vs := h.get("content-length"); len(vs) > 0 {
					n, err := strconv.ParseInt(vs[0], 10, 64)
					if err != nil {
						return nil, false
					}
					return pInt(n), true
				}
			}
			return pInt(s.bytesReceived), true
		case "total_size":
			n := s.bytesReceived
			if h != nil {
				n += h.byteSize()
			}
			return pInt(n), true
		case "duration":
			if s.completeAt.IsZero() {
				return nil, false
			}
			return pDur(s.completeAt.Sub(s.start)), true
		case "protocol":
			return pStr(s.conn.Protocol), true
		case "path":
			return firstOf(h, ":path")
		case "host":
			return firstOf(h, ":authority")
		case "scheme":
			return firstOf(h, ":scheme")
		case "method":
			return firstOf(h, ":method")
		case "referer":
			return firstOf(h, "referer")
		case "id":
			return firstOf(h, "x-request-id")
		case "useragent":
			return firstOf(h, "user-agent")
		case "url_path":
			p, ok := pathValue()
			if !ok {
				return nil, false
			}
			if i := strings.IndexByte(p, '?'); i >= 0 {
				p = p[:i]
			}
			return pStr(p), true
		case "query":
			p, ok := pathValue()
			if !ok {
				return nil, false
			}
			i := strings.IndexByte(p, '?')
			if i < 0 {
				return pStr(""), true
			}
			q := p[i+1:]
			if j := strings.IndexByte(q, '#'); j >= 0 {
				q = q[:j]
			}
			return pStr(q), true
		}
		return nil, false
	}}
}

// responseValue is the ResponseWrapper of expr/context.cc.
func (s *Stream) responseValue() pMap {
	h, t := s.activeResponseHeaders(), s.activeResponseTrailers()
	return pMap{get: func(k string) (pval, bool) {
		switch k {
		case "code":
			if s.responseCode == 0 {
				return nil, false
			}
			return pInt(s.responseCode), true
		case "code_details":
			if s.codeDetails == "" {
				return nil, false
			}
			return pStr(s.codeDetails), true
		case "size":
			return pInt(s.bytesSent), true
		case "headers":
			return headersValue(h), true
		case "trailers":
			return headersValue(t), true
		case "flags":
			return pInt(0), true
		case "grpc_status":
			for _, m := range []*headerMap{t, h} {
				if m == nil {
					continue
				}
				if vs := m.get("grpc-status"); len(vs) > 0 {
					if n, err := strconv.ParseInt(vs[0], 10, 64); err == nil {
						return pInt(n), true
					}
				}
			}
			return nil, false
		case "total_size":
			n := s.bytesSent
			if h != nil {
				n += h.byteSize()
			}
			if t != nil {
				n += t.byteSize()
			}
			return pInt(n), true
		}
		return nil, false
	}}
}

// connectionValue is the ConnectionWrapper with the SSL extractors of expr/context.cc.
func (s *Stream) connectionValue() pMap {
	ti := s.conn.TLS
	newer := s.vm.host.cfg.NewerSSLProperties
	// absent is what a missing SAN or digest yields: CEL null (→ SerializationFailure) in the
	// getSslExtractors version the fact sheet read, "no value" (→ NotFound) in current main.
	absent := func() (pval, bool) {
		if newer {
			return nil, false
		}
		return pNull{}, true
	}
	first := func(l []string) (pval, bool) {
		if len(l) == 0 {
			return absent()
		}
		return pStr(l[0]), true
	}
	return pMap{get: func(k string) (pval, bool) {
		switch k {
		case "mtls":
			return pBool(ti != nil && ti.PeerCertificatePresented), true
		case "requested_server_name":
			if ti == nil {
				return pStr(""), true
			}
			return pStr(ti.ServerName), true
		case "id":
			return pUint(s.conn.ID), true
		case "termination_details", "transport_failure_reason":
			return nil, false
		}
		if ti == nil {
			return nil, false
		}
		switch k {
		case "tls_version":
			return pStr(ti.Version), true
		case "subject_local_certificate":
			return pStr(ti.LocalSubject), true
		case "subject_peer_certificate":
			return pStr(ti.PeerSubject), true
		case "uri_san_local_certificate":
			return first(ti.LocalURISANs)
		case "uri_san_peer_certificate":
			return first(ti.PeerURISANs)
		case "dns_san_local_certificate":
			return first(ti.LocalDNSSANs)
		case "dns_san_peer_certificate":
			return first(ti.PeerDNSSANs)
		case "sha256_peer_certificate_digest":
			if ti.PeerCertificateSHA256 == "" {
				return absent()
			}
			return pStr(ti.PeerCertificateSHA256), true
		case "peer_certificate":
			if !newer || !ti.PeerCertificatePresented {
				return nil, false
			}
			return pStr(urlEncodedPEM(ti.PeerCertificatePEM)), true
		}
		return nil, false
	}}
}

func (s *Stream) upstreamValue() pMap {
	return pMap{get: func(k string) (pval, bool) {
		if k == "request_attempt_count" {
			return pUint(s.upstreamCalls), true
		}
		return nil, false // no upstream host is modelled
	}}
}

// peerValue is the PeerWrapper: address ("ip:port") and port (int64, IP addresses only).
func peerValue(addr string) pMap {
	return pMap{get: func(k string) (pval, bool) {
		switch k {
		case "address":
			return pStr(addr), true
		case "port":
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, false
			}
			n, err := strconv.ParseInt(port, 10, 64)
			if err != nil {
				return nil, false
			}
			return pInt(n), true
		}
		return nil, false
	}}
}

// xdsValue is the XDSWrapper. xds.node works without stream info (it comes from local info);
// the rest needs a stream.
func (in *instance) xdsValue(s *Stream) pMap {
	x := in.host.cfg.XDS
	return pMap{get: func(k string) (pval, bool) {
		switch k {
		case "node":
			var raw []byte
			if x.NodeID != "" {
				raw = protowire.AppendTag(raw, 1, protowire.BytesType)
				raw = protowire.AppendString(raw, x.NodeID)
			}
			if x.NodeCluster != "" {
				raw = protowire.AppendTag(raw, 2, protowire.BytesType)
				raw = protowire.AppendString(raw, x.NodeCluster)
			}
			return pMsg{raw: raw, fields: map[string]pval{"id": pStr(x.NodeID), "cluster": pStr(x.NodeCluster)}}, true
		}
		if s == nil {
			return nil, false
		}
		switch k {
		case "cluster_name":
			if x.ClusterName == "" {
				return nil, false
			}
			return pStr(x.ClusterName), true
		case "route_name":
			if x.RouteName == "" {
				return nil, false
			}
			return pStr(x.RouteName), true
		case "filter_chain_name":
			return pStr(x.FilterChainName), true
		case "listener_direction":
			return pInt(x.ListenerDirection), true
		}
		return nil, false
	}}
}
