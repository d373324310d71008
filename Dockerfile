# A compat Wasm image for the istio-agent and other OCI-aware hosts: one layer
# holding /plugin.wasm. Keep exactly one COPY: the agent reads the module from
# the image's last layer only. Build the module first (make build), then:
#   docker build -t REGISTRY/wasm-authn:TAG .
# `make image` builds the same layout without a Docker engine (docs/deploy.md).
FROM scratch
COPY build/wasm-authn.wasm /plugin.wasm
