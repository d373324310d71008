package mtls

import (
	"errors"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificate is what the provider reads from an X.509 certificate (a
// trusted XFCC Cert): the names, the validity and the SANs, as raw as Envoy
// sees them. It is deliberately not crypto/x509: that package (with the net
// package it imports) would add most of a megabyte to the Wasm module for
// fields the provider never uses, and its parser refuses certificates
// BoringSSL accepts. Nothing here verifies a signature: a Certificate is
// used only once its SHA-256 equals the digest of the certificate the TLS
// handshake verified.
type Certificate struct {
	// Raw is the DER certificate.
	Raw []byte
	// RawSubject and RawIssuer are the DER Names (for FormatName and
	// NameFromDER).
	RawSubject, RawIssuer []byte
	// NotBefore and NotAfter bound the validity period (RFC 5280
	// §4.1.2.5), both inclusive.
	NotBefore, NotAfter time.Time
	// URIs and DNSNames are the uniformResourceIdentifier and dNSName SANs,
	// in order, as the bytes of their IA5Strings (what Envoy's
	// Utility::getSubjectAltNames returns).
	URIs, DNSNames []string
}

var errMalformedCertificate = errors.New("malformed X.509 certificate")

// oidSubjectAltName is id-ce-subjectAltName (2.5.29.17), DER-encoded.
var oidSubjectAltName = []byte{0x55, 0x1d, 0x11}

// GeneralName tags (RFC 5280 §4.2.1.6), context-specific and primitive.
const (
	generalNameDNS = cbasn1.Tag(2) | 0x80
	generalNameURI = cbasn1.Tag(6) | 0x80
)

// ParseCertificate reads a DER X.509 certificate (RFC 5280 §4.1). It checks
// the structure of the fields it reads and skips the others; a certificate
// with two subjectAltName extensions is refused (RFC 5280 §4.2: an
// extension appears at most once).
func ParseCertificate(der []byte) (*Certificate, error) {
	c := &Certificate{Raw: der}
	input := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !input.Empty() ||
		!cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errMalformedCertificate
	}
	var issuer, subject, validity cryptobyte.String
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || // version
		!tbs.SkipASN1(cbasn1.INTEGER) || // serialNumber
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // signature
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1(&validity, cbasn1.SEQUENCE) ||
		!readTime(&validity, &c.NotBefore) || !readTime(&validity, &c.NotAfter) || !validity.Empty() ||
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // subjectPublicKeyInfo
		!tbs.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) || // issuerUniqueID
		!tbs.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) { // subjectUniqueID
		return nil, errMalformedCertificate
	}
	c.RawIssuer, c.RawSubject = issuer, subject
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, errMalformedCertificate
	}
	if hasExts {
		var list cryptobyte.String
		if !exts.ReadASN1(&list, cbasn1.SEQUENCE) || !exts.Empty() {
			return nil, errMalformedCertificate
		}
		sawSAN := false
		for !list.Empty() {
			var ext, oid, value cryptobyte.String
			if !list.ReadASN1(&ext, cbasn1.SEQUENCE) ||
				!ext.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
				!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || // critical
				!ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
				return nil, errMalformedCertificate
			}
			if string(oid) != string(oidSubjectAltName) {
				continue
			}
			if sawSAN {
				return nil, errors.New("two subjectAltName extensions")
			}
			sawSAN = true
			if err := c.readSANs(value); err != nil {
				return nil, err
			}
		}
	}
	// signatureAlgorithm and signatureValue, unread.
	if !cert.SkipASN1(cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.BIT_STRING) || !cert.Empty() {
		return nil, errMalformedCertificate
	}
	return c, nil
}

func (c *Certificate) readSANs(value cryptobyte.String) error {
	var names cryptobyte.String
	if !value.ReadASN1(&names, cbasn1.SEQUENCE) || !value.Empty() {
		return errors.New("malformed subjectAltName extension")
	}
	for !names.Empty() {
		var v cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&v, &tag) {
			return errors.New("malformed subjectAltName extension")
		}
		switch tag {
		case generalNameDNS:
			c.DNSNames = append(c.DNSNames, string(v))
		case generalNameURI:
			c.URIs = append(c.URIs, string(v))
		}
	}
	return nil
}

// readTime reads a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5).
func readTime(s *cryptobyte.String, out *time.Time) bool {
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		return s.ReadASN1UTCTime(out)
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		return s.ReadASN1GeneralizedTime(out)
	}
	return false
}
