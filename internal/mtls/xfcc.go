package mtls

import (
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// XFCCHeader is the header Envoy's HTTP connection manager writes the
// client certificate details into (forward_client_cert_details).
const XFCCHeader = "x-forwarded-client-cert"

// Default XFCC limits. Envoy's default limit on all request headers is 60
// KiB; a URL-encoded P-256 certificate is about 1 KiB, an RSA-4096 one
// about 2.5 KiB, and Chain= repeats the chain.
const (
	DefaultXFCCMaxBytes    = 32 << 10
	DefaultXFCCMaxElements = 16
)

// XFCCLimits bound the work ParseXFCC does. Zero fields take the defaults.
type XFCCLimits struct {
	// MaxBytes is the longest header value accepted.
	MaxBytes int
	// MaxElements is the most comma-separated elements (proxy hops).
	MaxElements int
}

func (l XFCCLimits) withDefaults() XFCCLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultXFCCMaxBytes
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultXFCCMaxElements
	}
	return l
}

// ErrXFCCTooLarge is wrapped by the XFCCError of a header over its limits.
var ErrXFCCTooLarge = errors.New("over the size limits")

// XFCCError is a malformed x-forwarded-client-cert header.
type XFCCError struct {
	Offset int    // byte offset of the problem
	Msg    string // what is wrong
	Err    error  // ErrXFCCTooLarge, or nil
}

// Error formats the problem with its offset.
func (e *XFCCError) Error() string {
	return fmt.Sprintf("x-forwarded-client-cert: at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap returns e.Err.
func (e *XFCCError) Unwrap() error { return e.Err }

// XFCCElement is one element of an x-forwarded-client-cert header: what one
// proxy said about the client certificate of its downstream connection.
type XFCCElement struct {
	// By holds the URI SANs of that proxy's own certificate (one By= per
	// SAN).
	By []string
	// Hash is the lower-case hex SHA-256 of the client certificate (DER).
	Hash string
	// Cert and Chain are the URL-decoded PEM of the client certificate and
	// of its chain, leaf first.
	Cert, Chain string
	// Subject is the client certificate's subject in Envoy's RFC 2253 form,
	// exactly as connection.subject_peer_certificate reports it (see
	// ParseXFCC for why it is not unescaped). HasSubject tells an empty
	// subject from none.
	Subject    string
	HasSubject bool
	// URI holds every URI SAN of the client certificate, in order. HasURI
	// is set when the element has a URI key at all: Envoy writes "URI="
	// for a certificate with no URI SAN, so HasURI with no URI means there
	// is none, while no URI key means the proxy was not asked for them.
	URI    []string
	HasURI bool
	// DNS holds every DNS SAN, in order. Envoy writes no DNS key for a
	// certificate without DNS SANs, so an empty DNS is not conclusive.
	DNS []string
}

// ParseXFCC parses an x-forwarded-client-cert header value in the format
// Envoy documents (HTTP connection manager, "x-forwarded-client-cert") and
// writes (ConnectionManagerUtility::mutateXfccRequestHeader): elements
// separated by ',', one per proxy, oldest first; each a ';'-separated list
// of Key=Value pairs. Keys are By, Hash, Cert, Chain, Subject, URI and DNS,
// matched case-insensitively; By, URI and DNS may repeat, the others may
// not. It is strict:
//
//   - a value is either bare (visible ASCII but '"' '\' ',' ';'; '=' is
//     allowed since a key ends at the first '=', and Envoy writes URI SANs
//     bare) or double-quoted; a quote may only open a value, and the closing quote
//     must be followed by ';', ',' or the end. Inside quotes a backslash
//     protects the next character (so "\"" does not close the value) and is
//     kept: the value is the text between the quotes, verbatim. Envoy
//     writes Subject="<RFC 2253 subject>" without escaping anything, which
//     is right because RFC 2253 already escapes '"' and '\' as "\"" and
//     "\\"; unescaping would corrupt it. For the other keys Envoy never
//     writes a '"' or '\';
//   - whitespace is allowed only around the ',' between elements; control
//     characters and non-ASCII bytes are refused anywhere;
//   - empty elements, empty pairs, unknown keys, a repeated Hash, Cert,
//     Chain or Subject, a Hash that is not 64 hex digits, an empty By, DNS,
//     Cert or Chain, and a URI= next to other URI values are errors;
//   - Cert and Chain are percent-decoded ("%XX"; '+' stays '+'); their PEM
//     is parsed only on demand (XFCCElement.Certificate).
//
// Envoy writes By, URI and DNS values without quoting even when a SAN
// contains ',' or ';' (a TODO in its source): a certificate with such a SAN
// yields a header that cannot be read unambiguously. The provider guards
// against that by cross-checking the first SANs with the connection and,
// when Cert is present, reading the SANs from the certificate itself.
//
// Which element to trust is the caller's decision (see XFCCMode): ParseXFCC
// returns them all, and does no more than bounded linear work on input
// under lim.
func ParseXFCC(header string, lim XFCCLimits) ([]XFCCElement, error) {
	lim = lim.withDefaults()
	if len(header) > lim.MaxBytes {
		return nil, &XFCCError{Offset: lim.MaxBytes, Msg: fmt.Sprintf("longer than %d bytes", lim.MaxBytes), Err: ErrXFCCTooLarge}
	}
	p := xfccParser{s: header}
	var elems []XFCCElement
	for {
		p.skipOWS()
		if len(elems) == lim.MaxElements {
			return nil, &XFCCError{Offset: p.i, Msg: fmt.Sprintf("more than %d elements", lim.MaxElements), Err: ErrXFCCTooLarge}
		}
		e, err := p.element()
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
		p.skipOWS()
		if p.i == len(p.s) {
			return elems, nil
		}
		if p.s[p.i] != ',' {
			return nil, p.errorf("expected ',' between elements")
		}
		p.i++
	}
}

type xfccParser struct {
	s string
	i int
}

func (p *xfccParser) errorf(format string, args ...any) *XFCCError {
	return &XFCCError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *xfccParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// The keys, in the order String writes them.
const (
	keyBy = iota
	keyHash
	keySubject
	keyURI
	keyCert
	keyChain
	keyDNS
)

var xfccKeys = [...]string{keyBy: "By", keyHash: "Hash", keySubject: "Subject", keyURI: "URI", keyCert: "Cert", keyChain: "Chain", keyDNS: "DNS"}

func (p *xfccParser) element() (XFCCElement, error) {
	var e XFCCElement
	var seen [len(xfccKeys)]bool
	emptyURI := false
	for {
		keyAt := p.i
		key, err := p.key()
		if err != nil {
			return e, err
		}
		valAt := p.i
		v, err := p.value()
		if err != nil {
			return e, err
		}
		if seen[key] && key != keyBy && key != keyURI && key != keyDNS {
			return e, &XFCCError{Offset: keyAt, Msg: "repeated " + xfccKeys[key]}
		}
		seen[key] = true
		bad := func(msg string) error { return &XFCCError{Offset: valAt, Msg: xfccKeys[key] + ": " + msg} }
		switch key {
		case keyBy:
			if v == "" {
				return e, bad("empty value")
			}
			e.By = append(e.By, v)
		case keyHash:
			if len(v) != 64 || !allHex(v) {
				return e, bad("not 64 hex digits")
			}
			e.Hash = strings.ToLower(v)
		case keySubject:
			e.Subject, e.HasSubject = v, true
		case keyURI:
			e.HasURI = true
			if v == "" {
				emptyURI = true
			} else {
				e.URI = append(e.URI, v)
			}
			if emptyURI && len(e.URI) > 0 {
				return e, bad(`"URI=" next to URI values`)
			}
		case keyDNS:
			if v == "" {
				return e, bad("empty value")
			}
			e.DNS = append(e.DNS, v)
		case keyCert, keyChain:
			pemText, ok := percentDecode(v)
			if !ok {
				return e, bad("malformed percent-encoding")
			}
			if pemText == "" {
				return e, bad("empty value")
			}
			if key == keyCert {
				e.Cert = pemText
			} else {
				e.Chain = pemText
			}
		}
		if p.i == len(p.s) || p.s[p.i] == ',' || p.s[p.i] == ' ' || p.s[p.i] == '\t' {
			return e, nil
		}
		// value() stops only at the end, ',', ';' or whitespace.
		p.i++ // ';'
	}
}

// key reads a key and its '='.
func (p *xfccParser) key() (int, error) {
	start := p.i
	for p.i < len(p.s) && isAlpha(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		if p.i == len(p.s) || p.s[p.i] == ',' || p.s[p.i] == ';' {
			return 0, p.errorf("empty element or pair")
		}
		return 0, p.errorf("expected a key")
	}
	if p.i == len(p.s) || p.s[p.i] != '=' {
		return 0, p.errorf("expected '=' after the key")
	}
	name := p.s[start:p.i]
	p.i++
	for k, n := range xfccKeys {
		if strings.EqualFold(name, n) {
			return k, nil
		}
	}
	return 0, &XFCCError{Offset: start, Msg: fmt.Sprintf("unknown key %q", name)}
}

// value reads a bare or quoted value and leaves p at the end, ',', ';' or
// whitespace before a ','.
func (p *xfccParser) value() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.i++
		start := p.i
		for {
			if p.i == len(p.s) {
				return "", &XFCCError{Offset: start - 1, Msg: "unterminated quoted value"}
			}
			c := p.s[p.i]
			if c < 0x20 || c >= 0x7f {
				return "", p.errorf("a control or non-ASCII byte")
			}
			if c == '"' {
				break
			}
			if c == '\\' {
				if p.i+1 == len(p.s) {
					return "", &XFCCError{Offset: start - 1, Msg: "unterminated quoted value"}
				}
				if n := p.s[p.i+1]; n < 0x20 || n >= 0x7f {
					return "", &XFCCError{Offset: p.i + 1, Msg: "a control or non-ASCII byte"}
				}
				p.i++
			}
			p.i++
		}
		v := p.s[start:p.i]
		p.i++ // closing quote
		if p.i < len(p.s) {
			switch p.s[p.i] {
			case ';', ',', ' ', '\t':
			default:
				return "", p.errorf("expected ';' or ',' after a quoted value")
			}
		}
		return v, p.checkAfterValue()
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ';' || c == ',' || c == ' ' || c == '\t' {
			break
		}
		if c <= 0x20 || c >= 0x7f {
			return "", p.errorf("a control or non-ASCII byte")
		}
		if c == '"' || c == '\\' {
			return "", p.errorf("a %q inside a bare value", c)
		}
		p.i++
	}
	return p.s[start:p.i], p.checkAfterValue()
}

// checkAfterValue allows whitespace after a value only before ',' or the
// end.
func (p *xfccParser) checkAfterValue() error {
	if p.i == len(p.s) || (p.s[p.i] != ' ' && p.s[p.i] != '\t') {
		return nil
	}
	j := p.i
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	if j < len(p.s) && p.s[j] != ',' {
		return &XFCCError{Offset: p.i, Msg: "whitespace inside an element"}
	}
	return nil
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// percentDecode decodes "%XX" sequences; any other byte stands for itself
// ('+' is not a space: PEM's base64 has '+').
func percentDecode(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return string(b), true
}

// percentEncode encodes every byte but RFC 3986's unreserved characters,
// as Envoy's PercentEncoding::urlEncode does for Cert and Chain.
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// String writes e as Envoy would: keys in the order By, Hash, Subject, URI,
// Cert, Chain, DNS; Subject, Cert and Chain quoted, Cert and Chain
// percent-encoded, other values quoted only when they need it. It is the
// inverse of ParseXFCC for every element ParseXFCC returns.
func (e *XFCCElement) String() string {
	var parts []string
	add := func(k int, v string, quote bool) {
		if quote || v != "" && strings.ContainsAny(v, `,;"\ `+"\t") {
			v = `"` + v + `"`
		}
		parts = append(parts, xfccKeys[k]+"="+v)
	}
	for _, v := range e.By {
		add(keyBy, v, false)
	}
	if e.Hash != "" {
		add(keyHash, e.Hash, false)
	}
	if e.HasSubject {
		add(keySubject, e.Subject, true)
	}
	if e.HasURI && len(e.URI) == 0 {
		add(keyURI, "", false)
	}
	for _, v := range e.URI {
		add(keyURI, v, false)
	}
	if e.Cert != "" {
		add(keyCert, percentEncode(e.Cert), true)
	}
	if e.Chain != "" {
		add(keyChain, percentEncode(e.Chain), true)
	}
	for _, v := range e.DNS {
		add(keyDNS, v, false)
	}
	return strings.Join(parts, ";")
}

// Certificate parses Cert (ParseCertificate): exactly one PEM CERTIFICATE
// block and nothing else but whitespace. It returns nil and no error when
// there is no Cert.
func (e *XFCCElement) Certificate() (*Certificate, error) {
	if e.Cert == "" {
		return nil, nil
	}
	der, err := e.certificateDER()
	if err != nil {
		return nil, err
	}
	return ParseCertificate(der)
}

// certificateDER decodes the PEM of Cert, which must hold exactly one
// certificate.
func (e *XFCCElement) certificateDER() ([]byte, error) {
	ders, err := pemCertificates(e.Cert)
	if err != nil {
		return nil, err
	}
	if len(ders) != 1 {
		return nil, errors.New("Cert holds more than one certificate")
	}
	return ders[0], nil
}

// ChainCertificates parses Chain, leaf first. It returns nil and no error
// when there is no Chain.
func (e *XFCCElement) ChainCertificates() ([]*Certificate, error) {
	if e.Chain == "" {
		return nil, nil
	}
	return parsePEMCertificates(e.Chain)
}

// maxChainCertificates bounds the certificates parsed from one Chain.
const maxChainCertificates = 8

func parsePEMCertificates(text string) ([]*Certificate, error) {
	ders, err := pemCertificates(text)
	if err != nil {
		return nil, err
	}
	certs := make([]*Certificate, len(ders))
	for i, der := range ders {
		if certs[i], err = ParseCertificate(der); err != nil {
			return nil, err
		}
	}
	return certs, nil
}

// pemCertificates decodes PEM CERTIFICATE blocks, refusing any other text
// but whitespace around them.
func pemCertificates(text string) ([][]byte, error) {
	rest := []byte(text)
	var ders [][]byte
	for len(strings.TrimSpace(string(rest))) > 0 {
		if len(ders) == maxChainCertificates {
			return nil, fmt.Errorf("more than %d certificates", maxChainCertificates)
		}
		// pem.Decode skips text before a block; refuse it instead.
		if i := strings.Index(string(rest), "-----BEGIN "); i < 0 || strings.TrimSpace(string(rest[:i])) != "" {
			return nil, errors.New("text outside PEM CERTIFICATE blocks")
		}
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil || b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			return nil, errors.New("not a PEM CERTIFICATE block")
		}
		ders = append(ders, b.Bytes)
	}
	if len(ders) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return ders, nil
}
