package host

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// verifySignatureResult reads VerifySignatureResult.result (field 1).
func verifySignatureResult(t *testing.T, b []byte) bool {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad result %x", b)
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(b)
			return m > 0 && v == 1
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			t.Fatalf("bad result field %d", num)
		}
		b = b[m:]
	}
	return false
}

// Project Wycheproof's ECDSA vectors in IEEE P1363 form (the raw R||S of
// JWS ES256, ES384 and ES512) and RSASSA-PKCS1-v1_5 vectors (RS256, RS384,
// RS512) take the plugin's host path: an ECDSA signature converted to DER
// by jwt.ECDSASignatureToDER (which refuses the wrong size and r or s out
// of [1, n-1]), then verify_signature with the key's SubjectPublicKeyInfo,
// as Envoy is called. Each verifies exactly when Wycheproof says valid;
// "acceptable" RSA vectors (a DigestInfo without the NULL parameters) are
// refused, as by BoringSSL.
func TestVerifySignatureWycheproof(t *testing.T) {
	for file, hash := range map[string]string{
		"ecdsa_secp256r1_sha256_p1363_test.json": "sha256",
		"ecdsa_secp384r1_sha384_p1363_test.json": "sha384",
		"ecdsa_secp521r1_sha512_p1363_test.json": "sha512",
		"rsa_signature_2048_sha256_test.json":    "sha256",
		"rsa_signature_2048_sha384_test.json":    "sha384",
		"rsa_signature_2048_sha512_test.json":    "sha512",
	} {
		b, err := os.ReadFile("../../testdata/wycheproof/" + file)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			NumberOfTests int
			TestGroups    []struct {
				PublicKeyDer string
				Tests        []struct {
					TcID                      int `json:"tcId"`
					Comment, Result, Msg, Sig string
				}
			}
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		n := 0
		for gi, g := range f.TestGroups {
			spki, err := hex.DecodeString(g.PublicKeyDer)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := x509.ParsePKIXPublicKey(spki)
			if err != nil {
				t.Fatalf("%s group %d: key: %v", file, gi, err)
			}
			for _, tc := range g.Tests {
				n++
				msg, _ := hex.DecodeString(tc.Msg)
				sig, _ := hex.DecodeString(tc.Sig)
				ok := true
				if ec, isEC := pub.(*ecdsa.PublicKey); isEC {
					sig, err = jwt.ECDSASignatureToDER(ec, sig)
					ok = err == nil
				}
				if ok {
					res, st := VerifySignature(EncodeVerifySignatureArguments(hash, spki, "", sig, msg))
					if st != StatusOK {
						t.Fatalf("%s %d: status %v", file, tc.TcID, st)
					}
					ok = verifySignatureResult(t, res)
				}
				if ok != (tc.Result == "valid") {
					t.Errorf("%s %d (%s): Wycheproof says %s; verified = %v", file, tc.TcID, tc.Comment, tc.Result, ok)
				}
			}
		}
		if n == 0 || n != f.NumberOfTests {
			t.Fatalf("%s: %d vectors of %d", file, n, f.NumberOfTests)
		}
	}
}
