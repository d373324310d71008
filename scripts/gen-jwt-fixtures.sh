#!/usr/bin/env bash
# Regenerates the key fixtures of internal/jwt with openssl, an implementation
# independent of the Go code that signs test tokens (golang-jwt) and of the
# code that verifies them (internal/jwt). The output is committed, so tests
# need no tool. The private keys are test-only.
#
#   internal/jwt/testdata/keys/<name>.pem      private key (PKCS #8)
#   internal/jwt/testdata/keys/<name>.pub.pem  public key (SubjectPublicKeyInfo)
#   internal/jwt/testdata/keys/rsa2048.pkcs1.pub.pem  the same RSA public key in PKCS #1
#
# Keys are random, so every run writes different files.
set -euo pipefail
export LC_ALL=C.UTF-8

cd "$(dirname "$0")/.."
if ! command -v openssl >/dev/null; then
	echo "$0: openssl not found (apt-get install openssl)" >&2
	exit 1
fi
out=internal/jwt/testdata/keys
mkdir -p "$out"

gen() { # name, genpkey options...
	local name=$1
	shift
	openssl genpkey "$@" -out "$out/$name.pem" 2>/dev/null
	openssl pkey -in "$out/$name.pem" -pubout -out "$out/$name.pub.pem"
}

gen rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
gen rsa2048b -algorithm RSA -pkeyopt rsa_keygen_bits:2048
gen rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
gen ec256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
gen ec256b -algorithm EC -pkeyopt ec_paramgen_curve:P-256
gen ec384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
gen ec521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521
gen ed25519 -algorithm ED25519
openssl rsa -in "$out/rsa2048.pem" -RSAPublicKey_out -out "$out/rsa2048.pkcs1.pub.pem" 2>/dev/null
echo "wrote $(ls "$out" | wc -l) files to $out"
