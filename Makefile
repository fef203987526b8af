# The two commands of the README:
#   make run    the portal with the demo cities on http://<city>.localhost:8080
#   make test   every test, against real PostgreSQL and Redis
# Both start PostgreSQL and Redis when none is configured (see cmd/devstack).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/kitaportal
# Runs cmd/devstack and exports what it prints; stops the recipe when it fails.
STACK = stack="$$($(GO) run ./cmd/devstack $(STACK_FLAGS))"; eval "$$stack";

.PHONY: run test build vet bench bench-home bench-login clean clean-testdb

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN) ./cmd/kitaportal

run: build
	@$(STACK) APP_ENV=development DEV_MAIL_SINK=true LOG_FORMAT=$${LOG_FORMAT:-text} ./$(BIN) dev

test:
	@$(STACK) $(GO) vet ./... && $(GO) test -count=1 -timeout 12m ./...

bench:
	@$(STACK) $(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.out

clean:
	rm -rf bin bench.out

# Home page through the whole stack vs a bare Fiber handler, over loopback with wrk.
bench-home:
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	@$(STACK) $(GO) test ./internal/server -run '^$$' -bench Wrk -benchtime 1x -timeout 10m

# Read-only requests alone and while 50 sign-ins per second run (p99 ratio), over loopback;
# and the cost of one argon2id password check.
bench-login:
	@$(STACK) $(GO) test ./internal/auth -run '^$$' -bench PasswordHash -count 6 && \
		$(GO) test ./internal/server -run '^$$' -bench PagesWhileLogins -benchtime 1x -timeout 20m -v

# Drops the test databases and templates that tests leave on the local server (templates
# are rebuilt whenever migrations or tenant files change; old ones are never reused).
clean-testdb:
	@$(STACK) for db in $$(psql "$$TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'kp\_t%'"); do \
		psql "$$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $$db WITH (FORCE)"; done
