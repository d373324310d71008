#!/usr/bin/env python3
"""Writes testdata/jwt/python-cryptography.json: keys and JWS tokens made by
Python's `cryptography` package (OpenSSL underneath), an implementation
independent of Go's crypto, for every algorithm the JWT provider accepts.

The JWS compact form is assembled here (RFC 7515 §7.1); the signatures are
cryptography's: RSASSA-PKCS1-v1_5, RSASSA-PSS with MGF1 and a salt as long
as the hash (RFC 7518 §3.5), ECDSA converted from DER to the fixed-width
R || S of RFC 7518 §3.4, Ed25519 (RFC 8037), and HMAC from Python's hmac.
For each ECDSA curve there are tokens whose R, and whose S, has a leading
zero byte, which the fixed width must keep. Invalid tokens carry the reason
they must be refused. Keys and signatures are random: every run writes a
different file.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

import cryptography
from cryptography.hazmat.backends import openssl as _openssl_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n, size):
    return n.to_bytes(size, "big")


HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
HMAC_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
CURVES = {"ES256": (ec.SECP256R1(), "P-256", 32), "ES384": (ec.SECP384R1(), "P-384", 48), "ES512": (ec.SECP521R1(), "P-521", 66)}

# HS* tokens have their own issuer: one issuer is never verified both with
# a shared secret and with public keys.
ISSUER, HMAC_ISSUER, AUDIENCE = "https://py.test", "https://hs.py.test", "api"


# iat is in 2020: the Go SDK's host emulator runs the module on wazero's
# fake clock, which starts on 2022-01-01.
def claims(i, alg):
    return {"iss": HMAC_ISSUER if alg.startswith("HS") else ISSUER, "aud": [AUDIENCE, "other"] if i % 2 else AUDIENCE, "sub": "py-user-%d" % i,
            "iat": 1600000000, "exp": 4102444800, "groups": ["x", "y"], "name": "Zoë \"Z\" 山田"}


def signing_input(header, payload):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return (h + "." + p).encode()


rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_keys = {alg: ec.generate_private_key(c[0]) for alg, c in CURVES.items()}
ed_key = ed25519.Ed25519PrivateKey.generate()
secret = os.urandom(64)
other_secret = os.urandom(64)

pub = rsa_key.public_key().public_numbers()
jwks = {"keys": [{"kty": "RSA", "kid": "rsa", "n": b64u(uint(pub.n, 256)), "e": b64u(uint(pub.e, 3))}]}
for alg, (curve, crv, size) in CURVES.items():
    nums = ec_keys[alg].public_key().public_numbers()
    jwks["keys"].append({"kty": "EC", "kid": alg.lower(), "crv": crv, "x": b64u(uint(nums.x, size)), "y": b64u(uint(nums.y, size))})
raw_ed = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
jwks["keys"].append({"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64u(raw_ed)})


def sign(alg, data, key=None):
    family, bits = alg[:2], alg[2:]
    if family == "RS":
        return (key or rsa_key).sign(data, padding.PKCS1v15(), HASHES[bits]())
    if family == "PS":
        h = HASHES[bits]()
        return (key or rsa_key).sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if family == "ES":
        size = CURVES[alg][2]
        r, s = decode_dss_signature(ec_keys[alg].sign(data, ec.ECDSA(HASHES[bits]())))
        return uint(r, size) + uint(s, size)
    if family == "Ed":
        return ed_key.sign(data)
    if family == "HS":
        return hmac.new(key or secret, data, HMAC_HASHES[bits]).digest()
    raise ValueError(alg)


def kid(alg):
    return {"RS": "rsa", "PS": "rsa", "ES": alg.lower(), "Ed": "ed"}.get(alg[:2])


def header(alg):
    h = {"alg": alg, "typ": "JWT"}
    if kid(alg):
        h["kid"] = kid(alg)
    return h


def token(alg, i, sig_of=None):
    data = signing_input(header(alg), claims(i, alg))
    sig = sig_of(data) if sig_of else sign(alg, data)
    return data.decode() + "." + b64u(sig)


valid, invalid = [], []
algs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"]
for alg in algs:
    for i in range(3):
        valid.append({"alg": alg, "sub": "py-user-%d" % i, "token": token(alg, i), "note": ""})

# ECDSA signatures whose R or S has a leading zero byte.
for alg, (curve, crv, size) in CURVES.items():
    for which in ("R", "S"):
        i = 10
        while True:
            i += 1
            data = signing_input(header(alg), claims(i, alg))
            sig = sign(alg, data)
            part = sig[:size] if which == "R" else sig[size:]
            if part[0] == 0:
                valid.append({"alg": alg, "sub": "py-user-%d" % i, "token": data.decode() + "." + b64u(sig),
                              "note": "%s has a leading zero byte" % which})
                break

# Tokens that must be refused.
def bad(alg, why, sig_of):
    invalid.append({"alg": alg, "token": token(alg, 0, sig_of), "why": why})

bad("RS256", "signed by another RSA key", lambda d: sign("RS256", d, other_rsa))
bad("RS256", "signed with SHA-384", lambda d: sign("RS384", d))
bad("PS256", "PSS with a salt of 0 bytes (RFC 7518 §3.5 wants the hash length)",
    lambda d: rsa_key.sign(d, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=0), hashes.SHA256()))
bad("PS256", "PKCS#1 v1.5 signature under PS256", lambda d: sign("RS256", d))
bad("RS256", "PSS signature under RS256", lambda d: sign("PS256", d))
bad("ES256", "DER-encoded ECDSA signature", lambda d: ec_keys["ES256"].sign(d, ec.ECDSA(hashes.SHA256())))
bad("ES256", "R || S with a zero byte in front (65 bytes)", lambda d: b"\x00" + sign("ES256", d))
bad("ES384", "signed with SHA-256 on P-384", lambda d: (lambda rs: uint(rs[0], 48) + uint(rs[1], 48))(
    decode_dss_signature(ec_keys["ES384"].sign(d, ec.ECDSA(hashes.SHA256())))))
bad("EdDSA", "signature over another message", lambda d: ed_key.sign(d + b"x"))
bad("HS256", "HMAC under another secret", lambda d: sign("HS256", d, other_secret))
bad("HS256", "HMAC truncated to 16 bytes", lambda d: sign("HS256", d)[:16])
bad("HS384", "HMAC-SHA-256 under HS384", lambda d: sign("HS256", d))

out = {
    "generator": "scripts/gen-jwt-python-tokens.py with Python %s, cryptography %s (%s)" % (
        sys.version.split()[0], cryptography.__version__, _openssl_backend.backend.openssl_version_text()),
    "issuer": ISSUER, "hmac_issuer": HMAC_ISSUER, "audience": AUDIENCE,
    "jwks": jwks, "hmac_secret": base64.b64encode(secret).decode(),
    "valid": valid, "invalid": invalid,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "jwt", "python-cryptography.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote %d valid and %d invalid tokens to %s" % (len(valid), len(invalid), os.path.normpath(path)))
