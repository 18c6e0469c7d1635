#!/usr/bin/env bash
# infra/bench.sh [--smoke] — builds what `make bench` measures and runs cartwheel-bench against a private local
# stack (infra/with-stack.sh). Full run: release binaries of every function and the bare probe, 20 interleaved cold
# starts per contestant over HTTPS and HTTP, sizes; rewrites docs/performance.md. `--smoke` (run by `make test`):
# debug binaries of catalog, webhook-delivery and the probe, one round, no budgets, written to target/bench-smoke/.
#
# The Node.js comparator's packages (pinned by infra/bench/comparators/node/package-lock.json) go to
# .cache/bench/node; the Python comparator uses boto3 from the stack's venv (.cache/venv). The throwaway CA is
# written to .cache/bench/ (ignored) and never committed.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SMOKE=()
if [[ ${1:-} == --smoke ]]; then SMOKE=(--smoke); fi

bash infra/setup.sh

NODE_SRC="$ROOT/infra/bench/comparators/node"
NODE_DIR="$ROOT/.cache/bench/node"
node_key="$(cat "$NODE_SRC/package.json" "$NODE_SRC/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)"
if [[ ! -f $NODE_DIR/.stamp || "$(cat "$NODE_DIR/.stamp")" != "$node_key" ]]; then
  printf 'bench: installing the Node.js comparator packages into .cache/bench/node\n' >&2
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp -- "$NODE_SRC/package.json" "$NODE_SRC/package-lock.json" "$NODE_DIR/"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --ignore-scripts --omit-lockfile-registry-resolved \
    --loglevel=error >&2
  printf '%s\n' "$node_key" >"$NODE_DIR/.stamp"
fi

if [[ ${#SMOKE[@]} -gt 0 ]]; then
  cargo build -q -p cartwheel-catalog -p cartwheel-webhook-delivery -p cartwheel-bench-probe -p cartwheel-bench \
    --bin catalog --bin webhook-delivery --bin probe --bin cartwheel-bench
  BINS="$ROOT/target/debug"
else
  packages=()
  for dir in functions/*/; do
    packages+=(-p "cartwheel-$(basename "$dir")")
  done
  cargo build --release --bins "${packages[@]}" -p cartwheel-bench-probe -p cartwheel-bench
  BINS="$ROOT/target/release"
fi

bash infra/with-stack.sh "$BINS/cartwheel-bench" "${SMOKE[@]}" --bins "$BINS" --root "$ROOT"
