//go:build wasip1

package filter

import (
	"crypto/ecdsa"
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/abi"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
	"google.golang.org/protobuf/encoding/protowire"
)

// hostVerifier checks RS* and ES* signatures with Envoy's verify_signature
// foreign function (BoringSSL; source/extensions/common/wasm/foreign.cc),
// far faster than Go's crypto compiled to Wasm. Envoy's verifySignature
// (source/common/crypto/utility_impl.cc) hashes the text with the named
// digest and calls EVP_DigestVerify with BoringSSL's defaults: PKCS #1 v1.5
// for RSA keys and DER ECDSA-Sig-Value for EC keys. PS* (PSS) and EdDSA are
// left to Wasm. One per VM.
type hostVerifier struct {
	absent bool // the host has no verify_signature: stop asking
}

// newHostVerifier returns the verifier for a root being configured. It
// asks for foreign functions only on a host that answers the property
// plugin_root_id, one of the tokens of Envoy's Wasm context: Envoy answers a
// call to a foreign function it lacks (verify_signature came with Envoy
// 1.22) with NotFound, and the verifier then stops asking, but other hosts
// need not be so kind (the Go SDK's emulator, proxytest, ends the process).
// Elsewhere every signature is checked in Wasm.
func newHostVerifier() *hostVerifier {
	_, err := abi.GetProperty("plugin_root_id")
	return &hostVerifier{absent: err != nil}
}

// Verify implements jwt.SignatureVerifier.
func (h *hostVerifier) Verify(alg string, key *jwt.Key, signingInput, sig []byte) (handled, ok bool) {
	if h.absent || len(key.SPKI()) == 0 {
		return false, false
	}
	var hash string
	switch alg {
	case "RS256", "ES256":
		hash = "sha256"
	case "RS384", "ES384":
		hash = "sha384"
	case "RS512", "ES512":
		hash = "sha512"
	default:
		return false, false
	}
	if alg[0] == 'E' {
		pub, isEC := key.Public.(*ecdsa.PublicKey)
		if !isEC {
			return false, false
		}
		der, err := jwt.ECDSASignatureToDER(pub, sig)
		if err != nil {
			return true, false
		}
		sig = der
	}
	// VerifySignatureArguments (ext/verify_signature.proto).
	args := protowire.AppendTag(nil, 1, protowire.BytesType)
	args = protowire.AppendString(args, hash)
	args = protowire.AppendTag(args, 2, protowire.BytesType)
	args = protowire.AppendBytes(args, key.SPKI())
	args = protowire.AppendTag(args, 3, protowire.BytesType)
	args = protowire.AppendBytes(args, sig)
	args = protowire.AppendTag(args, 4, protowire.BytesType)
	args = protowire.AppendBytes(args, signingInput)
	res, err := abi.CallForeignFunction("verify_signature", args)
	if err != nil {
		if abi.IsStatus(err, abi.StatusNotFound) {
			h.absent = true
		}
		return false, false
	}
	result, msg, okParse := decodeVerifyResult(res)
	switch {
	case !okParse:
		return false, false
	case result:
		return true, true
	case strings.HasPrefix(msg, "Failed to verify digest"):
		return true, false // the host checked it: invalid, never retried
	}
	// The host could not check it ("... is not supported.", a key it could
	// not import): verify in Wasm.
	return false, false
}

// decodeVerifyResult parses VerifySignatureResult {bool result = 1; string
// error = 2;}.
func decodeVerifyResult(b []byte) (result bool, msg string, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false, "", false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return false, "", false
			}
			result, b = v != 0, b[m:]
		case num == 2 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return false, "", false
			}
			msg, b = string(v), b[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return false, "", false
			}
			b = b[m:]
		}
	}
	return result, msg, true
}
