# Cartwheel: `make dev` runs the whole system locally; `make test` runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# nextest runs each test in its own process (parallel, isolated); cargo test is the fallback.
TEST_RUNNER := $(shell if cargo nextest --version >/dev/null 2>&1; then echo "nextest run --no-tests=fail"; else echo test; fi)

.PHONY: dev test fmt lint clippy lint-template lint-openapi unit-and-integration fuzz bench-smoke bench soak openapi calls setup lambda-arm64

dev:
	bash infra/dev.sh

test: fmt clippy lint-template lint-openapi unit-and-integration fuzz bench-smoke

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

lint-template:
	bash infra/lint-template.sh

# The committed OpenAPI document against a pinned OpenAPI 3.1 validator (a test keeps the file current).
lint-openapi:
	bash infra/lint-openapi.sh --self-test

# Unit tests and the integration/end-to-end tests, against a fresh DynamoDB Local + moto stack.
unit-and-integration:
	bash infra/setup.sh
	bash infra/with-stack.sh cargo $(TEST_RUNNER) --workspace

# schemathesis over the served OpenAPI document with a seeded store's real ids, fixed seed, bounded budget; any
# finding (5xx, undocumented status, response off its schema) fails (infra/fuzz.sh).
fuzz: setup
	cargo build -q -p cartwheel-gateway --bin cartwheel-gateway
	bash infra/fuzz.sh

# One round of every benchmark, no budgets (so the harness cannot rot); writes target/bench-smoke/.
bench-smoke:
	bash infra/bench.sh --smoke

# Every benchmark; rewrites docs/performance.md (see the file for what is measured and how).
bench:
	bash infra/bench.sh

# Mixed load with random faults for SOAK_SECS (default 600), ending with the history check (not part of `make test`).
soak: setup
	bash infra/with-stack.sh cargo test -p cartwheel-tests --test it soak -- --ignored --nocapture

setup:
	bash infra/setup.sh

# Regenerates docs/openapi.json and the event schemas from the code (tests fail while they are stale).
openapi:
	cargo run -q -p cartwheel-gateway -- --print-openapi > docs/openapi.json
	mkdir -p docs/events/schemas
	cargo run -q -p cartwheel-gateway -- --write-event-schemas docs/events/schemas

# Rewrites the measured DynamoDB calls per operation in docs/data-model.md (a test fails while they differ).
calls: setup
	CARTWHEEL_UPDATE_DOCS=1 bash infra/with-stack.sh cargo $(TEST_RUNNER) -p cartwheel-tests -E 'test(dynamodb_calls_per_operation)'

# Optional: arm64 Lambda bundles (needs `pip install cargo-lambda` and the aarch64 std; see README).
lambda-arm64:
	cargo lambda build --release --arm64 --bin admin --bin authorizer
