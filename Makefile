# ticketing: the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false

STACK := .cache/bin/stack
MODULES := . pkg auth $(wildcard tickets orders payments expiration)

.PHONY: up down wipe status test test-unit test-e2e vet fmt stack bench passwords

## up: install what is missing, build, start the whole stack; prints the URL
up: stack
	@$(STACK) up

## down: stop exactly what `make up` started; the data stays
down: stack
	@$(STACK) down

## wipe: stop and delete the local data (.state/); builds stay cached
wipe: stack
	@$(STACK) wipe

## status: which components run and are ready
status: stack
	@$(STACK) status

## test: every module's tests and the end-to-end tests, against an isolated
## stack (own ports and state folder) that is started and stopped here
test: stack
	@scripts/test

## bench: the load generator against a fresh benchmark stack (ports +20000);
## rewrites the figures of docs/performance.md (about ten minutes;
## `make bench BENCH_FLAGS=-quick` for a one-minute smoke run)
bench: stack
	@scripts/bench $(BENCH_FLAGS)

## vet: gofmt and go vet over every module
vet:
	@test -z "$$(gofmt -l $(MODULES))" || { gofmt -l $(MODULES); exit 1; }
	@for m in $(MODULES); do (cd $$m && go vet ./...) || exit 1; done

## passwords: regenerate auth's list of common passwords from its npm
## package (docs/passwords.md)
passwords:
	@scripts/passwords

stack:
	@go build -o $(STACK) ./cmd/stack
