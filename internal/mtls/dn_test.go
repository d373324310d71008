package mtls

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	oidCN    = "2.5.4.3"
	oidC     = "2.5.4.6"
	oidL     = "2.5.4.7"
	oidO     = "2.5.4.10"
	oidOU    = "2.5.4.11"
	oidUID   = "0.9.2342.19200300.100.1.1"
	oidDC    = "0.9.2342.19200300.100.1.25"
	oidEmail = "1.2.840.113549.1.9.1"
)

func TestParseDN(t *testing.T) {
	tests := []struct {
		name, in string
		want     Name
	}{
		// RFC 4514 §4 examples.
		{"rfc4514 uid", "UID=jsmith,DC=example,DC=net", Name{{{oidUID, "jsmith", false}}, {{oidDC, "example", false}}, {{oidDC, "net", false}}}},
		{"rfc4514 multi-valued", "OU=Sales+CN=J.  Smith,DC=example,DC=net", Name{{{oidOU, "Sales", false}, {oidCN, "J.  Smith", false}}, {{oidDC, "example", false}}, {{oidDC, "net", false}}}},
		{"rfc4514 escapes", `CN=James \"Jim\" Smith\, III,DC=example,DC=net`, Name{{{oidCN, `James "Jim" Smith, III`, false}}, {{oidDC, "example", false}}, {{oidDC, "net", false}}}},
		{"rfc4514 utf-8 hex pairs", `CN=Lu\C4\8Di\C4\87`, Name{{{oidCN, "Lučić", false}}}},
		{"rfc4514 hexstring octet string", "1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com", Name{{{"1.3.6.1.4.1.1466.0", "\x04\x02Hi", true}}, {{oidDC, "example", false}}, {{oidDC, "com", false}}}},
		// RFC 2253 §5 examples that are also RFC 4514.
		{"rfc2253 steve kille", "CN=Steve Kille,O=Isode Limited,C=GB", Name{{{oidCN, "Steve Kille", false}}, {{oidO, "Isode Limited", false}}, {{oidC, "GB", false}}}},
		{"rfc2253 quoted comma", `CN=L. Eagle,O=Sue\, Grabbit and Runn,C=GB`, Name{{{oidCN, "L. Eagle", false}}, {{oidO, "Sue, Grabbit and Runn", false}}, {{oidC, "GB", false}}}},
		// A #hex PrintableString is that string.
		{"hexstring printable", "1.3.6.1.4.1.32473.1=#1306637573746F6D", Name{{{"1.3.6.1.4.1.32473.1", "custom", false}}}},
		{"hexstring lower-case hex", "CN=#0c03616263", Name{{{oidCN, "abc", false}}}},
		{"hexstring BMPString", "OU=#1E0400E90041", Name{{{oidOU, "éA", false}}}},
		{"hexstring T61 as Latin-1", "L=#1406" + "5AFC72696368", Name{{{oidL, "Zürich", false}}}},
		{"hexstring UniversalString", "CN=#1c080001f5110000004b", Name{{{oidCN, "🔑K", false}}}},
		{"hexstring SEQUENCE is binary", "CN=#3000", Name{{{oidCN, "\x30\x00", true}}}},
		// Types: names any case, long names, OIDs; unknown names kept.
		{"type names", "cn=a,commonName=b,2.5.4.3=c,E=d,emailAddress=e,userid=f", Name{{{oidCN, "a", false}}, {{oidCN, "b", false}}, {{oidCN, "c", false}}, {{oidEmail, "d", false}}, {{oidEmail, "e", false}}, {{oidUID, "f", false}}}},
		{"unknown type name", "FooBar=x", Name{{{"foobar", "x", false}}}},
		// Escapes of every special, leading '#' and spaces.
		{"escaped specials", `CN=\#1 \"q\" a\\b \<x\>\;y\=z\+w\ `, Name{{{oidCN, `#1 "q" a\b <x>;y=z+w `, false}}}},
		{"escaped leading space", `CN=\ a`, Name{{{oidCN, " a", false}}}},
		{"inner spaces and '=' are plain", "CN=a b=c", Name{{{oidCN, "a b=c", false}}}},
		{"raw UTF-8", "CN=Zoë", Name{{{oidCN, "Zoë", false}}}},
		{"empty value", "CN=", Name{{{oidCN, "", false}}}},
		{"empty name", "", Name{}},
		// Envoy's form of the escaped-subject fixture (openssl's output).
		{"envoy form", `CN=J. Smith+OU=Sales,O=Sue\, Grabbit and Runn,L=Z\C3\BCrich,C=GB`, Name{{{oidCN, "J. Smith", false}, {oidOU, "Sales", false}}, {{oidO, "Sue, Grabbit and Runn", false}}, {{oidL, "Zürich", false}}, {{oidC, "GB", false}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDN(tt.in)
			if err != nil {
				t.Fatalf("ParseDN(%q) = %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseDN(%q) = %#v; want %#v", tt.in, got, tt.want)
			}
			back, err := ParseDN(got.String())
			if err != nil || !back.Equal(got) {
				t.Fatalf("ParseDN(%q.String() = %q) = %v, %v", tt.in, got.String(), back, err)
			}
		})
	}
}

func TestParseDNErrors(t *testing.T) {
	tests := []struct {
		name, in string
		offset   int
		control  bool
	}{
		{"no type", "=a", 0, false},
		{"no '='", "CN", 2, false},
		{"space before '='", "CN =a", 2, false},
		{"space after ','", "CN=a, O=b", 5, false},
		{"trailing space", "CN=a ,O=b", 4, false},
		{"leading space", "CN= a", 3, false},
		{"';' separator (RFC 2253 only)", "CN=a;O=b", 4, false},
		{"quoted value (RFC 2253 only)", `CN="a,b"`, 3, false},
		{"OID. prefix (RFC 2253 only)", "OID.2.5.4.3=a", 3, false},
		{"unescaped '<'", "CN=a<b", 4, false},
		{"unescaped '>'", "CN=a>b", 4, false},
		{"trailing backslash", `CN=a\`, 4, false},
		{"bad escape", `CN=a\x`, 4, false},
		{"one hex digit", `CN=a\4`, 4, false},
		{"invalid UTF-8 by escapes", `CN=\C3\28`, 3, false},
		{"invalid UTF-8 raw", "CN=\xff", 3, false},
		{"empty RDN", "CN=a,,O=b", 5, false},
		{"trailing ','", "CN=a,", 5, false},
		{"trailing '+'", "CN=a+", 5, false},
		{"odd hexstring", "CN=#0c0", 3, false},
		{"empty hexstring", "CN=#", 3, false},
		{"hexstring with trailing bytes", "CN=#0c01610c", 3, false},
		{"hexstring not DER", "CN=#0c05616263", 3, false},
		{"hexstring UTF8String not UTF-8", "CN=#0c01ff", 3, false},
		{"hexstring odd BMPString", "CN=#1e03004100", 3, false},
		{"hexstring BMPString surrogate", "CN=#1e02d800", 3, false},
		{"hexstring odd UniversalString", "CN=#1c03000041", 3, false},
		{"hexstring UniversalString out of range", "CN=#1c0400110000", 3, false},
		{"leading zero in OID", "2.05.4.3=a", 2, false},
		{"one-arc OID", "2=a", 0, false},
		{"OID trailing dot", "2.5.=a", 4, false},
		{"raw NUL", "CN=a\x00b", 4, true},
		{"raw newline", "CN=a\nb", 4, true},
		{"escaped NUL", `CN=evil.example.com\00.good.example.com`, 3, true},
		{"escaped DEL", `O=del\7Fete`, 2, true},
		{"hexstring with a control character", "CN=#0c03610a62", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseDN(tt.in)
			var de *DNError
			if !errors.As(err, &de) {
				t.Fatalf("ParseDN(%q) = %v, %v; want a *DNError", tt.in, n, err)
			}
			if de.Offset != tt.offset {
				t.Errorf("ParseDN(%q): %v; want the offset %d", tt.in, err, tt.offset)
			}
			if errors.Is(err, ErrDNControl) != tt.control {
				t.Errorf("ParseDN(%q): %v; ErrDNControl %v, want %v", tt.in, err, !tt.control, tt.control)
			}
		})
	}
	long := "CN=" + strings.Repeat("a", MaxDNLength)
	if _, err := ParseDN(long); err == nil {
		t.Error("ParseDN of an over-long name succeeded")
	}
	many := strings.Repeat("CN=a,", MaxDNAttributes) + "CN=a"
	if _, err := ParseDN(many); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("ParseDN of %d attributes = %v; want an error", MaxDNAttributes+1, err)
	}
	if _, err := parseDN("Bogus=1", true); err == nil || !strings.Contains(err.Error(), `unknown attribute type "Bogus"`) {
		t.Errorf("parseDN with known types only = %v; want unknown attribute type", err)
	}
}

func TestNameEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"CN=a,O=b", "CN=a,O=b", true},
		{"CN=a,O=b", "cn=a,o=b", true},
		{"CN=a,O=b", "2.5.4.3=a,organizationName=b", true},
		{"CN=a,O=b", `CN=\61,O=#130162`, true},
		{"CN=a+OU=x,O=b", "OU=x+CN=a,O=b", true}, // AVAs of an RDN in any order
		{"CN=Zoë", `CN=Zo\C3\AB`, true},
		{"CN=a,O=b", "O=b,CN=a", false}, // RDN order matters
		{"CN=a,O=b", "CN=A,O=b", false}, // values are exact
		{"CN=a,O=b", "CN=a", false},
		{"CN=a+OU=x", "CN=a,OU=x", false},
		{"CN=a+OU=x", "CN=a+OU=x+OU=y", false},
		{"CN=a+CN=a", "CN=a+CN=b", false},
		{"CN=#0403616263", "CN=abc", false}, // an OCTET STRING is not a string
		{"", "", true},
	}
	for _, tt := range tests {
		a, errA := ParseDN(tt.a)
		b, errB := ParseDN(tt.b)
		if errA != nil || errB != nil {
			t.Fatalf("ParseDN: %v, %v", errA, errB)
		}
		if got := a.Equal(b); got != tt.want {
			t.Errorf("ParseDN(%q).Equal(%q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
		if got := b.Equal(a); got != tt.want {
			t.Errorf("ParseDN(%q).Equal(%q) = %v; want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

// TestFormatNameMatchesOpenSSL formats every fixture's subject and issuer
// and compares with openssl's -nameopt RFC2253 (XN_FLAG_RFC2253, Envoy's
// flags), then checks that ParseDN reads Envoy's form back as the DER name.
func TestFormatNameMatchesOpenSSL(t *testing.T) {
	fs, err := loadFixtures()
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range fs {
		for _, n := range []struct {
			what, openssl string
			der           []byte
		}{{"subject", f.subject, f.cert.RawSubject}, {"issuer", f.issuer, f.cert.RawIssuer}} {
			got, err := FormatName(n.der)
			if err != nil {
				t.Errorf("%s: FormatName(%s) = %v", name, n.what, err)
				continue
			}
			if got != n.openssl {
				t.Errorf("%s: FormatName(%s) =\n  %s\nopenssl:\n  %s", name, n.what, got, n.openssl)
			}
			fromDER, errDER := NameFromDER(n.der)
			parsed, errParse := ParseDN(n.openssl)
			if name == "control-subject" && n.what == "subject" {
				if !errors.Is(errDER, ErrDNControl) || !errors.Is(errParse, ErrDNControl) {
					t.Errorf("%s: NameFromDER = %v, ParseDN = %v; want ErrDNControl", name, errDER, errParse)
				}
				continue
			}
			if errDER != nil || errParse != nil || !parsed.Equal(fromDER) {
				t.Errorf("%s %s: ParseDN(openssl) = %v, %v; NameFromDER = %v, %v", name, n.what, parsed, errParse, fromDER, errDER)
			}
		}
	}
}

// TestGoSubjectFormattingDiffers records why tests take Envoy's subject
// form from openssl rather than from pkix.Name.String.
func TestGoSubjectFormattingDiffers(t *testing.T) {
	f := fx(t, "escaped-subject")
	goForm := f.cert.Subject.String()
	if goForm == f.subject {
		t.Fatalf("pkix.Name.String() = openssl's form %q; the documented differences are gone", goForm)
	}
	for _, want := range []string{"Zürich", "1.2.840.113549.1.9.1=#", "0.9.2342.19200300.100.1.25=#"} {
		if !strings.Contains(goForm, want) {
			t.Errorf("pkix.Name.String() = %q; want it to contain %q", goForm, want)
		}
	}
	// The same name all the same, once parsed.
	g, err := ParseDN(goForm)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseDN(f.subject)
	if err != nil {
		t.Fatal(err)
	}
	// Go re-orders attributes into a fixed order and keeps one CN of the
	// two, so even the AVA sets differ.
	if got, want := len(flatten(g)), len(flatten(e))-1; got != want {
		t.Errorf("Go form has %d AVAs; want %d (one CN lost)", got, want)
	}
	if g.Equal(e) {
		t.Error("Go form parses to Envoy's name")
	}
}

func flatten(n Name) []AVA {
	var out []AVA
	for _, r := range n {
		out = append(out, r...)
	}
	return out
}

func TestFormatNameMultiValuedOrder(t *testing.T) {
	// One RDN with two AVAs: BoringSSL prints them in reverse DER order.
	der, err := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "GB"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "Sales"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "J. Smith"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := FormatName(der)
	if err != nil {
		t.Fatal(err)
	}
	if got != "CN=J. Smith+OU=Sales,C=GB" {
		t.Errorf("FormatName = %q", got)
	}
}

func TestAttributeType(t *testing.T) {
	for in, want := range map[string]string{"CN": oidCN, "cn": oidCN, "commonName": oidCN, "2.5.4.3": oidCN, "emailAddress": oidEmail, "DC": oidDC, "1.2.3.4": "1.2.3.4"} {
		if got, err := attributeType(in); err != nil || got != want {
			t.Errorf("attributeType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "CN ", "Bogus", "1", "C=N", "2.5.4.03"} {
		if got, err := attributeType(in); err == nil {
			t.Errorf("attributeType(%q) = %q; want an error", in, got)
		}
	}
}
