# wasm-authn — the front door. `make help` lists the targets.

GO        ?= go
WASM      := build/wasm-authn.wasm
CONFIG    ?= testdata/configs/example.json
ADDR      ?= 127.0.0.1:8080
FUZZTIME  ?= 4s
BENCHTIME ?= 1s
BENCHCOUNT ?= 5
# Tool versions, pinned.
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20250813145418-2f7363a06fe1

.PHONY: help build test unit lint fmt vet fuzz bench run validate e2e clean

help:
	@echo "build     build $(WASM) (upstream Go, wasip1 reactor)"
	@echo "test      lint, every test (through the real .wasm), short fuzzing"
	@echo "bench     Go benchmarks through the real .wasm, as a table with ratios"
	@echo "run       local gateway on $(ADDR) running the plugin with CONFIG=$(CONFIG)"
	@echo "validate  check CONFIG=... exactly as the plugin does"
	@echo "fuzz      run every fuzz target for FUZZTIME=$(FUZZTIME)"
	@echo "e2e       end-to-end suite against the local gateway"
	@echo "image/push/up/down/e2e-envoy: see docs/deploy.md"

build:
	@mkdir -p build
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -o $(WASM) ./plugin
	@ls -l $(WASM) | awk '{print "built $(WASM):", $$5, "bytes"}'

test: build lint unit fuzz

unit:
	WASM_AUTHN_MODULE=$(CURDIR)/$(WASM) $(GO) test -count=1 -timeout 15m ./...

lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./plugin/... ./internal/abi/... ./internal/filter/...

fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

bench: build
	WASM_AUTHN_MODULE=$(CURDIR)/$(WASM) $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./bench/ | tee build/bench.txt
	$(GO) run ./bench/report < build/bench.txt

run: build
	$(GO) run ./cmd/wasm-authn run -module $(WASM) -config $(CONFIG) -addr $(ADDR)

validate:
	$(GO) run ./cmd/wasm-authn validate $(CONFIG)

e2e: build
	WASM_AUTHN_MODULE=$(CURDIR)/$(WASM) $(GO) test -count=1 ./e2e/...

clean:
	rm -rf build dist

-include mk/deliver.mk
