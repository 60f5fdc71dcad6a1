# followflow — `make` or `make help` lists the targets.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 60s
BENCHTIME ?= 1s
RUNS      ?= 5

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build the followflow binary into ./followflow
	$(GO) build -o followflow ./cmd/followflow

.PHONY: example
example: ## simulate the shipped examples (embedded, no server needed)
	$(GO) run ./cmd/followflow simulate --workflows examples/workflows --data examples/data.yaml --events examples/events.jsonl

.PHONY: test
test: ## run every test with -race (Redis tests need redis-server; see README)
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

.PHONY: golden
golden: ## rewrite golden files from current output (review the diff!)
	$(GO) test ./cli/ -run TestExamples -update

.PHONY: bench
bench: ## run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

.PHONY: bench-engine
bench-engine: ## BenchmarkEngine RUNS times (default 5), each run with its 10,000/10 workflows ratio
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	$(GO) test -c -o "$$dir/engine.test" ./engine && \
	for i in $$(seq $(RUNS)); do \
	  out=$$("$$dir/engine.test" -test.run '^$$' -test.bench '^BenchmarkEngine$$' -test.benchtime 500000x -test.benchmem) || { echo "$$out"; exit 1; }; \
	  echo "$$out" | awk -v run=$$i '/^BenchmarkEngine/ { print; split($$1, n, "="); ns[n[2] + 0] = $$3 } \
	    END { if (ns[10] > 0 && ns[10000] > 0) printf "run %d: 10,000 / 10 workflows = %.2fx\n", run, ns[10000] / ns[10] }'; \
	done

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 60s)
	$(GO) test ./workflow/ -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/yamlx/ -run '^$$' -fuzz '^FuzzPosIn$$' -fuzztime $(FUZZTIME)
	$(GO) test ./event/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./event/ -run '^$$' -fuzz '^FuzzDecodeFast$$' -fuzztime $(FUZZTIME)
	$(GO) test ./event/ -run '^$$' -fuzz '^FuzzEachLine$$' -fuzztime $(FUZZTIME)
	$(GO) test ./conditions/ -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./conditions/ -run '^$$' -fuzz '^FuzzNative$$' -fuzztime $(FUZZTIME)
	$(GO) test ./record/ -run '^$$' -fuzz '^FuzzParseDataFile$$' -fuzztime $(FUZZTIME)

.PHONY: lint
lint: ## gofmt, go vet, staticcheck (installed on demand), go mod tidy check
	@test -z "$$(gofmt -l .)" || (gofmt -l . && echo 'gofmt would change the files above' && exit 1)
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)
	$(GO) mod tidy -diff
