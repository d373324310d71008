package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The DER public-key formats this package reads (PEM configuration) and
// writes (Key.SPKI for the host), with golang.org/x/crypto/cryptobyte
// rather than crypto/x509: crypto/x509 brings in package net and
// certificate machinery and costs the module about 560 KB, for four
// structures. Tests check both directions against crypto/x509.

var (
	oidRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1} // RFC 8017 rsaEncryption
	oidEC      = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}     // RFC 5480 id-ecPublicKey
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}             // RFC 8410 id-Ed25519
	oidP256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384    = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521    = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

var errDER = errors.New("malformed DER public key")

// parseSPKI parses a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) holding an
// RSA, EC (P-256, P-384, P-521, named curve) or Ed25519 key.
func parseSPKI(der []byte) (crypto.PublicKey, error) {
	input := cryptobyte.String(der)
	var spki, algo cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !input.ReadASN1(&spki, casn1.SEQUENCE) || !input.Empty() ||
		!spki.ReadASN1(&algo, casn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) || !spki.Empty() ||
		!algo.ReadASN1ObjectIdentifier(&oid) || bits.BitLength%8 != 0 {
		return nil, errDER
	}
	key := bits.Bytes
	switch {
	case oid.Equal(oidRSA):
		// RFC 3279 §2.3.1: the parameters are NULL (some encoders omit them).
		if !algo.Empty() && (!algo.ReadASN1(new(cryptobyte.String), casn1.NULL) || !algo.Empty()) {
			return nil, errDER
		}
		return parsePKCS1(key)
	case oid.Equal(oidEC):
		var curveOID asn1.ObjectIdentifier
		if !algo.ReadASN1ObjectIdentifier(&curveOID) || !algo.Empty() {
			return nil, errors.New("EC key without a named curve")
		}
		var c elliptic.Curve
		switch {
		case curveOID.Equal(oidP256):
			c = elliptic.P256()
		case curveOID.Equal(oidP384):
			c = elliptic.P384()
		case curveOID.Equal(oidP521):
			c = elliptic.P521()
		default:
			return nil, errors.New("EC key on a curve other than P-256, P-384 or P-521")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(c, key)
		if err != nil {
			return nil, errors.New("EC point is not an uncompressed point on its curve")
		}
		return pub, nil
	case oid.Equal(oidEd25519):
		if !algo.Empty() || len(key) != ed25519.PublicKeySize {
			return nil, errDER
		}
		return ed25519.PublicKey(append([]byte(nil), key...)), nil
	}
	return nil, errors.New("unsupported public key algorithm")
}

// parsePKCS1 parses an RSAPublicKey (RFC 8017 §A.1.1).
func parsePKCS1(der []byte) (*rsa.PublicKey, error) {
	input := cryptobyte.String(der)
	var seq cryptobyte.String
	n := new(big.Int)
	var e int
	if !input.ReadASN1(&seq, casn1.SEQUENCE) || !input.Empty() ||
		!seq.ReadASN1Integer(n) || !seq.ReadASN1Integer(&e) || !seq.Empty() || n.Sign() <= 0 || e <= 0 {
		return nil, errors.New("malformed RSA public key")
	}
	return &rsa.PublicKey{N: n, E: e}, nil
}

// certificateSPKI returns the SubjectPublicKeyInfo of an X.509 certificate
// (RFC 5280 §4.1) without validating anything else.
func certificateSPKI(der []byte) ([]byte, error) {
	input := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	var spki cryptobyte.String
	if !input.ReadASN1(&cert, casn1.SEQUENCE) || !input.Empty() ||
		!cert.ReadASN1(&tbs, casn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(casn1.Tag(0).Constructed().ContextSpecific()) || // version
		!tbs.SkipASN1(casn1.INTEGER) || // serialNumber
		!tbs.SkipASN1(casn1.SEQUENCE) || // signature
		!tbs.SkipASN1(casn1.SEQUENCE) || // issuer
		!tbs.SkipASN1(casn1.SEQUENCE) || // validity
		!tbs.SkipASN1(casn1.SEQUENCE) || // subject
		!tbs.ReadASN1Element(&spki, casn1.SEQUENCE) {
		return nil, errors.New("malformed certificate")
	}
	return spki, nil
}

// marshalSPKI encodes pub as a SubjectPublicKeyInfo, as
// x509.MarshalPKIXPublicKey does.
func marshalSPKI(pub crypto.PublicKey) ([]byte, error) {
	var b cryptobyte.Builder
	var err error
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		switch p := pub.(type) {
		case *rsa.PublicKey:
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidRSA)
				b.AddASN1NULL()
			})
			var k cryptobyte.Builder
			k.AddASN1(casn1.SEQUENCE, func(k *cryptobyte.Builder) {
				k.AddASN1BigInt(p.N)
				k.AddASN1Int64(int64(p.E))
			})
			b.AddASN1BitString(k.BytesOrPanic())
		case *ecdsa.PublicKey:
			var curve asn1.ObjectIdentifier
			switch p.Curve {
			case elliptic.P256():
				curve = oidP256
			case elliptic.P384():
				curve = oidP384
			case elliptic.P521():
				curve = oidP521
			default:
				err = errors.New("unsupported curve")
				return
			}
			point, e := p.Bytes()
			if e != nil {
				err = e
				return
			}
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidEC)
				b.AddASN1ObjectIdentifier(curve)
			})
			b.AddASN1BitString(point)
		case ed25519.PublicKey:
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidEd25519)
			})
			b.AddASN1BitString(p)
		default:
			err = errors.New("unsupported public key type")
		}
	})
	if err != nil {
		return nil, err
	}
	return b.Bytes()
}
