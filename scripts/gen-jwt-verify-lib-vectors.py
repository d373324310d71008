#!/usr/bin/env python3
"""Writes testdata/jwt-verify-lib/vectors.json from a checkout of
google/jwt_verify_lib (the JWT library inside Envoy's jwt_authn filter).

Usage: scripts/gen-jwt-verify-lib-vectors.py <jwt_verify_lib checkout> [commit]

The keys and tokens are read from the library's tests (test/verify_*.cc)
unchanged; the table below names, for each of its test cases that a
configuration can express, the key set, the token, the status Envoy's
library expects ("envoy") and the outcome of this plugin ("ours": "valid" or
the failure name). Where the two differ, "divergence" says why.

For every case where the library accepts a token that this plugin refuses
only because it never tries several keys (a token without a kid, or with a
kid no key has, against a set of several keys that fit), the script adds a
variant with the set reduced to the one key that verifies the signature
(found here with Python's cryptography package): that variant must pass.
"""
import base64
import json
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def constants(path):
    """The string constants of a C++ file: R"(...)" and "..." literals."""
    src = open(path).read()
    out = {}
    for m in re.finditer(r"const\s+(?:std::string|char)\s+(\w+)(?:\[\])?\s*=\s*", src):
        i, val = m.end(), ""
        while True:
            while src[i] in " \t\r\n":
                i += 1
            if src.startswith("//", i):
                i = src.index("\n", i)
                continue
            if src.startswith('R"(', i):
                j = src.index(')"', i + 3)
                val += src[i + 3:j]
                i = j + 2
            elif src[i] == '"':
                j = i + 1
                while src[j] != '"':
                    j += 2 if src[j] == "\\" else 1
                val += bytes(src[i + 1:j], "utf-8").decode("unicode_escape")
                i = j + 1
            else:
                break
        out[m.group(1)] = val
    return out


def without(text, *members):
    """text with every occurrence of each member string removed, as the
    library's tests do to drop "alg" or "kid" from a key set."""
    for mem in members:
        text = text.replace(mem, "")
    return text


# Each case: (test name, file, key kind, key constant or text, token
# constant, envoy status, ours, divergence, extra provider settings).
EC, HMAC, OKP, RSA, PSS = ("verify_jwk_ec_test.cc", "verify_jwk_hmac_test.cc",
                           "verify_jwk_okp_test.cc", "verify_jwk_rsa_test.cc",
                           "verify_jwk_rsa_pss_test.cc")
PEM_EC, PEM_OKP, PEM_RSA, AUD = ("verify_pem_ec_test.cc", "verify_pem_okp_test.cc",
                                 "verify_pem_rsa_test.cc", "verify_audiences_test.cc")
X509, COMMON = "verify_x509_test.cc", "test_common.h"

NO_KID = ("the token has no kid and several keys of the set fit its algorithm: "
          "Envoy tries each of them, this plugin never tries every key")
KID_GONE = ("the token's kid names no key and several kid-less keys fit: Envoy "
            "tries each of them, this plugin never tries every key")
NO_ISS = "the token has no iss: this plugin requires an issuer it is configured with"
SECRET_NO_KID = ("the configured HMAC secret has no kid, so a token's kid is not "
                 "matched against it (Envoy reads the secret from a key set with kids)")
TOO_LARGE = "the token (11,356 bytes) is over the default max_token_bytes (8 KiB); Envoy has no such limit"
PADDED = ("the token's signature segment ends in base64 padding (==), which a JWS leaves out "
          "(RFC 7515 §2); Envoy's decoder accepts it, this plugin refuses it, so that a token has one spelling")


def cases(c):
    ec_no_alg = without(c[EC]["PublicKeyJwkEC"], '"alg": "ES256",')
    ec_no_kid = without(c[EC]["PublicKeyJwkEC"], '"kid": "abc",', '"kid": "xyz",')
    okp_no_alg = without(c[OKP]["PublicKeyJwkOKP"], '"alg": "EdDSA",')
    okp_no_kid = without(c[OKP]["PublicKeyJwkOKP"], '"kid": "abc",', '"kid": "xyz",')
    rsa_no_alg = without(c[RSA]["PublicKeyRSA"], '"alg": "RS256",')
    rsa_no_kid = without(c[RSA]["PublicKeyRSA"], '"kid": "62a93512c9ee4c7f8067b5a216dade2763d32a47",',
                         '"kid": "b3319a147514df7ee5e4bcdee51350cc890cc89e",')
    ec, okp, rsa_, pss = c[EC]["PublicKeyJwkEC"], c[OKP]["PublicKeyJwkOKP"], c[RSA]["PublicKeyRSA"], c[PSS]["PublicKeyRSAPSS"]
    jwtio = c[PSS]["JwtIoPublicKeyRSAPSS"]
    return [
        ("VerifyJwkECTest.KidOK", EC, "jwks", ec, "JwtTextEC", "Ok", "valid", "", {}),
        ("VerifyJwkECTest.KidES384OK", EC, "jwks", ec, "JwtES384Text", "Ok", "valid", "", {}),
        ("VerifyJwkECTest.KidES512OK", EC, "jwks", ec, "JwtES512Text", "Ok", "valid", "", {}),
        ("VerifyJwkECTest.NoKidOK", EC, "jwks", ec, "JwtTextECNoKid", "Ok", "no_key", NO_KID, {}),
        ("VerifyJwkECTest.NonExistKidFail", EC, "jwks", ec, "JwtTextWithNonExistKidEC", "JwksKidAlgMismatch", "unknown_kid", "", {}),
        ("VerifyJwkECTest.PubkeyNoAlgOK", EC, "jwks", ec_no_alg, "JwtES256Text", "Ok", "valid", "", {}),
        ("VerifyJwkECTest.PubkeyNoKidOK", EC, "jwks", ec_no_kid, "JwtES256Text", "Ok", "unknown_kid", KID_GONE, {}),
        ("VerifyJwkHmacTest.NoKidOK", HMAC, "hmac", "b3319a147514df7ee5e4bcdee51350cc890cc89e", "JwtTextNoKid", "Ok", "valid", "", {}),
        ("VerifyJwkHmacTest.NoKidLongExpOK", HMAC, "hmac", "b3319a147514df7ee5e4bcdee51350cc890cc89e", "JwtTextNoKidLongExp", "Ok", "valid", "", {}),
        ("VerifyJwkHmacTest.CorrectKidHS256OK", HMAC, "hmac", "b3319a147514df7ee5e4bcdee51350cc890cc89e", "JwtHS256TextWithCorrectKid", "Ok", "valid", "", {}),
        ("VerifyJwkHmacTest.CorrectKidHS384OK", HMAC, "hmac", "cda01077a6aa4b0088a6e959044977ef9e51c28b", "JwtHS384TextWithCorrectKid", "Ok", "valid", "", {}),
        ("VerifyJwkHmacTest.CorrectKidHS512OK", HMAC, "hmac", "f6a7bd9ffd784388924f126280a746964ba61268", "JwtHS512TextWithCorrectKid", "Ok", "valid", "", {}),
        ("VerifyJwkHmacTest.NonExistKidFail", HMAC, "hmac", "b3319a147514df7ee5e4bcdee51350cc890cc89e", "JwtTextWithNonExistKid", "JwksKidAlgMismatch", "valid", SECRET_NO_KID, {}),
        ("VerifyJwkHmacTest (the HS256 token under the other HS256 secret)", HMAC, "hmac", "62a93512c9ee4c7f8067b5a216dade2763d32a47", "JwtHS256TextWithCorrectKid", "JwtVerificationFail", "bad_signature", "", {}),
        ("VerifyJwkOKPTest.KidOK", OKP, "jwks", okp, "JwtJWKEd25519", "Ok", "valid", "", {}),
        ("VerifyJwkOKPTest.NoKidOK", OKP, "jwks", okp, "JwtJWKEd25519NoKid", "Ok", "no_key", NO_KID, {}),
        ("VerifyJwkOKPTest.NonExistKidFail", OKP, "jwks", okp, "JwtJWKEd25519NonExistKid", "JwksKidAlgMismatch", "unknown_kid", "", {}),
        ("VerifyJwkOKPTest.PubkeyNoAlgOK", OKP, "jwks", okp_no_alg, "JwtJWKEd25519", "Ok", "valid", "", {}),
        ("VerifyJwkOKPTest.PubkeyNoKidOK", OKP, "jwks", okp_no_kid, "JwtJWKEd25519", "Ok", "unknown_kid", KID_GONE, {}),
        ("VerifyJwkOKPTest.WrongSignatureFail", OKP, "jwks", okp, "JwtJWKEd25519WrongSignature", "JwtVerificationFail", "bad_signature", "", {}),
        ("VerifyJwkRsaPssTest.Ps256CorrectKidOK", PSS, "jwks", pss, "Ps256JwtTextWithCorrectKid", "Ok", "valid", "", {}),
        ("VerifyJwkRsaPssTest.Ps384CorrectKidOK", PSS, "jwks", pss, "Ps384JwtTextWithCorrectKid", "Ok", "valid", "", {}),
        ("VerifyJwkRsaPssTest.Ps512CorrectKidOK", PSS, "jwks", pss, "Ps512JwtTextWithCorrectKid", "Ok", "valid", "", {}),
        ("VerifyKidMatchingTest.JwtTextWithNoKidNoMatchingKey", PSS, "jwks", pss, "JwtTextWithNoKid", "JwtVerificationFail", "bad_signature", "", {}),
        ("VerifyKidMatchingTest.JwtTextWithNoKidOk", PSS, "jwks", jwtio, "JwtTextWithNoKid", "Ok", "bad_issuer", NO_ISS, {}),
        ("VerifyKidMatchingTest.JwtTextWithNonExistentKid", PSS, "jwks", jwtio, "JwtTextWithNonExistentKid", "JwksKidAlgMismatch", "unknown_kid", "", {}),
        ("VerifyJwkRsaTest.NoKidOK", RSA, "jwks", rsa_, "JwtTextNoKid", "Ok", "no_key", NO_KID, {}),
        ("VerifyJwkRsaTest.NoKidLongExpOK", RSA, "jwks", rsa_, "JwtTextNoKidLongExp", "Ok", "no_key", NO_KID, {}),
        ("VerifyJwkRsaTest.CorrectKidOK", RSA, "jwks", rsa_, "JwtTextWithCorrectKid", "Ok", "valid", "", {}),
        ("VerifyJwkRsaTest.NonExistKidFail", RSA, "jwks", rsa_, "JwtTextWithNonExistKid", "JwksKidAlgMismatch", "unknown_kid", "", {}),
        ("VerifyJwkRsaTest.OkPublicKeyNotAlg", RSA, "jwks", rsa_no_alg, "JwtTextNoKid", "Ok", "no_key", NO_KID, {}),
        ("VerifyJwkRsaTest.OkPublicKeyNotKid", RSA, "jwks", rsa_no_kid, "JwtTextNoKid", "Ok", "no_key", NO_KID, {}),
        ("VerifyJwkRsaTest.LongClaimsWithCorrectKidOk", RSA, "jwks", rsa_, "JwtTextWithLongClaimsCorrectKid", "Ok", "valid", "", {"max_token_bytes": 16384}),
        ("VerifyJwkRsaTest.LongClaimsWithCorrectKidOk (default size limit)", RSA, "jwks", rsa_, "JwtTextWithLongClaimsCorrectKid", "Ok", "token_too_large", TOO_LARGE, {}),
        ("VerifyPKCSTestRs256.OKPem (verify_pem_rsa_test)", PEM_RSA, "pem", c[PEM_RSA]["pubkey"], "JwtPemRs256", "Ok", "valid", "", {}),
        ("VerifyPKCSTestRs384.OKPem", PEM_RSA, "pem", c[PEM_RSA]["pubkey"], "JwtPemRs384", "Ok", "valid", "", {}),
        ("VerifyPKCSTestRs512.OKPem", PEM_RSA, "pem", c[PEM_RSA]["pubkey"], "JwtPemRs512", "Ok", "valid", "", {}),
        ("VerifyPKCSTestRs256.OKPem (verify_pem_ec_test, ES256)", PEM_EC, "pem", c[PEM_EC]["es256pubkey"], "JwtPemEs256", "Ok", "valid", "", {}),
        ("VerifyPKCSTestES384.OKPem", PEM_EC, "pem", c[PEM_EC]["es384pubkey"], "JwtPemEs384", "Ok", "valid", "", {}),
        ("VerifyPKCSTestES512.OKPem", PEM_EC, "pem", c[PEM_EC]["es512pubkey"], "JwtPemEs512", "Ok", "valid", "", {}),
        ("VerifyPKCSTestRs256.jwksAlgUnspecifiedDoesNotMatchJwtFail", PEM_EC, "pem", c[PEM_EC]["es384pubkey"], "JwtPemEs256", "JwtVerificationFail", "no_key", "", {}),
        ("VerifyPEMTestOKP.VerifyOK", PEM_OKP, "pem", c[PEM_OKP]["ed25519pubkey"], "JwtPemEd25519", "Ok", "valid", "", {}),
        ("VerifyPEMTestOKP.WrongSignatureFail", PEM_OKP, "pem", c[PEM_OKP]["ed25519pubkey"], "JwtPemEd25519WrongSignature", "JwtVerificationFail", "bad_signature", "", {}),
        ("VerifyAudTest.MissingAudience", AUD, "jwks", c[AUD]["PublicKeyRSA"], "JwtOneAudtext", "JwtAudienceNotAllowed", "bad_audience", "", {"audiences": ["aud2", "aud3"]}),
        ("VerifyAudTest.Success", AUD, "jwks", c[AUD]["PublicKeyRSA"], "JwtOneAudtext", "Ok", "valid", "", {"audiences": ["aud1", "aud3"]}),
        ("VerifyAudTest.Success (no audience list)", AUD, "jwks", c[AUD]["PublicKeyRSA"], "JwtOneAudtext", "Ok", "valid", "", {}),
        # Google's map of kid to X.509 certificate (test_common.h).
        ("VerifyX509Test.RealToken", X509, "jwks", c[COMMON]["kRealX509Jwks"], "kRealToken", "Ok", "valid", "", {}),
        ("VerifyX509Test.NoKidToken", X509, "jwks", c[COMMON]["kPublicKeyX509"], "kTokenNoKid", "Ok", "malformed", PADDED, {}),
    ]


def hmac_keys(c):
    text = re.sub(r",(\s*[\]}])", r"\1", c[HMAC]["SymmetricKeyHMAC"])  # the test's set has a trailing comma
    return {k["kid"]: k["k"] for k in json.loads(text)["keys"]}


def public_key(jwk):
    kty = jwk["kty"]
    if kty == "RSA":
        return rsa.RSAPublicNumbers(int.from_bytes(b64d(jwk["e"]), "big"), int.from_bytes(b64d(jwk["n"]), "big")).public_key()
    if kty == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[jwk["crv"]]
        return ec.EllipticCurvePublicNumbers(int.from_bytes(b64d(jwk["x"]), "big"), int.from_bytes(b64d(jwk["y"]), "big"), curve).public_key()
    return ed25519.Ed25519PublicKey.from_public_bytes(b64d(jwk["x"]))


def digest_of(alg):
    """The hash of a JWS algorithm (RS256, PS384, ES512, HS256, ...)."""
    return {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}.get(alg[2:])


def verifies(jwk, token):
    h, p, s = token.split(".")
    alg, data, sig = json.loads(b64d(h))["alg"], (h + "." + p).encode(), b64d(s)
    key = public_key(jwk)
    digest = digest_of(alg)
    try:
        if alg.startswith("RS"):
            key.verify(sig, data, padding.PKCS1v15(), digest)
        elif alg.startswith("PS"):
            key.verify(sig, data, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
        elif alg.startswith("ES"):
            n = len(sig) // 2
            der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
            key.verify(der, data, ec.ECDSA(digest))
        else:
            key.verify(sig, data)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def main():
    repo = sys.argv[1]
    commit = sys.argv[2] if len(sys.argv) > 2 else ""
    c = {f: constants(os.path.join(repo, "test", f)) for f in (EC, HMAC, OKP, RSA, PSS, PEM_EC, PEM_OKP, PEM_RSA, AUD, X509, COMMON)}
    secrets = hmac_keys(c)
    vectors = []
    for name, f, kind, key, tok, envoy, ours, why, extra in cases(c):
        token = c[f][tok]
        v = {"test": name, "file": "test/" + f, "token_name": tok, "token": token, "envoy": envoy, "ours": ours}
        if why:
            v["divergence"] = why
        if kind == "jwks":
            v["jwks"] = json.loads(key)
        elif kind == "pem":
            v["pem"] = key
        else:
            v["hmac_secret"] = secrets[key]  # base64url, as the key set's "k"
            v["hmac_kid"] = key
            # The secret is the one the library's test matches.
            h, p, s = token.split(".")
            alg = json.loads(b64d(h))["alg"]
            m = hmac.HMAC(b64d(secrets[key]), digest_of(alg))
            m.update((h + "." + p).encode())
            assert (m.finalize() == b64d(s)) == (ours != "bad_signature"), name
        v.update(extra)
        vectors.append(v)
        if envoy == "Ok" and ours in ("no_key", "unknown_kid"):
            fits = [k for k in v["jwks"]["keys"] if verifies(k, token)]
            assert len(fits) >= 1, name
            one = dict(v, test=name + " (the set reduced to the key that verifies)", jwks={"keys": [fits[0]]}, ours="valid")
            one.pop("divergence")
            vectors.append(one)
    doc = {
        "source": "https://github.com/google/jwt_verify_lib",
        "commit": commit,
        "license": "Apache-2.0",
        "note": "Keys and tokens from the library's tests, unchanged; see README.md.",
        "vectors": vectors,
    }
    out = os.path.join(ROOT, "testdata", "jwt-verify-lib", "vectors.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"{len(vectors)} vectors written to {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    main()
