#!/usr/bin/env bash
# Regenerates the X.509 test certificates of internal/mtls under
# testdata/certs/: internal/certgen (Go crypto/x509) writes the CAs, client
# certificates and keys, then openssl describes every certificate
# independently of the Go code under test, in testdata/certs/expected.tsv:
#
#   name <TAB> sha256 hex <TAB> x5t#S256 <TAB> subject <TAB> issuer
#
#   sha256 hex  lower-case hex of the SHA-256 of the DER certificate, the
#               form of Envoy's connection.sha256_peer_certificate_digest
#   x5t#S256    base64url without padding of the same digest (RFC 8705 §3.1)
#   subject     openssl x509 -nameopt RFC2253: the same XN_FLAG_RFC2253
#   issuer      formatting Envoy applies (BoringSSL X509_NAME_print_ex) for
#               connection.subject_peer_certificate and the XFCC Subject
#
# Keys are fresh on every run, so every run writes different files. The
# output is committed; tests need neither Go's generator nor openssl.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
out=testdata/certs

if ! command -v openssl >/dev/null; then
	echo "$0: openssl not found (apt-get install openssl)" >&2
	exit 1
fi

rm -f "$out"/*.pem "$out"/expected.tsv
go run ./internal/certgen -out "$out"

tsv=$out/expected.tsv
: >"$tsv"
for f in "$out"/*.pem; do
	case $f in *-key.pem) continue ;; esac
	name=$(basename "$f" .pem)
	sha=$(openssl x509 -in "$f" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
	x5t=$(openssl x509 -in "$f" -outform DER | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
	subject=$(openssl x509 -in "$f" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	issuer=$(openssl x509 -in "$f" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$sha" "$x5t" "$subject" "$issuer" >>"$tsv"
done
echo "wrote $(wc -l <"$tsv") certificates to $out"
