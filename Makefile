# The two commands: `make up` (run locally) and `make test` (the whole suite). See README.md.
COMPONENTS := auth catalog events subscriptions status scheduler
WASM := wasm32-wasip2
COMPONENT_FLAGS := $(addprefix -p ,$(COMPONENTS))

.PHONY: up test build build-components fmt-check clippy unit-and-e2e sizes bench

## Run the app on $(LISTEN) (default 127.0.0.1:3000): spin up if installed, else the wasmtime host.
up:
	./scripts/up.sh

## Formatting, clippy (native and wasm32), native unit tests, end-to-end tests through the components.
test: fmt-check clippy build unit-and-e2e

## The Spin components and the test-only probe component, for wasm32-wasip2.
build: build-components
	cargo build --target $(WASM) --release -p probe

build-components:
	@command -v rustup >/dev/null && rustup target list --installed | grep -qx $(WASM) || rustup target add $(WASM)
	cargo build --target $(WASM) --release $(COMPONENT_FLAGS)

fmt-check:
	cargo fmt --all --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target $(WASM) -p statuspage-core $(COMPONENT_FLAGS) -p probe -- -D warnings

unit-and-e2e:
	cargo test -p statuspage-core -p statuspage-host --lib --bins --tests

## Size of each component .wasm (for the README).
sizes: build-components
	@for c in $(COMPONENTS); do printf '%-14s %7d bytes\n' $$c $$(stat -c %s target/$(WASM)/release/$$c.wasm); done

## Throughput of the hot paths with wrk against the wasmtime host (see README, Benchmarks).
bench: build-components
	./scripts/bench.sh
