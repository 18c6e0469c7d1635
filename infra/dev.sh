#!/usr/bin/env bash
# infra/dev.sh — what `make dev` runs: a local stack plus the gateway in the foreground.
#
# Runs infra/setup.sh, starts a stack in .cache/dev-$CARTWHEEL_PORT (CARTWHEEL_PORT defaults to 3000 and is
# exported to the gateway; one stack directory per port, so dev gateways on different ports do not collide),
# exports the stack's env, then runs in the foreground (not exec'd, so the trap still fires)
#   cargo run -p cartwheel-gateway --bin cartwheel-gateway [-- ARGS...]
# The gateway creates its table and queues and prints its URL and keys. Ctrl-C stops the gateway (it gets
# the SIGINT; the stack's services ignore it), then the EXIT trap stops the stack this script started — and
# nothing else. Stack logs: .cache/dev-$CARTWHEEL_PORT/{dynamodb,moto}.log
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
export CARTWHEEL_PORT="${CARTWHEEL_PORT:-3000}"
STACK_DIR="$ROOT/.cache/dev-$CARTWHEEL_PORT"
status=""
signalled=""
started=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $status ]] || status=$rc
  if [[ $started -eq 1 ]]; then
    "$ROOT/infra/stack.sh" stop "$STACK_DIR" || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'signalled=130' INT
trap 'signalled=143' TERM

"$ROOT/infra/setup.sh"
started=1 # a start interrupted half-way has recorded what it launched in $STACK_DIR/pids: stop that
set +e
"$ROOT/infra/stack.sh" start "$STACK_DIR"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  # 3 = a stack is already running in $STACK_DIR (another `make dev` on this port): not ours, leave it alone
  [[ $rc -ne 3 ]] || started=0
  status=$rc
  exit "$status"
fi
# shellcheck source=/dev/null
. "$STACK_DIR/env"
[[ -z $signalled ]] || { status=$signalled; exit "$status"; }
printf 'dev: stack in %s; gateway on port %s (Ctrl-C stops both)\n' "$STACK_DIR" "$CARTWHEEL_PORT" >&2

cd "$ROOT"
set +e
cargo run -p cartwheel-gateway --bin cartwheel-gateway -- "$@"
status=$?
set -e
