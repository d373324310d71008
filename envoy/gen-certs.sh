#!/bin/sh
# Writes demo certificates for envoy/envoy-mtls.yaml into a directory
# (default envoy/certs, which git ignores):
#   ca.crt                      the CA Envoy trusts for client certificates
#   server.crt/.key             Envoy's certificate: localhost, 127.0.0.1, envoy-mtls
#   client-alice.crt/.key       a client signed by ca.crt: CN=alice, OU=staff, a SPIFFE
#                               URI SAN and a DNS SAN
#   client-partner.crt/.key     a client signed by ca.crt with a DNS SAN only
#   client-legacy.crt/.key      a client signed by ca.crt with no SAN: known by its subject
#   client-stranger.crt/.key    a client signed by ca.crt whose SPIFFE ID no rule admits
#   rogue-ca.crt, client-rogue.crt/.key   a client from another CA, which Envoy must refuse
# The mtls provider of envoy/envoy-mtls.yaml matches these names; the tests
# in envoy/ run this script and rely on them.
# Keys are P-256 and world-readable so that the Envoy container's user can
# read them: they are for the local stack only.
set -eu
dir=${1:-envoy/certs}
days=${DAYS:-30}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 0644 "$1"; }

ca() { # name subject
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -subj "$2" -days "$days" -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$1.crt"
}

leaf() { # name subject ca extendedKeyUsage subjectAltName (may be empty)
	key "$1.key"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$4" >"$1.ext"
	if [ -n "$5" ]; then printf 'subjectAltName=%s\n' "$5" >>"$1.ext"; fi
	openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days "$days" -sha256 \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

ca ca "/O=wasm-authn demo/CN=wasm-authn demo CA"
leaf server "/O=wasm-authn demo/CN=localhost" ca serverAuth "DNS:localhost,DNS:envoy-mtls,IP:127.0.0.1"
leaf client-alice "/O=wasm-authn demo/OU=staff/CN=alice" ca clientAuth "URI:spiffe://example.org/ns/demo/sa/alice,DNS:alice.example.org"
leaf client-partner "/O=Partner A/CN=gw.partners.example.org" ca clientAuth "DNS:gw.partners.example.org"
leaf client-legacy "/O=wasm-authn demo/OU=ops/CN=legacy-batch" ca clientAuth ""
leaf client-stranger "/O=wasm-authn demo/CN=stranger" ca clientAuth "URI:spiffe://example.org/ns/sandbox/sa/stranger"
ca rogue-ca "/O=someone else/CN=rogue CA"
leaf client-rogue "/O=someone else/CN=mallory" rogue-ca clientAuth "DNS:mallory.example.org"
rm -f ./*.srl
echo "wrote demo certificates to $dir"
