package mtls

import (
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on a distinguished name, so that parsing one costs a bounded amount
// of work.
const (
	// MaxDNLength is the longest DN string ParseDN accepts, in bytes.
	MaxDNLength = 8192
	// MaxDNAttributes is the most attribute-value pairs in one DN.
	MaxDNAttributes = 64
)

// AVA is one attribute type and value of a distinguished name.
type AVA struct {
	// Type is a dotted OID ("2.5.4.3") for every type written as a number
	// and for every name this package knows (CN, O, OU, C, L, ST, DC, UID,
	// emailAddress, ...: see attributeTypes); any other name is kept in
	// lower case. So "CN", "cn", "commonName" and "2.5.4.3" are one type.
	Type string
	// Value is the decoded value. For an RFC 4514 "#hex" value whose DER is
	// a string type (UTF8String, PrintableString, IA5String, T61String as
	// Latin-1, BMPString, UniversalString, ...) it is that string; for any
	// other DER type, Binary is set and Value holds the DER bytes.
	Value  string
	Binary bool
}

// RDN is a relative distinguished name: one or more AVAs joined by '+'. The
// order of its AVAs is not significant (RFC 4514 §2.2).
type RDN []AVA

// Name is a distinguished name in string order: the most specific RDN
// first, as RFC 4514 and Envoy print it (the reverse of the DER order).
type Name []RDN

// ErrDNControl reports a DN value with a control character (U+0000 to
// U+001F or U+007F), escaped or not. Such a subject is refused: a NUL in a
// name is the classic way to make two programs read it differently.
var ErrDNControl = errors.New("a value has a control character")

// DNError is a syntax error in a distinguished name.
type DNError struct {
	Offset int    // byte offset of the problem
	Msg    string // what is wrong
	Err    error  // ErrDNControl, or nil
}

// Error formats the problem with its offset.
func (e *DNError) Error() string {
	return fmt.Sprintf("distinguished name: at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap returns e.Err.
func (e *DNError) Unwrap() error { return e.Err }

// ParseDN parses an RFC 4514 distinguished name, the form Envoy reports in
// connection.subject_peer_certificate (BoringSSL's X509_NAME_print_ex with
// XN_FLAG_RFC2253, which is RFC 4514 with every non-ASCII byte escaped as
// "\XX"). Accepted: "type=value" pairs joined by ',' (between RDNs) and '+'
// (within an RDN); a type is a name (letters, digits, '-') or a dotted OID;
// a value is "#" followed by the hex of a DER value, or a string with
// escapes "\," "\+" "\"" "\\" "\<" "\>" "\;" "\=" "\#" "\ " and "\XX" (a
// byte in hex). Refused: the RFC 2253 leniencies (';' between RDNs, spaces
// around separators, quoted values, "OID." prefixes), unescaped special
// characters, a value whose bytes are not UTF-8, control characters
// (ErrDNControl), and anything over MaxDNLength bytes or MaxDNAttributes
// pairs. Names of attribute types this package does not know are accepted
// and kept in lower case. The empty string is the empty Name.
func ParseDN(s string) (Name, error) {
	return parseDN(s, false)
}

// parseDN parses s; with knownTypes, an attribute type name this package
// does not know is an error (configured patterns, where a typo must not
// silently never match).
func parseDN(s string, knownTypes bool) (Name, error) {
	if len(s) > MaxDNLength {
		return nil, &DNError{Offset: MaxDNLength, Msg: fmt.Sprintf("longer than %d bytes", MaxDNLength)}
	}
	name := Name{}
	if s == "" {
		return name, nil
	}
	p := dnParser{s: s, knownTypes: knownTypes}
	var rdn RDN
	for n := 1; ; n++ {
		if n > MaxDNAttributes {
			return nil, p.errorf("more than %d attributes", MaxDNAttributes)
		}
		ava, err := p.ava()
		if err != nil {
			return nil, err
		}
		rdn = append(rdn, ava)
		if p.i == len(s) {
			return append(name, rdn), nil
		}
		switch s[p.i] {
		case '+':
		case ',':
			name = append(name, rdn)
			rdn = nil
		default:
			return nil, p.errorf("expected ',' or '+' after a value")
		}
		p.i++
	}
}

type dnParser struct {
	s          string
	i          int
	knownTypes bool
}

func (p *dnParser) errorf(format string, args ...any) *DNError {
	return &DNError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *dnParser) ava() (AVA, error) {
	typ, err := p.attrType()
	if err != nil {
		return AVA{}, err
	}
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		return AVA{}, p.errorf("expected '=' after the attribute type")
	}
	p.i++
	if p.i < len(p.s) && p.s[p.i] == '#' {
		return p.hexValue(typ)
	}
	v, err := p.stringValue()
	if err != nil {
		return AVA{}, err
	}
	return AVA{Type: typ, Value: v}, nil
}

// attrType reads descr / numericoid (RFC 4512 §1.4).
func (p *dnParser) attrType() (string, error) {
	start := p.i
	if p.i >= len(p.s) {
		return "", p.errorf("expected an attribute type")
	}
	c := p.s[p.i]
	switch {
	case isAlpha(c):
		for p.i < len(p.s) && (isAlpha(p.s[p.i]) || isDigit(p.s[p.i]) || p.s[p.i] == '-') {
			p.i++
		}
		descr := strings.ToLower(p.s[start:p.i])
		if oid, ok := attributeTypes[descr]; ok {
			return oid, nil
		}
		if p.knownTypes {
			return "", &DNError{Offset: start, Msg: fmt.Sprintf("unknown attribute type %q (use its dotted OID)", p.s[start:p.i])}
		}
		return descr, nil
	case isDigit(c):
		for {
			ds := p.i
			for p.i < len(p.s) && isDigit(p.s[p.i]) {
				p.i++
			}
			if p.i == ds || (p.i-ds > 1 && p.s[ds] == '0') {
				return "", &DNError{Offset: ds, Msg: "malformed numeric OID"}
			}
			if p.i >= len(p.s) || p.s[p.i] != '.' {
				break
			}
			p.i++
		}
		oid := p.s[start:p.i]
		if !strings.Contains(oid, ".") {
			return "", &DNError{Offset: start, Msg: "malformed numeric OID"}
		}
		return oid, nil
	}
	return "", p.errorf("expected an attribute type")
}

// hexValue reads "#" 1*hexpair up to ',' '+' or the end.
func (p *dnParser) hexValue(typ string) (AVA, error) {
	start := p.i
	p.i++
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '+' {
		p.i++
	}
	der, err := hex.DecodeString(p.s[start+1 : p.i])
	if err != nil || len(der) == 0 {
		return AVA{}, &DNError{Offset: start, Msg: "malformed #hex value"}
	}
	v, binary, err := derValue(der)
	if err != nil {
		return AVA{}, &DNError{Offset: start, Msg: "#hex value: " + err.Error(), Err: unwrapControl(err)}
	}
	return AVA{Type: typ, Value: v, Binary: binary}, nil
}

func unwrapControl(err error) error {
	if errors.Is(err, ErrDNControl) {
		return ErrDNControl
	}
	return nil
}

// stringValue reads an RFC 4514 string up to an unescaped ',' '+' or the
// end, and returns it unescaped.
func (p *dnParser) stringValue() (string, error) {
	start := p.i
	var b []byte // allocated only when there is an escape
	lastUnescapedSpace := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ',' || c == '+':
			goto done
		case c == '\\':
			if b == nil {
				b = append(make([]byte, 0, len(p.s)-start), p.s[start:p.i]...)
			}
			if p.i+1 >= len(p.s) {
				return "", p.errorf("a '\\' ends the name")
			}
			e := p.s[p.i+1]
			switch {
			case isHex(e):
				if p.i+2 >= len(p.s) || !isHex(p.s[p.i+2]) {
					return "", p.errorf(`"\X" must be followed by a second hex digit`)
				}
				b = append(b, unhex(e)<<4|unhex(p.s[p.i+2]))
				p.i += 3
			case strings.IndexByte(`,+"\<>;= #`, e) >= 0:
				b = append(b, e)
				p.i += 2
			default:
				return "", p.errorf("%q cannot be escaped", e)
			}
			lastUnescapedSpace = false
			continue
		case c == '"' || c == ';' || c == '<' || c == '>':
			return "", p.errorf("%q must be escaped", c)
		case c < 0x20 || c == 0x7f:
			return "", &DNError{Offset: p.i, Msg: "a control character", Err: ErrDNControl}
		case c == ' ' && p.i == start:
			return "", p.errorf("a leading space must be escaped")
		}
		if b != nil {
			b = append(b, c)
		}
		lastUnescapedSpace = c == ' '
		p.i++
	}
done:
	if lastUnescapedSpace {
		return "", &DNError{Offset: p.i - 1, Msg: "a trailing space must be escaped"}
	}
	v := p.s[start:p.i]
	if b != nil {
		v = string(b)
	}
	if !utf8.ValidString(v) {
		return "", &DNError{Offset: start, Msg: "the value is not UTF-8"}
	}
	if hasControl(v) {
		return "", &DNError{Offset: start, Msg: "an escaped control character", Err: ErrDNControl}
	}
	return v, nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// hasControl reports a C0 control character or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// Equal reports whether n and o are the same name: the same RDNs in the
// same order, each with the same AVAs in any order. Types compare by OID
// (names case-insensitively); values compare exactly, byte for byte (no
// case folding or space folding: the comparison an authorization decision
// can rely on).
func (n Name) Equal(o Name) bool {
	if len(n) != len(o) {
		return false
	}
	for i := range n {
		if !n[i].equal(o[i]) {
			return false
		}
	}
	return true
}

func (r RDN) equal(o RDN) bool {
	if len(r) != len(o) {
		return false
	}
	if len(r) == 1 {
		return r[0] == o[0]
	}
	var used uint64 // MaxDNAttributes <= 64
	for _, a := range r {
		found := false
		for j, b := range o {
			if used&(1<<j) == 0 && a == b {
				used |= 1 << j
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Has reports whether some AVA of n, in any RDN, has type typ (a dotted OID
// or a lower-case name, as in AVA.Type) and the string value v.
func (n Name) Has(typ, v string) bool {
	for _, rdn := range n {
		for _, a := range rdn {
			if a.Type == typ && !a.Binary && a.Value == v {
				return true
			}
		}
	}
	return false
}

// String formats n by RFC 4514: types by their usual short name (CN, O,
// emailAddress, ...) or OID, values escaped where RFC 4514 requires it,
// non-ASCII left as UTF-8, binary values as "#" and upper-case hex.
// ParseDN(n.String()) equals n.
func (n Name) String() string {
	var b strings.Builder
	for i, rdn := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(typeName(a.Type))
			b.WriteByte('=')
			if a.Binary {
				b.WriteByte('#')
				b.WriteString(strings.ToUpper(hex.EncodeToString([]byte(a.Value))))
				continue
			}
			escapeValue(&b, a.Value, false)
		}
	}
	return b.String()
}

// escapeValue writes v escaped for a DN string. With msb (Envoy's form),
// every byte >= 0x80 is written as "\XX" too.
func escapeValue(b *strings.Builder, v string, msb bool) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < 0x20 || c == 0x7f || (msb && c >= 0x80):
			b.WriteByte('\\')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		case strings.IndexByte(`,+"\<>;`, c) >= 0,
			i == 0 && (c == ' ' || c == '#'),
			i == len(v)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// attributeTypes maps lower-case attribute type names to OIDs: the names of
// RFC 4514 §3, RFC 4519 and the short and long names OpenSSL and BoringSSL
// print (XN_FLAG_FN_SN), plus the names Go's crypto/x509/pkix prints.
var attributeTypes = map[string]string{
	"cn": "2.5.4.3", "commonname": "2.5.4.3",
	"sn": "2.5.4.4", "surname": "2.5.4.4",
	"serialnumber": "2.5.4.5",
	"c":            "2.5.4.6", "countryname": "2.5.4.6",
	"l": "2.5.4.7", "localityname": "2.5.4.7",
	"st": "2.5.4.8", "stateorprovincename": "2.5.4.8",
	"street": "2.5.4.9", "streetaddress": "2.5.4.9",
	"o": "2.5.4.10", "organizationname": "2.5.4.10",
	"ou": "2.5.4.11", "organizationalunitname": "2.5.4.11",
	"title":            "2.5.4.12",
	"description":      "2.5.4.13",
	"businesscategory": "2.5.4.15",
	"postalcode":       "2.5.4.17",
	"name":             "2.5.4.41",
	"gn":               "2.5.4.42", "givenname": "2.5.4.42",
	"initials":               "2.5.4.43",
	"generationqualifier":    "2.5.4.44",
	"x500uniqueidentifier":   "2.5.4.45",
	"dnqualifier":            "2.5.4.46",
	"pseudonym":              "2.5.4.65",
	"organizationidentifier": "2.5.4.97",
	"uid":                    "0.9.2342.19200300.100.1.1", "userid": "0.9.2342.19200300.100.1.1",
	"dc": "0.9.2342.19200300.100.1.25", "domaincomponent": "0.9.2342.19200300.100.1.25",
	"emailaddress": "1.2.840.113549.1.9.1", "email": "1.2.840.113549.1.9.1", "e": "1.2.840.113549.1.9.1",
	"jurisdictionl":  "1.3.6.1.4.1.311.60.2.1.1",
	"jurisdictionst": "1.3.6.1.4.1.311.60.2.1.2",
	"jurisdictionc":  "1.3.6.1.4.1.311.60.2.1.3",
}

// shortNames are the names OpenSSL and BoringSSL print for these OIDs
// (OBJ_nid2sn); Envoy's subject strings use them.
var shortNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.13":                   "description",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.41":                   "name",
	"2.5.4.42":                   "GN",
	"2.5.4.43":                   "initials",
	"2.5.4.44":                   "generationQualifier",
	"2.5.4.45":                   "x500UniqueIdentifier",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"2.5.4.97":                   "organizationIdentifier",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionL",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionST",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
}

func typeName(t string) string {
	if n, ok := shortNames[t]; ok {
		return n
	}
	return t
}

// attributeType resolves a configured attribute type (a name, any case, or
// a dotted OID) to the form of AVA.Type. Unknown names are an error.
func attributeType(s string) (string, error) {
	p := dnParser{s: s + "=", knownTypes: true}
	t, err := p.attrType()
	if err != nil {
		return "", err
	}
	if p.i != len(s) {
		return "", fmt.Errorf("malformed attribute type %q", s)
	}
	return t, nil
}

// The DER string types (X.680 universal tags).
const (
	tagUTF8String      = 12
	tagNumericString   = 18
	tagPrintableString = 19
	tagT61String       = 20
	tagIA5String       = 22
	tagUTCTime         = 23
	tagGeneralizedTime = 24
	tagVisibleString   = 26
	tagUniversalString = 28
	tagBMPString       = 30
)

// maxDERValueForAVA bounds one "#hex" value.
const maxDERValueForAVA = 4096

const (
	errNotUTF8          = "a UTF8String that is not UTF-8"
	errBadBMPString     = "a malformed BMPString"
	errBadUniversalStr  = "a malformed UniversalString"
	errTrailingDERBytes = "trailing bytes after the DER value"
)

// derValue decodes one DER value: a string type to its string, anything
// else to its DER bytes with binary set.
func derValue(der []byte) (v string, binary bool, err error) {
	if len(der) > maxDERValueForAVA {
		return "", false, errors.New("the value is too long")
	}
	var rv asn1.RawValue
	rest, err := asn1.Unmarshal(der, &rv)
	if err != nil {
		return "", false, errors.New("malformed DER")
	}
	if len(rest) != 0 {
		return "", false, errors.New(errTrailingDERBytes)
	}
	return rawValue(rv)
}

// rawValue turns an attribute value into AVA form: decodeValue, and a
// string with a control character is ErrDNControl.
func rawValue(rv asn1.RawValue) (string, bool, error) {
	s, binary, err := decodeValue(rv)
	if err == nil && !binary && hasControl(s) {
		return "", false, ErrDNControl
	}
	return s, binary, err
}

// decodeValue decodes string types the way BoringSSL does before printing
// (ASN1_STRFLGS_UTF8_CONVERT): UTF8String as is, the one-byte types as
// Latin-1, BMPString as UCS-2, UniversalString as UCS-4. Any other value
// is returned as its DER with binary set.
func decodeValue(rv asn1.RawValue) (s string, binary bool, err error) {
	if rv.Class != asn1.ClassUniversal || rv.IsCompound {
		return string(rv.FullBytes), true, nil
	}
	switch rv.Tag {
	case tagUTF8String:
		if !utf8.Valid(rv.Bytes) {
			return "", false, errors.New(errNotUTF8)
		}
		return string(rv.Bytes), false, nil
	case tagNumericString, tagPrintableString, tagT61String, tagIA5String, tagUTCTime, tagGeneralizedTime, tagVisibleString:
		return latin1(rv.Bytes), false, nil
	case tagBMPString:
		if len(rv.Bytes)%2 != 0 {
			return "", false, errors.New(errBadBMPString)
		}
		rs := make([]rune, 0, len(rv.Bytes)/2)
		for i := 0; i < len(rv.Bytes); i += 2 {
			r := rune(rv.Bytes[i])<<8 | rune(rv.Bytes[i+1])
			if r >= 0xd800 && r <= 0xdfff {
				return "", false, errors.New(errBadBMPString)
			}
			rs = append(rs, r)
		}
		return string(rs), false, nil
	case tagUniversalString:
		if len(rv.Bytes)%4 != 0 {
			return "", false, errors.New(errBadUniversalStr)
		}
		rs := make([]rune, 0, len(rv.Bytes)/4)
		for i := 0; i < len(rv.Bytes); i += 4 {
			r := rune(rv.Bytes[i])<<24 | rune(rv.Bytes[i+1])<<16 | rune(rv.Bytes[i+2])<<8 | rune(rv.Bytes[i+3])
			if !utf8.ValidRune(r) {
				return "", false, errors.New(errBadUniversalStr)
			}
			rs = append(rs, r)
		}
		return string(rs), false, nil
	}
	return string(rv.FullBytes), true, nil
}

func latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// rawATV and rawRDNSET mirror pkix.AttributeTypeAndValue and
// pkix.RelativeDistinguishedNameSET, keeping each value's DER (encoding/asn1
// treats a slice type whose name ends in "SET" as a SET OF).
type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

type rawRDNSET []rawATV

func parseRawName(der []byte) ([]rawRDNSET, error) {
	var seq []rawRDNSET
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, fmt.Errorf("malformed DER name: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("malformed DER name: " + errTrailingDERBytes)
	}
	n := 0
	for _, rdn := range seq {
		n += len(rdn)
		if len(rdn) == 0 {
			return nil, errors.New("malformed DER name: an empty RDN")
		}
	}
	if n > MaxDNAttributes {
		return nil, fmt.Errorf("more than %d attributes", MaxDNAttributes)
	}
	return seq, nil
}

// NameFromDER decodes a DER X.501 Name (Certificate.RawSubject or
// RawIssuer) into a Name in string order, decoding values as ParseDN does
// for "#hex" values. A name with a control character in a value returns
// ErrDNControl.
func NameFromDER(der []byte) (Name, error) {
	seq, err := parseRawName(der)
	if err != nil {
		return nil, err
	}
	name := make(Name, 0, len(seq))
	for i := len(seq) - 1; i >= 0; i-- {
		rdn := make(RDN, 0, len(seq[i]))
		for _, atv := range seq[i] {
			// A type Envoy does not know is printed as its OID and "#hex",
			// which ParseDN decodes as a string if the DER is one: so is
			// every value here, whatever its type.
			oid := atv.Type.String()
			v, binary, err := rawValue(atv.Value)
			if err != nil {
				return nil, err
			}
			rdn = append(rdn, AVA{Type: oid, Value: v, Binary: binary})
		}
		name = append(name, rdn)
	}
	return name, nil
}

// FormatName formats a DER X.501 Name the way Envoy reports it in
// connection.subject_peer_certificate and in the XFCC Subject: BoringSSL's
// X509_NAME_print_ex with XN_FLAG_RFC2253, that is:
//   - RDNs in reverse DER order, joined by ','; the AVAs of a multi-valued
//     RDN joined by '+', also in reverse DER order (the flags reverse the
//     flattened list of entries);
//   - a known type by its OpenSSL short name (CN, O, OU, C, L, ST, street,
//     serialNumber, emailAddress, DC, UID, ...), any other by its OID with
//     the value as "#" and the upper-case hex of its DER;
//   - a string value converted to UTF-8, then ',' '+' '"' '\' '<' '>' ';',
//     a leading '#' or space and a trailing space escaped with '\', and
//     every control byte and every byte >= 0x80 written as "\XX";
//   - a known type with a non-string value as "#" and hex, like unknown ones.
//
// Go's pkix.Name.String differs: it re-orders attributes into a fixed
// order, splits multi-valued RDNs, keeps a single CN when there are
// several, prints only nine types by name (emailAddress, DC and UID become
// OIDs with lower-case hex), and leaves non-ASCII and control characters
// unescaped.
//
// ParseDN of the result equals NameFromDER of der. FormatName is not on the
// request path: it is for tests and emulators that must present a
// certificate as Envoy would.
func FormatName(der []byte) (string, error) {
	seq, err := parseRawName(der)
	if err != nil {
		return "", err
	}
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	first := true
	for i := len(seq) - 1; i >= 0; i-- {
		for j := len(seq[i]) - 1; j >= 0; j-- {
			if !first {
				if j == len(seq[i])-1 {
					b.WriteByte(',')
				} else {
					b.WriteByte('+')
				}
			}
			first = false
			atv := seq[i][j]
			oid := atv.Type.String()
			short, known := shortNames[oid]
			var v string
			binary := true
			if known {
				// Control characters are printed escaped, not refused.
				if v, binary, err = decodeValue(atv.Value); err != nil {
					return "", err
				}
				b.WriteString(short)
			} else {
				b.WriteString(oid)
			}
			b.WriteByte('=')
			if binary {
				b.WriteByte('#')
				for _, c := range atv.Value.FullBytes {
					b.WriteByte(hexDigits[c>>4])
					b.WriteByte(hexDigits[c&15])
				}
				continue
			}
			escapeValue(&b, v, true)
		}
	}
	return b.String(), nil
}
