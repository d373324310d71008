package host

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func le64(v int64) string {
	return hex.EncodeToString(binary.LittleEndian.AppendUint64(nil, uint64(v)))
}
func hx(s string) string { return hex.EncodeToString([]byte(s)) }

var (
	plainConn = Connection{ID: 42, SourceAddress: "10.0.0.1:34567", DestinationAddress: "10.0.0.2:8443", Protocol: "HTTP/2"}
	mtlsConn  = Connection{ID: 43, SourceAddress: "10.0.0.1:1", DestinationAddress: "10.0.0.2:2", TLS: &TLSInfo{
		Version: "TLSv1.3", ServerName: "api.example.com", PeerCertificatePresented: true,
		PeerSubject: "CN=client,O=Example", PeerURISANs: []string{"spiffe://cluster.local/ns/a/sa/b", "spiffe://second"},
		PeerDNSSANs: []string{"client.example.com", "second.example.com"}, PeerCertificateSHA256: "abcd01",
		PeerCertificatePEM: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
		LocalSubject:       "CN=server", LocalDNSSANs: []string{"server.example.com"},
	}}
	tlsNoPeerConn = Connection{ID: 44, SourceAddress: "10.0.0.1:1", DestinationAddress: "10.0.0.2:2", TLS: &TLSInfo{Version: "TLSv1.2"}}
)

// probeProps runs one request through the probe with "prop" commands and returns their results.
func probeProps(t *testing.T, conn Connection, props []string, mods ...func(*Config)) map[string]string {
	t.Helper()
	var cmds []string
	for _, p := range props {
		cmds = append(cmds, "prop "+p)
	}
	start := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	mods = append(mods, func(c *Config) {
		c.Clock = NewManualClock(start)
		c.XDS = XDS{NodeID: "node-1", NodeCluster: "cluster-a", ClusterName: "outbound|443||idp.example.com", ListenerDirection: 1}
	})
	h := newProbe(t, ProfileEnvoy139, "request_headers: "+strings.Join(cmds, "; "), mods...)
	s := h.VM(0).NewStream(conn)
	s.RequestHeaders(reqHeaders("/p/a?q=1#f",
		[2]string{"x-dup", "a"}, [2]string{"x-dup", "b"}, [2]string{"x-request-id", "rid-1"},
		[2]string{"user-agent", "ua/1"}, [2]string{"referer", "https://ref"}), true)
	out := map[string]string{}
	for _, p := range props {
		out[p] = result(t, h, "request_headers", "prop "+p)
	}
	return out
}

func checkProps(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q; want %q", k, got[k], w)
		}
	}
}

func TestRequestAndPeerProperties(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	want := map[string]string{
		"request path":                   "0:" + hx("/p/a?q=1#f"),
		"request url_path":               "0:" + hx("/p/a"),
		"request query":                  "0:" + hx("q=1"),
		"request host":                   "0:" + hx("example.com"),
		"request scheme":                 "0:" + hx("http"),
		"request method":                 "0:" + hx("GET"),
		"request id":                     "0:" + hx("rid-1"),
		"request useragent":              "0:" + hx("ua/1"),
		"request referer":                "0:" + hx("https://ref"),
		"request protocol":               "0:" + hx("HTTP/2"),
		"request time":                   "0:" + le64(start.UnixNano()),
		"request size":                   "0:" + le64(0),
		"request duration":               "1:", // only once the request is complete
		"request headers x-dup":          "0:" + hx("a,b"),
		"request headers X-Dup":          "0:" + hx("a,b"),
		"request headers x-none":         "1:",
		"request nope":                   "1:",
		"source address":                 "0:" + hx("10.0.0.1:34567"),
		"source port":                    "0:" + le64(34567),
		"destination address":            "0:" + hx("10.0.0.2:8443"),
		"destination port":               "0:" + le64(8443),
		"connection id":                  "0:" + le64(42),
		"connection_id":                  "0:" + le64(42),
		"plugin_name":                    "0:" + hx("probe-plugin"),
		"plugin_root_id":                 "0:" + hx("probe-root"),
		"plugin_vm_id":                   "0:" + hx("probe-vm"),
		"xds node id":                    "0:" + hx("node-1"),
		"xds node cluster":               "0:" + hx("cluster-a"),
		"xds cluster_name":               "0:" + hx("outbound|443||idp.example.com"),
		"xds listener_direction":         "0:" + le64(1),
		"xds filter_chain_name":          "0:",
		"xds route_metadata":             "1:",
		"response code":                  "1:",
		"nope":                           "1:",
		"node":                           "1:", // legacy top-level names are gone
		"cluster_name":                   "1:",
		"connection":                     "3:", // a wrapper map cannot be serialized whole
		"upstream request_attempt_count": "0:" + le64(0),
	}
	props := make([]string, 0, len(want)+1)
	for k := range want {
		props = append(props, k)
	}
	props = append(props, "request headers", "xds node")
	got := probeProps(t, plainConn, props)
	checkProps(t, got, want)

	_, b := decoded(t, got["request headers"])
	pairs := unmarshalPairs(b)
	m := map[string]string{}
	for _, p := range pairs {
		if _, dup := m[p[0]]; dup {
			t.Errorf("request.headers repeats key %q", p[0])
		}
		m[p[0]] = p[1]
	}
	if m["x-dup"] != "a,b" || m[":path"] != "/p/a?q=1#f" {
		t.Errorf("request.headers = %q", pairs)
	}
	// xds.node is the Node proto: field 1 id, field 2 cluster.
	if _, b := decoded(t, got["xds node"]); hex.EncodeToString(b) != "0a066e6f64652d311209636c75737465722d61" {
		t.Errorf("xds.node = %x", b)
	}
}

func TestConnectionProperties(t *testing.T) {
	props := []string{
		"connection mtls", "connection requested_server_name", "connection tls_version",
		"connection subject_peer_certificate", "connection subject_local_certificate",
		"connection uri_san_peer_certificate", "connection dns_san_peer_certificate",
		"connection uri_san_local_certificate", "connection dns_san_local_certificate",
		"connection sha256_peer_certificate_digest", "connection peer_certificate",
	}
	tests := []struct {
		name   string
		conn   Connection
		newer  bool
		expect map[string]string
	}{
		{"plaintext", plainConn, false, map[string]string{
			"connection mtls":                           "0:00",
			"connection requested_server_name":          "0:", // OK, size 0
			"connection tls_version":                    "1:",
			"connection subject_peer_certificate":       "1:",
			"connection uri_san_peer_certificate":       "1:",
			"connection dns_san_peer_certificate":       "1:",
			"connection sha256_peer_certificate_digest": "1:",
		}},
		{"mTLS", mtlsConn, false, map[string]string{
			"connection mtls":                           "0:01",
			"connection requested_server_name":          "0:" + hx("api.example.com"),
			"connection tls_version":                    "0:" + hx("TLSv1.3"),
			"connection subject_peer_certificate":       "0:" + hx("CN=client,O=Example"),
			"connection subject_local_certificate":      "0:" + hx("CN=server"),
			"connection uri_san_peer_certificate":       "0:" + hx("spiffe://cluster.local/ns/a/sa/b"), // the first only
			"connection dns_san_peer_certificate":       "0:" + hx("client.example.com"),
			"connection uri_san_local_certificate":      "3:",
			"connection dns_san_local_certificate":      "0:" + hx("server.example.com"),
			"connection sha256_peer_certificate_digest": "0:" + hx("abcd01"),
			"connection peer_certificate":               "1:",
		}},
		{"TLS without a client certificate", tlsNoPeerConn, false, map[string]string{
			"connection mtls":                           "0:00",
			"connection tls_version":                    "0:" + hx("TLSv1.2"),
			"connection subject_peer_certificate":       "0:",
			"connection uri_san_peer_certificate":       "3:", // CEL null
			"connection dns_san_peer_certificate":       "3:",
			"connection sha256_peer_certificate_digest": "3:",
		}},
		{"TLS without a client certificate, newer Envoy", tlsNoPeerConn, true, map[string]string{
			"connection uri_san_peer_certificate":       "1:",
			"connection dns_san_peer_certificate":       "1:",
			"connection sha256_peer_certificate_digest": "1:",
			"connection peer_certificate":               "1:",
		}},
		{"mTLS, newer Envoy", mtlsConn, true, map[string]string{
			"connection peer_certificate": "0:" + hx(urlEncodedPEM(mtlsConn.TLS.PeerCertificatePEM)),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := probeProps(t, tc.conn, props, func(c *Config) { c.NewerSSLProperties = tc.newer })
			checkProps(t, got, tc.expect)
		})
	}
}

func TestPropertyPathEncoding(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_headers: propraw request%00path%00; propraw request%00path%00%00; propraw; propraw %00; setprop my.key val; prop my.key; prop filter_state wasm.my.key\n"+
		"configure: prop request path; prop xds node id; prop connection_id; prop plugin_name; setprop a b; prop source address",
		func(c *Config) { c.XDS.NodeID = "n" })
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/x"), true)
	for cmd, want := range map[string]string{
		"propraw request%00path%00":     "0:" + hx("/x"), // a trailing NUL is tolerated
		"propraw request%00path%00%00":  "1:",            // an empty segment under a string
		"propraw":                       "3:",            // an empty path: an unset value
		"propraw %00":                   "1:",
		"setprop my.key val":            "0",
		"prop my.key":                   "0:" + hx("val"), // filter state "wasm.my.key"
		"prop filter_state wasm.my.key": "0:" + hx("val"),
	} {
		if got := result(t, h, "request_headers", cmd); got != want {
			t.Errorf("%s = %q; want %q", cmd, got, want)
		}
	}
	// The root context has no stream info.
	for cmd, want := range map[string]string{
		"prop request path":   "1:",
		"prop xds node id":    "0:" + hx("n"),
		"prop connection_id":  "1:",
		"prop plugin_name":    "0:" + hx("probe-plugin"),
		"setprop a b":         "1",
		"prop source address": "1:",
	} {
		if got := result(t, h, "configure", cmd); got != want {
			t.Errorf("configure: %s = %q; want %q", cmd, got, want)
		}
	}
}

// TestRequestPropertiesFollowHeldHeaders: request.* reads the headers the filter holds; once the
// headers went on (Continue) they are gone until the access-log phase.
func TestRequestPropertiesFollowHeldHeaders(t *testing.T) {
	h := newProbe(t, ProfileEnvoy139, "request_body: prop request path; prop request time\nlog: prop request path; prop request duration; prop response code; prop response code_details")
	s := h.VM(0).NewStream(Connection{})
	s.RequestHeaders(reqHeaders("/x"), false)
	s.RequestBody([]byte("b"), true)
	s.ResponseHeaders([][2]string{{":status", "201"}}, true)
	s.Close()
	if got := result(t, h, "request_body", "prop request path"); got != "1:" {
		t.Errorf("request.path after the headers continued = %q; want NotFound", got)
	}
	if got := result(t, h, "request_body", "prop request time"); !strings.HasPrefix(got, "0:") {
		t.Errorf("request.time = %q", got)
	}
	for cmd, want := range map[string]string{
		"prop request path":  "0:" + hx("/x"),
		"prop response code": "0:" + le64(201),
	} {
		if got := result(t, h, "log", cmd); got != want {
			t.Errorf("log: %s = %q; want %q", cmd, got, want)
		}
	}
	// A duration: int64 nanoseconds, 8 bytes.
	if got := result(t, h, "log", "prop request duration"); !strings.HasPrefix(got, "0:") || len(got) != 2+16 {
		t.Errorf("log: request.duration = %q; want 8 bytes", got)
	}
}
