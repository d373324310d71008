package host

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"strings"
	"unicode/utf8"

	// Register the hash implementations crypto.Hash.New needs.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"google.golang.org/protobuf/encoding/protowire"
)

// VerifySignature is Envoy's "verify_signature" foreign function
// (source/extensions/common/wasm/foreign.cc), for Config.ForeignFunctions. What Envoy does:
//
// Argument: the protobuf message envoy.source.extensions.common.wasm.VerifySignatureArguments
// (ext/verify_signature.proto):
//
//	string hash_function  = 1; // "sha1", "sha224", "sha256", "sha384" or "sha512", any case
//	bytes  public_key     = 2; // DER SubjectPublicKeyInfo
//	string public_key_pem = 5; // PEM "PUBLIC KEY" (SubjectPublicKeyInfo)
//	bytes  signature      = 3;
//	bytes  text           = 4; // the signed data; the host hashes it
//
// The function returns BadArgument when the argument does not parse, or when both or neither
// of public_key and public_key_pem are set. Otherwise it returns Ok with the result message
// VerifySignatureResult { bool result = 1; string error = 2; } (proto3: default fields are
// omitted, so success is the two bytes 08 01).
//
// Verification is Crypto::UtilityImpl::verifySignature (source/common/crypto/utility_impl.cc):
// EVP_DigestVerifyInit with the named digest and EVP_DigestVerify over text. An unknown hash
// gives result false with error "<hash_function> is not supported."; a key that did not import
// (PEM_read_bio_PUBKEY / EVP_parse_public_key returned null) gives "Failed to initialize digest
// verify."; a signature that does not verify gives "Failed to verify digest. Error code: 0".
// BoringSSL's defaults apply: RSA keys verify PKCS #1 v1.5 signatures, ECDSA keys (P-224, P-256,
// P-384, P-521) verify DER-encoded ECDSA-Sig-Value signatures. EVP_parse_public_key does not
// require the DER input to end after the SubjectPublicKeyInfo, and PEM_read_bio_PUBKEY takes the
// first "PUBLIC KEY" block, skipping anything before it.
//
// UNCONFIRMED here: Ed25519 keys (BoringSSL ignores the digest for them and verifies the message
// itself; modelled so); DSA and other key types (treated as not importable).
func VerifySignature(args []byte) ([]byte, Status) {
	a, err := decodeVerifySignatureArguments(args)
	if err != nil {
		return nil, StatusBadArgument
	}
	hasPEM, hasDER := a.publicKeyPEM != "", len(a.publicKey) > 0
	if hasPEM == hasDER {
		return nil, StatusBadArgument
	}
	var key crypto.PublicKey
	if hasPEM {
		key = importPublicKeyPEM(a.publicKeyPEM)
	} else {
		key = importPublicKeyDER(a.publicKey)
	}
	ok, msg := verifyWithKey(a.hashFunction, key, a.signature, a.text)
	return EncodeVerifySignatureResult(ok, msg), StatusOK
}

type verifySignatureArguments struct {
	hashFunction, publicKeyPEM string
	publicKey, signature, text []byte
}

func decodeVerifySignatureArguments(b []byte) (verifySignatureArguments, error) {
	var a verifySignatureArguments
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return a, protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.BytesType && num >= 1 && num <= 5 {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return a, protowire.ParseError(n)
			}
			b = b[n:]
			switch num {
			case 1:
				if !utf8.Valid(v) { // proto3 string fields must be UTF-8
					return a, errors.New("hash_function is not UTF-8")
				}
				a.hashFunction = string(v)
			case 2:
				a.publicKey = append([]byte(nil), v...)
			case 3:
				a.signature = append([]byte(nil), v...)
			case 4:
				a.text = append([]byte(nil), v...)
			case 5:
				if !utf8.Valid(v) {
					return a, errors.New("public_key_pem is not UTF-8")
				}
				a.publicKeyPEM = string(v)
			}
			continue
		}
		// Unknown fields, and known field numbers with another wire type, are skipped.
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return a, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return a, nil
}

// EncodeVerifySignatureArguments builds a VerifySignatureArguments message; set either derKey or
// pemKey.
func EncodeVerifySignatureArguments(hashFunction string, derKey []byte, pemKey string, signature, text []byte) []byte {
	var b []byte
	if hashFunction != "" {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, hashFunction)
	}
	if len(derKey) > 0 {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, derKey)
	}
	if len(signature) > 0 {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, signature)
	}
	if len(text) > 0 {
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, text)
	}
	if pemKey != "" {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendString(b, pemKey)
	}
	return b
}

// EncodeVerifySignatureResult builds a VerifySignatureResult message.
func EncodeVerifySignatureResult(ok bool, errMsg string) []byte {
	var b []byte
	if ok {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
	}
	if errMsg != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, errMsg)
	}
	return b
}

// DecodeVerifySignatureResult parses a VerifySignatureResult message.
func DecodeVerifySignatureResult(b []byte) (ok bool, errMsg string, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false, "", protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false, "", protowire.ParseError(n)
			}
			ok, b = v != 0, b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false, "", protowire.ParseError(n)
			}
			errMsg, b = string(v), b[n:]
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return false, "", protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return ok, errMsg, nil
}

// importPublicKeyPEM is PEM_read_bio_PUBKEY: the first "PUBLIC KEY" block, nil if none parses.
func importPublicKeyPEM(s string) crypto.PublicKey {
	rest := []byte(s)
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil
		}
		if blk.Type == "PUBLIC KEY" {
			k, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				return nil
			}
			return k
		}
	}
}

// importPublicKeyDER is EVP_parse_public_key: one SubjectPublicKeyInfo; bytes after it are
// ignored.
func importPublicKeyDER(der []byte) crypto.PublicKey {
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(der, &raw)
	if err != nil {
		return nil
	}
	k, err := x509.ParsePKIXPublicKey(der[:len(der)-len(rest)])
	if err != nil {
		return nil
	}
	return k
}

func hashByName(name string) (crypto.Hash, bool) {
	switch strings.ToLower(name) {
	case "sha1":
		return crypto.SHA1, true
	case "sha224":
		return crypto.SHA224, true
	case "sha256":
		return crypto.SHA256, true
	case "sha384":
		return crypto.SHA384, true
	case "sha512":
		return crypto.SHA512, true
	}
	return 0, false
}

func verifyWithKey(hashName string, key crypto.PublicKey, sig, text []byte) (bool, string) {
	h, ok := hashByName(hashName)
	if !ok {
		return false, hashName + " is not supported."
	}
	const initFailed = "Failed to initialize digest verify."
	const verifyFailed = "Failed to verify digest. Error code: 0"
	digest := func() []byte {
		hh := h.New()
		hh.Write(text)
		return hh.Sum(nil)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, h, digest(), sig) != nil {
			return false, verifyFailed
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest(), sig) {
			return false, verifyFailed
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(k, text, sig) {
			return false, verifyFailed
		}
	default:
		return false, initFailed
	}
	return true, ""
}
