# Gatehouse developer tasks. `make` (or `make help`) lists them.

GO              ?= go
PG_DSN          ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
STATICCHECK     ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME        ?= 10s
BENCHTIME       ?= 1s
BIN             ?= bin/gatehouse

.DEFAULT_GOAL := help
.PHONY: help build run test test-all lint verify bench fuzz ci clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build the binary into bin/gatehouse
	$(GO) build -o $(BIN) ./cmd/gatehouse

run: ## run a development server (SQLite, dev mailbox): go run ./cmd/gatehouse serve --dev
	$(GO) run ./cmd/gatehouse serve --dev

test: ## run the test suite (SQLite; PostgreSQL too when GATEHOUSE_TEST_POSTGRES is set)
	$(GO) test ./...

test-all: ## run every test (GATEHOUSE_TEST_ALL=1) on SQLite and on PostgreSQL at PG_DSN
	GATEHOUSE_TEST_ALL=1 GATEHOUSE_TEST_POSTGRES='$(PG_DSN)' $(GO) test -count=1 -timeout 10m ./...

lint: ## gofmt check, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

verify: lint test-all ## lint, then every test on both databases

bench: ## short benchmarks of the password, token and store packages, store on SQLite and PG_DSN (BENCHTIME=1s)
	GATEHOUSE_TEST_POSTGRES='$(PG_DSN)' $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./internal/password/ ./internal/token/ ./internal/store/...

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@set -e; $(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ {n[++c]=$$0; next} /^ok / {for (i=1;i<=c;i++) print $$2, n[i]} {c=0}' | \
	while read -r pkg name; do echo "--- $$name ($$pkg)"; $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; done

ci: ## the CI script: bash .ci/run
	bash .ci/run

clean: ## remove build output
	rm -rf bin
