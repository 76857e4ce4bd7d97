# Walnut's tasks. `make help` lists them.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PORT ?= 8080
# The scale harness (bench/): runs of N@INTERVAL, each measured for BENCH_DURATION.
BENCH_RUNS ?= 100@10s,500@30s,1000@10s
BENCH_DURATION ?= 2m
INTERVAL ?= 10s

.PHONY: help
help: ## list the tasks
	@grep -E '^[a-z/]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: run
run: postgres build ## set up and start Walnut on walnut.example.yaml with a local PostgreSQL
	PORT=$(PORT) ./bin/walnut serve --demo --config walnut.example.yaml

.PHONY: build
build: ## build bin/walnut
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/walnut ./cmd/walnut

.PHONY: postgres
postgres: ## install PostgreSQL's server package when it is missing
	@bash scripts/ensure-postgres.sh

.PHONY: generate
generate: ## regenerate templ views and sqlc queries
	$(GO) tool templ generate 
	$(GO) tool sqlc generate

.PHONY: verify
verify: ## check that generated code is fresh
	$(GO) tool templ generate 
	$(GO) tool sqlc diff
	@git diff --exit-code -- views store/dbsqlc || { echo "generated code is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- views store/dbsqlc)" || { git status --porcelain -- views store/dbsqlc; echo "generated files are not committed"; exit 1; }

.PHONY: lint
lint: ## go vet and gofmt
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run gofmt -w on the files above"; exit 1; }

.PHONY: test
test: postgres lint verify ## every check: vet, gofmt, fresh generated code, tests with -race, a short fuzz
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz

FUZZTIME ?= 5s
.PHONY: fuzz
fuzz: ## fuzz the recipes for FUZZTIME each (default 5s; FUZZTIME=10m for a long run)
	@for f in FuzzAPIRecipes FuzzRules; do $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./recipes/ || exit 1; done

.PHONY: bench
bench: postgres ## benchmarks; the scale harness for BENCH_RUNS, or N sites at INTERVAL (make bench N=1000)
	$(GO) test -run '^$$' -bench . -benchmem ./store/
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./views/ ./web/
	$(GO) run ./bench -runs $(if $(N),$(N)@$(INTERVAL),$(BENCH_RUNS)) -duration $(BENCH_DURATION)

.PHONY: bench/large
bench/large: postgres ## the scale harness with 10,000 sites at 10s, with profiles
	$(GO) run ./bench -runs 10000@10s -duration $(BENCH_DURATION) -pprof

.PHONY: db/reset
db/reset: ## delete the local PostgreSQL under .walnut/ (all history), or where .walnut/postgres links to
	@# Run as root from a directory the postgres user cannot reach, Walnut keeps
	@# the cluster under /var/lib/walnut and leaves a link here.
	@if [ -L .walnut/postgres ]; then echo rm -rf "$$(readlink .walnut/postgres)"; rm -rf "$$(readlink .walnut/postgres)"; fi
	rm -rf .walnut/postgres
