package plugintest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/host"
)

// mozillaRoots returns the certificates of testdata/mozilla-roots with
// their subjects as OpenSSL prints them (RFC 2253, as Envoy presents
// connection.subject_peer_certificate).
func mozillaRoots(t *testing.T) (ders [][]byte, subjects []string) {
	t.Helper()
	pemData, err := os.ReadFile("../../testdata/mozilla-roots/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile("../../testdata/mozilla-roots/subjects-openssl-rfc2253.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		if !strings.HasPrefix(l, "#") {
			subjects = append(subjects, l)
		}
	}
	for rest := pemData; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		ders = append(ders, blk.Bytes)
	}
	if len(ders) != len(subjects) || len(ders) < 100 {
		t.Fatalf("%d certificates, %d subjects", len(ders), len(subjects))
	}
	return ders, subjects
}

// Real subjects from CAs around the world (escaped commas, UTF-8 written
// as \XX escapes, reversed RDN orders, multi-valued RDNs) through the
// module: each peer is admitted by a `subject` selector holding OpenSSL's
// text of its own subject, and becomes the principal; a rule listing every
// other root's subject refuses it.
func TestMozillaRootSubjectsThroughModule(t *testing.T) {
	ders, subjects := mozillaRoots(t)
	peers := func(skip int) []any {
		var out []any
		for i, s := range subjects {
			if i != skip {
				out = append(out, map[string]any{"subject": s})
			}
		}
		return out
	}
	rules := []any{map[string]any{"name": "all", "match": map[string]any{"path": map[string]any{"prefix": "/all/"}}, "require": map[string]any{"provider": "mesh", "peers": peers(-1)}}}
	// For every tenth root, a rule listing all roots but that one.
	var excluded []int
	for i := 0; i < len(subjects); i += 10 {
		excluded = append(excluded, i)
		name := fmt.Sprintf("but-%d", i)
		rules = append(rules, map[string]any{"name": name, "match": map[string]any{"path": map[string]any{"prefix": "/" + name + "/"}},
			"require": map[string]any{"provider": "mesh", "peers": peers(i)}})
	}
	cfg, err := json.Marshal(map[string]any{"providers": []any{map[string]any{"name": "mesh", "mtls": map[string]any{}}}, "rules": rules})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEnvoyHost(t, host.Config{PluginConfig: cfg, SkipCanary: true})
	if err != nil {
		t.Fatal(err)
	}
	conn := func(i int) host.Connection {
		d := sha256.Sum256(ders[i])
		return host.Connection{TLS: &host.TLSInfo{Version: "TLSv1.3", PeerCertificatePresented: true,
			PeerSubject: subjects[i], PeerCertificateSHA256: hex.EncodeToString(d[:])}}
	}
	for i, s := range subjects {
		e.Conn = conn(i)
		r := e.Do(Get(apiHost, "/all/x"))
		if !r.Allowed() {
			t.Errorf("#%d %s: status %d", i+1, s, r.Status())
			continue
		}
		if got := Header(r.Upstream, "x-authn-principal"); len(got) != 1 || got[0] != s {
			t.Errorf("#%d: principal %q; want %q", i+1, got, s)
		}
	}
	for _, i := range excluded {
		e.Conn = conn(i)
		if r := e.Do(Get(apiHost, fmt.Sprintf("/but-%d/x", i))); r.Status() != 403 {
			t.Errorf("#%d %s on a rule without it: status %d; want 403", i+1, subjects[i], r.Status())
		}
	}
}
