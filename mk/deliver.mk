# Delivery to real proxies: OCI images, the local Envoy stack and its
# end-to-end run. Included by the top-level Makefile; docs/deploy.md is the
# guide. Every target here works without a Docker engine except up, down
# and e2e-envoy (which skips, with a message, when there is none).

GO            ?= go
WASM          ?= build/wasm-authn.wasm
OCI_DIR       ?= dist/oci
ROOT_ID       ?= wasm-authn
# Version tag and annotation of the images; a Git tag when there is one.
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Image creation time: the last commit's, so that a commit always gives
# the same digests.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
OCI_TOOL      ?= $(GO) run ./cmd/wasm-authn-oci
COMPOSE       ?= docker compose -f envoy/docker-compose.yaml
CERTS_DIR     ?= envoy/certs
ENVOY_URL     ?= http://127.0.0.1:10000
ENVOY_MTLS_URL ?= https://127.0.0.1:10443

.PHONY: image push verify-image up down certs e2e-envoy wasm-imports

## image: OCI image layouts of $(WASM) in $(OCI_DIR)/compat and $(OCI_DIR)/artifact
image: build
	$(OCI_TOOL) build -wasm $(WASM) -out $(OCI_DIR) -root-id $(ROOT_ID) \
		-version $(VERSION) -revision "$$(git rev-parse HEAD 2>/dev/null)" -created $(SOURCE_DATE_EPOCH)

## push: push both images: make push REGISTRY=host/repo[:tag] (tag defaults to VERSION)
ifneq ($(filter push,$(MAKECMDGOALS)),)
ifeq ($(REGISTRY),)
$(error usage: make push REGISTRY=host/repo[:tag]  (tag defaults to VERSION=$(VERSION); the artifact variant goes to <tag>-artifact))
endif
endif
push: image
	$(OCI_TOOL) push -layout $(OCI_DIR) -ref $(REGISTRY) -default-tag $(VERSION) $(if $(INSECURE),-insecure)

## verify-image: pull REF like the istio-agent and compare with $(WASM): make verify-image REF=host/repo:tag
ifneq ($(filter verify-image,$(MAKECMDGOALS)),)
ifeq ($(REF),)
$(error usage: make verify-image REF=host/repo:tag)
endif
endif
verify-image: build
	$(OCI_TOOL) verify -ref $(REF) -wasm $(WASM) $(if $(INSECURE),-insecure)

## wasm-imports: list the host imports of $(WASM) (every one must exist in the proxy)
wasm-imports: build
	@command -v wasm-objdump >/dev/null || { echo "wasm-imports: needs wasm-objdump (Debian: apt-get install wabt)" >&2; exit 1; }
	wasm-objdump -x -j Import $(WASM)

## certs: demo CA, server and client certificates for envoy/envoy-mtls.yaml
certs: $(CERTS_DIR)/ca.crt

$(CERTS_DIR)/ca.crt: envoy/gen-certs.sh
	sh envoy/gen-certs.sh $(CERTS_DIR)

## up: Envoy with $(WASM), the echo upstream and the IdP (COMPOSE_PROFILES=mtls adds the mTLS Envoy)
up: build certs
	$(COMPOSE) up -d --wait
	@echo "Envoy on $(ENVOY_URL) (admin http://127.0.0.1:9901); try: curl -i -H 'Host: api.example.com' -H 'x-api-key: demo-partner-a-key' $(ENVOY_URL)/api/hello"

## down: stop the stack, whatever profiles were started
down:
	$(COMPOSE) --profile mtls down --remove-orphans

## e2e-envoy: start the whole stack, run envoy/e2e_test.go against it, stop it
e2e-envoy:
	@if ! docker info >/dev/null 2>&1; then \
		echo "e2e-envoy: SKIPPED: no Docker engine ('docker info' failed). It runs Envoy from envoy/docker-compose.yaml and needs Docker with the compose plugin."; \
		exit 0; fi; \
	$(MAKE) --no-print-directory build certs || exit 1; \
	status=0; \
	COMPOSE_PROFILES=mtls $(COMPOSE) up -d --wait || status=1; \
	if [ $$status -eq 0 ]; then \
		WASM_AUTHN_ENVOY_URL=$(ENVOY_URL) WASM_AUTHN_ENVOY_MTLS_URL=$(ENVOY_MTLS_URL) WASM_AUTHN_CERTS=$(CURDIR)/$(CERTS_DIR) \
			$(GO) test -count=1 -v -run 'TestEnvoyE2E' ./envoy/ || status=1; \
	fi; \
	if [ $$status -ne 0 ]; then COMPOSE_PROFILES=mtls $(COMPOSE) logs --no-color --tail=200 envoy envoy-mtls; fi; \
	$(COMPOSE) --profile mtls down --remove-orphans; \
	exit $$status
