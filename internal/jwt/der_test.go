package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// The DER code agrees with crypto/x509 (used here, in tests only) in both
// directions, for every fixture.
func TestDERAgreesWithX509(t *testing.T) {
	for _, name := range []string{"rsa2048", "rsa1024", "ec256", "ec384", "ec521", "ed25519"} {
		t.Run(name, func(t *testing.T) {
			blk, _ := pem.Decode(readFile(t, name+".pub.pem"))
			want, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseSPKI(blk.Bytes)
			if err != nil {
				t.Fatalf("parseSPKI: %v", err)
			}
			if !want.(interface{ Equal(crypto.PublicKey) bool }).Equal(got) {
				t.Fatalf("parseSPKI = %v; want %v", got, want)
			}
			der, err := marshalSPKI(got)
			if err != nil || !bytes.Equal(der, blk.Bytes) {
				t.Fatalf("marshalSPKI differs from the openssl/x509 encoding: %v", err)
			}
		})
	}
	blk, _ := pem.Decode(readFile(t, "rsa2048.pkcs1.pub.pem"))
	want, _ := x509.ParsePKCS1PublicKey(blk.Bytes)
	if got, err := parsePKCS1(blk.Bytes); err != nil || !want.Equal(got) {
		t.Fatalf("parsePKCS1 = %v, %v", got, err)
	}
}

func TestPEMCertificate(t *testing.T) {
	k := privateKey(t, "ec256").(*ecdsa.PrivateKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "issuer"}, NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParsePEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), "c", DefaultMinRSABits)
	if err != nil || len(keys) != 1 || !k.PublicKey.Equal(keys[0].Public) || keys[0].ID != "c" {
		t.Fatalf("ParsePEM(certificate) = %v, %v", keys, err)
	}
}

func TestParseSPKIRejects(t *testing.T) {
	blk, _ := pem.Decode(readFile(t, "ec256.pub.pem"))
	good := blk.Bytes
	k := privateKey(t, "ec256").(*ecdsa.PrivateKey)
	compressed := elliptic.MarshalCompressed(elliptic.P256(), k.X, k.Y)
	spki := func(algo []byte, key []byte) []byte {
		// SEQUENCE { algo, BIT STRING key } with short lengths.
		bits := append([]byte{0x03, byte(len(key) + 1), 0}, key...)
		body := append(append([]byte{}, algo...), bits...)
		return append([]byte{0x30, byte(len(body))}, body...)
	}
	ecAlgo := good[2 : 2+2+int(good[3])]
	tests := map[string][]byte{
		"empty":             nil,
		"truncated":         good[:len(good)-1],
		"trailing data":     append(append([]byte{}, good...), 0),
		"compressed point":  spki(ecAlgo, compressed),
		"unknown algorithm": spki([]byte{0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04}, []byte{1, 2, 3}),
		"EC without curve":  spki([]byte{0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}, []byte{4, 1, 2}),
	}
	for name, der := range tests {
		if _, err := parseSPKI(der); err == nil {
			t.Errorf("parseSPKI(%s) = nil error", name)
		}
	}
	if _, err := parseSPKI(spki(ecAlgo, append([]byte{4}, append(k.X.FillBytes(make([]byte, 32)), k.Y.FillBytes(make([]byte, 32))...)...))); err != nil {
		t.Errorf("the hand-built SPKI of a valid key fails: %v", err)
	}
}
