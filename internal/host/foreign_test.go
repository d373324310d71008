package host

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	text := []byte("header.payload")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER}))
	d256 := sha256.Sum256(text)
	rsaSig, _ := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, d256[:])
	pssSig, _ := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, d256[:], nil)

	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	d384 := sha512.Sum384(text)
	ecSig, _ := ecdsa.SignASN1(rand.Reader, ecKey, d384[:])

	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKIXPublicKey(edPub)
	edSig := ed25519.Sign(edPriv, text)

	flipped := append([]byte(nil), rsaSig...)
	flipped[10] ^= 1

	tests := []struct {
		name       string
		args       []byte
		wantStatus Status
		wantOK     bool
		wantErr    string
	}{
		{"RSA PKCS#1 v1.5, DER key", EncodeVerifySignatureArguments("sha256", rsaDER, "", rsaSig, text), StatusOK, true, ""},
		{"RSA, PEM key", EncodeVerifySignatureArguments("sha256", nil, rsaPEM, rsaSig, text), StatusOK, true, ""},
		{"PEM key after other text", EncodeVerifySignatureArguments("sha256", nil, "junk\n"+rsaPEM, rsaSig, text), StatusOK, true, ""},
		{"hash name in upper case", EncodeVerifySignatureArguments("SHA256", rsaDER, "", rsaSig, text), StatusOK, true, ""},
		{"DER key with trailing bytes", EncodeVerifySignatureArguments("sha256", append(append([]byte(nil), rsaDER...), 0, 1), "", rsaSig, text), StatusOK, true, ""},
		{"ECDSA P-384, DER signature", EncodeVerifySignatureArguments("sha384", ecDER, "", ecSig, text), StatusOK, true, ""},
		{"Ed25519", EncodeVerifySignatureArguments("sha512", edDER, "", edSig, text), StatusOK, true, ""},
		{"tampered signature", EncodeVerifySignatureArguments("sha256", rsaDER, "", flipped, text), StatusOK, false, "Failed to verify digest. Error code: 0"},
		{"RSA-PSS signature", EncodeVerifySignatureArguments("sha256", rsaDER, "", pssSig, text), StatusOK, false, "Failed to verify digest. Error code: 0"},
		{"wrong hash", EncodeVerifySignatureArguments("sha512", rsaDER, "", rsaSig, text), StatusOK, false, "Failed to verify digest. Error code: 0"},
		{"unsupported hash", EncodeVerifySignatureArguments("md5", rsaDER, "", rsaSig, text), StatusOK, false, "md5 is not supported."},
		{"garbage key", EncodeVerifySignatureArguments("sha256", []byte{1, 2, 3}, "", rsaSig, text), StatusOK, false, "Failed to initialize digest verify."},
		{"PEM without a PUBLIC KEY block", EncodeVerifySignatureArguments("sha256", nil, "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n", rsaSig, text), StatusOK, false, "Failed to initialize digest verify."},
		{"both key forms", EncodeVerifySignatureArguments("sha256", rsaDER, rsaPEM, rsaSig, text), StatusBadArgument, false, ""},
		{"no key", EncodeVerifySignatureArguments("sha256", nil, "", rsaSig, text), StatusBadArgument, false, ""},
		{"not a protobuf", []byte{0xff, 0xff, 0xff}, StatusBadArgument, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, st := VerifySignature(tc.args)
			if st != tc.wantStatus {
				t.Fatalf("status = %v; want %v", st, tc.wantStatus)
			}
			if st != StatusOK {
				return
			}
			ok, msg, err := DecodeVerifySignatureResult(res)
			if err != nil || ok != tc.wantOK || msg != tc.wantErr {
				t.Fatalf("result = %v %q %v; want %v %q", ok, msg, err, tc.wantOK, tc.wantErr)
			}
		})
	}
	if res, _ := VerifySignature(tests[0].args); hex.EncodeToString(res) != "0801" {
		t.Errorf("success encoding = %x; want 0801", res)
	}
}

func TestCallForeignFunctionFromGuest(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	d := sha256.Sum256([]byte("msg"))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, d[:])
	args := hex.EncodeToString(EncodeVerifySignatureArguments("sha256", der, "", sig, []byte("msg")))
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newProbe(t, p, "request_headers: foreign verify_signature "+args+"; foreign verify_signature 00; foreign nosuch 00; foreign empty", func(c *Config) {
				c.ForeignFunctions = map[string]ForeignFunc{
					"verify_signature": VerifySignature,
					"empty":            func([]byte) ([]byte, Status) { return nil, StatusOK },
				}
			})
			s := h.VM(0).NewStream(Connection{})
			s.RequestHeaders(reqHeaders("/"), true)
			for cmd, want := range map[string]string{
				"foreign verify_signature " + args: "0:0801",
				"foreign verify_signature 00":      "2:", // not a VerifySignatureArguments
				"foreign nosuch 00":                "1:",
				"foreign empty":                    "0:",
			} {
				if got := result(t, h, "request_headers", cmd); got != want {
					t.Errorf("%.40s = %q; want %q", cmd, got, want)
				}
			}
		})
	}
}
