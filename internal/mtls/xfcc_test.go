package mtls

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	hashA = "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688"
	hashB = "9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e"
)

func TestParseXFCCEnvoyDocExamples(t *testing.T) {
	// The three examples of Envoy's HTTP connection manager documentation,
	// "x-forwarded-client-cert".
	tests := []struct {
		name, in string
		want     []XFCCElement
	}{
		{"one certificate, URI SAN",
			`By=http://frontend.lyft.com;Hash=` + hashA + `;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com`,
			[]XFCCElement{{By: []string{"http://frontend.lyft.com"}, Hash: hashA, Subject: "/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client", HasSubject: true, URI: []string{"http://testclient.lyft.com"}, HasURI: true}}},
		{"two certificates",
			`By=http://frontend.lyft.com;Hash=` + hashA + `;URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=` + hashB + `;URI=http://frontend.lyft.com`,
			[]XFCCElement{
				{By: []string{"http://frontend.lyft.com"}, Hash: hashA, URI: []string{"http://testclient.lyft.com"}, HasURI: true},
				{By: []string{"http://backend.lyft.com"}, Hash: hashB, URI: []string{"http://frontend.lyft.com"}, HasURI: true},
			}},
		{"URI and DNS SANs",
			`By=http://frontend.lyft.com;Hash=` + hashA + `;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com`,
			[]XFCCElement{{By: []string{"http://frontend.lyft.com"}, Hash: hashA, Subject: "/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client", HasSubject: true, URI: []string{"http://testclient.lyft.com"}, HasURI: true, DNS: []string{"lyft.com", "www.lyft.com"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseXFCC(tt.in, XFCCLimits{})
			if err != nil {
				t.Fatalf("ParseXFCC = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseXFCC(%q) =\n%#v\nwant\n%#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseXFCC(t *testing.T) {
	tests := []struct {
		name, in string
		want     []XFCCElement
	}{
		{"keys are case-insensitive", "by=a:b;HASH=" + strings.ToUpper(hashA) + ";uri=x:y;dns=a.example",
			[]XFCCElement{{By: []string{"a:b"}, Hash: hashA, URI: []string{"x:y"}, HasURI: true, DNS: []string{"a.example"}}}},
		{"several By (one per local URI SAN)", "By=spiffe://a/x;By=spiffe://a/y;Hash=" + hashA,
			[]XFCCElement{{By: []string{"spiffe://a/x", "spiffe://a/y"}, Hash: hashA}}},
		{"URI= means no URI SAN", "Hash=" + hashA + ";URI=",
			[]XFCCElement{{Hash: hashA, HasURI: true}}},
		{"empty subject", `Hash=` + hashA + `;Subject=""`,
			[]XFCCElement{{Hash: hashA, Subject: "", HasSubject: true}}},
		// The quoted value is kept verbatim: the RFC 2253 escapes of Envoy's
		// subject survive, so it equals the subject property.
		{"subject with RFC 2253 escapes", `Subject="CN=James \"Jim\" Smith\, III,O=a\\b\\"`,
			[]XFCCElement{{Subject: `CN=James \"Jim\" Smith\, III,O=a\\b\\`, HasSubject: true}}},
		{"quoted bare-able value", `By="spiffe://a/x";URI="spiffe://a/y"`,
			[]XFCCElement{{By: []string{"spiffe://a/x"}, URI: []string{"spiffe://a/y"}, HasURI: true}}},
		{"quoted separators", `URI="https://a/?x=1;y=2,z"`,
			[]XFCCElement{{URI: []string{"https://a/?x=1;y=2,z"}, HasURI: true}}},
		{"'=' in a bare value", "URI=https://a/?x=1",
			[]XFCCElement{{URI: []string{"https://a/?x=1"}, HasURI: true}}},
		{"whitespace around ','", "By=a:b , By=c:d,\tBy=e:f ",
			[]XFCCElement{{By: []string{"a:b"}}, {By: []string{"c:d"}}, {By: []string{"e:f"}}}},
		{"quoted value then whitespace and ','", `Subject="CN=a" ,Subject="CN=b"`,
			[]XFCCElement{{Subject: "CN=a", HasSubject: true}, {Subject: "CN=b", HasSubject: true}}},
		{"cert percent-decoded, '+' kept", `Cert="-----BEGIN%20CERTIFICATE-----%0Aab+c%2Fd%3D%0A-----END%20CERTIFICATE-----%0A"`,
			[]XFCCElement{{Cert: "-----BEGIN CERTIFICATE-----\nab+c/d=\n-----END CERTIFICATE-----\n"}}},
		{"chain", `Chain="a%0Ab"`, []XFCCElement{{Chain: "a\nb"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseXFCC(tt.in, XFCCLimits{})
			if err != nil {
				t.Fatalf("ParseXFCC(%q) = %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseXFCC(%q) =\n%#v\nwant\n%#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseXFCCErrors(t *testing.T) {
	tests := []struct {
		name, in string
		offset   int
		msg      string
	}{
		{"empty header", "", 0, "empty element or pair"},
		{"empty element", "By=a:b,,By=c:d", 7, "empty element or pair"},
		{"trailing ','", "By=a:b,", 7, "empty element or pair"},
		{"empty pair", "By=a:b;;Hash=" + hashA, 7, "empty element or pair"},
		{"trailing ';'", "By=a:b;", 7, "empty element or pair"},
		{"no '='", "By", 2, "expected '=' after the key"},
		{"no key", "=a", 0, "expected a key"},
		{"unknown key", "By=a:b;Foo=1", 7, `unknown key "Foo"`},
		{"key with a digit", "URI2=a", 3, "expected '=' after the key"},
		{"repeated Hash", "Hash=" + hashA + ";Hash=" + hashA, 70, "repeated Hash"},
		{"repeated Subject", `Subject="a";Subject="b"`, 12, "repeated Subject"},
		{"repeated Cert", `Cert="a";Cert="b"`, 9, "repeated Cert"},
		{"short Hash", "Hash=abc", 5, "Hash: not 64 hex digits"},
		{"non-hex Hash", "Hash=" + strings.Repeat("g", 64), 5, "Hash: not 64 hex digits"},
		{"empty By", "By=;Hash=" + hashA, 3, "By: empty value"},
		{"empty DNS", "DNS=", 4, "DNS: empty value"},
		{"empty Cert", `Cert=""`, 5, "Cert: empty value"},
		{"bad percent-encoding", `Cert="a%zz"`, 5, "Cert: malformed percent-encoding"},
		{"URI= next to a URI", "URI=a:b;URI=", 12, `URI: "URI=" next to URI values`},
		{"unterminated quote", `Subject="CN=a`, 8, "unterminated quoted value"},
		{"escaped closing quote", `Subject="CN=a\"`, 8, "unterminated quoted value"},
		{"backslash at the end", `Subject="CN=a\`, 8, "unterminated quoted value"},
		{"text after a closing quote", `Subject="a"b`, 11, "expected ';' or ',' after a quoted value"},
		{"quote inside a bare value", `URI=a"b"`, 5, `a '"' inside a bare value`},
		{"backslash inside a bare value", `Subject=\`, 8, `a '\\' inside a bare value`},
		{"space inside an element", "By=a:b ;Hash=" + hashA, 6, "whitespace inside an element"},
		{"space after '='", "By= a:b", 3, "whitespace inside an element"},
		{"space inside a bare value", "URI=a b", 5, "whitespace inside an element"},
		{"NUL in a bare value", "URI=a\x00b", 5, "a control or non-ASCII byte"},
		{"NUL in a quoted value", "Subject=\"a\x00b\"", 10, "a control or non-ASCII byte"},
		{"escaped control byte", "Subject=\"a\\\nb\"", 11, "a control or non-ASCII byte"},
		{"newline", "By=a:b\nBy=c:d", 6, "a control or non-ASCII byte"},
		{"non-ASCII", "DNS=caf\u00e9.example", 7, "a control or non-ASCII byte"},
		// A client-written prefix that leaves a quote open cannot make
		// Envoy's appended element parse as something else.
		{"open quote before Envoy's element", `URI="x,By=spiffe://gw;Hash=` + hashA + `;Subject="CN=me";URI=spiffe://a/b`, 101, "expected ';' or ',' after a quoted value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseXFCC(tt.in, XFCCLimits{})
			var xe *XFCCError
			if !errors.As(err, &xe) {
				t.Fatalf("ParseXFCC(%q) = %#v, %v; want an *XFCCError", tt.in, got, err)
			}
			if xe.Msg != tt.msg || xe.Offset != tt.offset {
				t.Errorf("ParseXFCC(%q) = %v; want %q at byte %d", tt.in, err, tt.msg, tt.offset)
			}
			if errors.Is(err, ErrXFCCTooLarge) {
				t.Errorf("ParseXFCC(%q) = %v; not a size error", tt.in, err)
			}
		})
	}
}

func TestParseXFCCLimits(t *testing.T) {
	elem := "By=spiffe://a/b;Hash=" + hashA
	five := strings.TrimSuffix(strings.Repeat(elem+",", 5), ",")
	if _, err := ParseXFCC(five, XFCCLimits{MaxElements: 5}); err != nil {
		t.Errorf("5 elements, limit 5: %v", err)
	}
	if _, err := ParseXFCC(five, XFCCLimits{MaxElements: 4}); !errors.Is(err, ErrXFCCTooLarge) {
		t.Errorf("5 elements, limit 4: %v; want ErrXFCCTooLarge", err)
	}
	if _, err := ParseXFCC(five, XFCCLimits{MaxBytes: len(five)}); err != nil {
		t.Errorf("%d bytes, limit %d: %v", len(five), len(five), err)
	}
	if _, err := ParseXFCC(five, XFCCLimits{MaxBytes: len(five) - 1}); !errors.Is(err, ErrXFCCTooLarge) {
		t.Errorf("%d bytes, limit %d: %v; want ErrXFCCTooLarge", len(five), len(five)-1, err)
	}
	many := strings.TrimSuffix(strings.Repeat(elem+",", DefaultXFCCMaxElements+1), ",")
	if _, err := ParseXFCC(many, XFCCLimits{}); !errors.Is(err, ErrXFCCTooLarge) {
		t.Errorf("%d elements, default limit: %v; want ErrXFCCTooLarge", DefaultXFCCMaxElements+1, err)
	}
	huge := "URI=https://a/" + strings.Repeat("x", DefaultXFCCMaxBytes)
	if _, err := ParseXFCC(huge, XFCCLimits{}); !errors.Is(err, ErrXFCCTooLarge) {
		t.Errorf("%d bytes, default limit: %v; want ErrXFCCTooLarge", len(huge), err)
	}
}

// TestXFCCEnvoyElements parses elements built the way Envoy builds them
// from each fixture, with every detail, and checks them against the
// certificate.
func TestXFCCEnvoyElements(t *testing.T) {
	for _, name := range []string{"spiffe-checkout", "multi-san", "dns-only", "subject-only", "escaped-subject"} {
		t.Run(name, func(t *testing.T) {
			f := fx(t, name)
			h := envoyXFCC(t, name, "subject", "uri", "cert", "chain", "dns")
			elems, err := ParseXFCC(h, XFCCLimits{})
			if err != nil {
				t.Fatalf("ParseXFCC(%q) = %v", h, err)
			}
			if len(elems) != 1 {
				t.Fatalf("%d elements", len(elems))
			}
			e := elems[0]
			uris, dns := goSANs(f)
			if e.Hash != f.sha256Hex || e.Subject != f.subject || !reflect.DeepEqual(e.URI, uris) || !reflect.DeepEqual(e.DNS, dns) || e.HasURI != true {
				t.Errorf("element = %+v", e)
			}
			cert, err := e.Certificate()
			if err != nil || !bytes.Equal(cert.Raw, f.cert.Raw) {
				t.Errorf("Certificate() = %v, %v", cert, err)
			}
			chain, err := e.ChainCertificates()
			if err != nil || len(chain) != 2 || !bytes.Equal(chain[0].Raw, f.cert.Raw) || !bytes.Equal(chain[1].Raw, fx(t, "ca").cert.Raw) {
				t.Errorf("ChainCertificates() = %d certificates, %v", len(chain), err)
			}
			again, err := ParseXFCC(e.String(), XFCCLimits{})
			if err != nil || !reflect.DeepEqual(again[0], e) {
				t.Errorf("ParseXFCC(String()) = %+v, %v", again, err)
			}
		})
	}
}

func TestXFCCCertificateErrors(t *testing.T) {
	ca := fx(t, "ca").pem
	leaf := fx(t, "spiffe-checkout").pem
	tests := []struct {
		name, cert string
	}{
		{"two certificates", leaf + ca},
		{"text before the block", "junk\n" + leaf},
		{"text after the block", leaf + "junk\n"},
		{"a key, not a certificate", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"},
		{"not DER", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
		{"no block", "hello"},
	}
	for _, tt := range tests {
		e := XFCCElement{Cert: tt.cert}
		if c, err := e.Certificate(); err == nil {
			t.Errorf("%s: Certificate() = %+v; want an error", tt.name, c)
		}
	}
	if c, err := (&XFCCElement{}).Certificate(); c != nil || err != nil {
		t.Errorf("no Cert: Certificate() = %v, %v", c, err)
	}
}
