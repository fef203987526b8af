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

.PHONY: run test build vet vendor screenshots bench bench-home bench-login bench-data bench-search load-search load-register clean clean-testdb

build: vendor
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN) ./cmd/kitaportal

run: build
	@$(STACK) APP_ENV=development DEV_MAIL_SINK=true LOG_FORMAT=$${LOG_FORMAT:-text} ./$(BIN) dev

# The browser end-to-end test needs Chromium: devstack installs it when missing.
test: STACK_FLAGS = -browser
test: vendor
	@$(STACK) $(GO) vet ./... && $(GO) test -count=1 -timeout 12m ./...

# Browser libraries from npm, pinned in package.json / package-lock.json, copied into
# web/static/vendor (not in git) so the binary embeds and serves them itself.
LEAFLET := web/static/vendor/leaflet
# axe-core (a devDependency) stays in node_modules: only the browser tests read it.
vendor: $(LEAFLET)/leaflet.js
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
$(LEAFLET)/leaflet.js: package.json package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf $(LEAFLET) && mkdir -p $(LEAFLET)
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images \
		node_modules/leaflet/LICENSE $(LEAFLET)/

# Full-page PNGs at a phone's width of the pages the axe test checks (and the map, the
# opened search, a refused form, the status page's outlook, English pages) in ./screenshots.
screenshots: STACK_FLAGS = -browser
screenshots: vendor
	@rm -rf screenshots && $(STACK) SCREENSHOTS_DIR="$(CURDIR)/screenshots" \
		$(GO) test -count=1 -timeout 5m ./cmd/kitaportal -run '^TestPagesPassAxe$$' && ls screenshots

bench: bench-data
	@$(STACK) $(BENCH_ENV) $(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.out

clean:
	rm -rf bin bench.out node_modules web/static/vendor

# Home page through the whole stack vs a bare Fiber handler, over loopback with wrk.
bench-home:
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	@$(STACK) $(GO) test ./internal/server -run '^$$' -bench Wrk -benchtime 1x -timeout 10m

# Read-only requests alone and while 50 sign-ins per second run (p99 ratio), over loopback;
# and the cost of one argon2id password check.
bench-login:
	@$(STACK) $(GO) test ./internal/auth -run '^$$' -bench PasswordHash -count 6 && \
		$(GO) test ./internal/server -run '^$$' -bench PagesWhileLogins -benchtime 1x -timeout 20m -v
# Measuring the search at scale: a database of its own (kitaportal_bench) with Bochum and
# a synthetic Berlin (tenants/bench/berlin.yaml: ~3,000 facilities, ~170,000 contracts).
# Built once (minutes) and seeded again when the month changed; the availability is
# rebuilt on every run, so it follows the code.
BENCH_DB := kitaportal_bench
BENCH_ENV = BENCH_DATABASE_URL="$$(echo "$$TEST_DATABASE_URL" | sed -E 's,/[^/?]*(\?|$$),/$(BENCH_DB)\1,')"
bench-data: build
	@$(STACK) export $(BENCH_ENV); \
	psql "$$TEST_DATABASE_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" | grep -q 1 || \
		psql "$$TEST_DATABASE_URL" -qc "CREATE DATABASE $(BENCH_DB)"; \
	export DATABASE_URL="$$BENCH_DATABASE_URL" LOG_LEVEL=warn; \
	./$(BIN) migrate up >/dev/null && ./$(BIN) tenants sync >/dev/null && TENANTS_DIR=tenants/bench ./$(BIN) tenants sync >/dev/null; \
	if psql "$$DATABASE_URL" -Atc "SELECT 1 FROM availability_state s JOIN tenant t ON t.id = s.tenant_id \
		WHERE t.slug = 'berlin' AND s.first_month = date_trunc('month', current_date)" | grep -q 1; then \
		echo "bench-data: $(BENCH_DB) is up to date"; \
	else ./$(BIN) seed bochum berlin; fi; \
	./$(BIN) availability rebuild bochum berlin && psql "$$DATABASE_URL" -qc "VACUUM ANALYZE"

# Search latency against the bare SQL of the same query, and Bochum against Berlin.
bench-search: bench-data
	@$(STACK) $(BENCH_ENV) $(GO) test ./internal/search -run '^$$' -bench Search -benchtime 1x -timeout 20m

# Load over loopback: the real binary on Berlin, wrk with mixed searches, 30 s, 64 connections.
load-search: bench-data
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	@$(STACK) $(BENCH_ENV) $(GO) test ./cmd/kitaportal -run '^$$' -bench SearchLoad -benchtime 1x -timeout 20m

# Bochum's registration window: distinct parents file requests at 200 per second for 60
# seconds against the real binary (serve and worker); latency, errors and every
# confirmation mail counted in a local SMTP sink. LOAD_RATE and LOAD_SECONDS change it.
load-register:
	@$(STACK) $(GO) test ./cmd/kitaportal -run '^$$' -bench RegistrationWindow -benchtime 1x -timeout 30m

# Drops the test databases and templates that tests leave on the local server (templates
# are rebuilt whenever migrations or tenant files change; old ones are never reused).
clean-testdb:
	@$(STACK) for db in $$(psql "$$TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'kp\_t%'"); do \
		psql "$$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $$db WITH (FORCE)"; done

# ---- Provider portal (issue 6) at scale, on the bench database's Berlin: from saving a
# contract to the changed answer in the search, and the availability refresh of one
# facility against the full recompute of the city (medians of alternating rounds).
.PHONY: bench-provider
bench-provider: bench-data
	@$(STACK) $(BENCH_ENV) $(GO) test ./internal/contract -run '^$$' -bench 'ContractToSearch|RefreshVsRebuild' -benchtime 1x -timeout 20m -v

# ---- Offers (issue 11): the last seat under 100 concurrent offers, 50 runs (exactly one
# every time); 10,000 deadlines in one minute expired by one sweep (offers/s, every seat
# free again); accept → contract PDF ready (p50, p99 over 200 acceptances).
.PHONY: bench-offers
bench-offers:
	@$(STACK) $(GO) test ./internal/placement -run '^$$' -bench LastSeat -benchtime 50x -timeout 20m && \
		$(GO) test ./internal/placement -run '^$$' -bench Expire10000 -benchtime 3x -timeout 20m && \
		$(GO) test ./internal/placement -run '^$$' -bench AcceptToContractPDF -benchtime 200x -timeout 20m

# ---- Central allocation (issue 12): the engine against a minimal deferred acceptance on
# the same Berlin- and Bochum-sized markets (the ratio is the figure), with siblings too;
# then a whole round run as the worker does it (snapshot from PostgreSQL, match, explain,
# results written back) with its phases and the heap's peak.
.PHONY: bench-allocation
bench-allocation:
	$(GO) test ./internal/allocation -run '^$$' -bench . -benchtime 3x -benchmem -timeout 20m
	@$(STACK) $(GO) test ./internal/allocation/round -run '^$$' -bench Round -benchtime 3x -timeout 20m

# ---- Demand planning (issue 13) on the bench database's Berlin: the city's district ×
# band × month report for 36 months as the API answers it (p50, p99), and the whole city's
# Excel workbook with every facility month by month (time, size, the heap's peak).
.PHONY: bench-planning
bench-planning: bench-data
	@$(STACK) $(BENCH_ENV) $(GO) test ./internal/report -run '^$$' -bench PlanningBerlin36Months -benchtime 30x -timeout 20m && \
		$(BENCH_ENV) $(GO) test ./internal/report -run '^$$' -bench PlanningExcelBerlin -benchtime 3x -benchmem -timeout 20m
