#!/usr/bin/env bash
# infra/with-stack.sh CMD ARGS... — run CMD against a private local AWS stack.
#
# Starts a stack (infra/stack.sh) in a fresh `mktemp -d` directory under .cache/stacks/, exports the
# variables of its env file (AWS_ENDPOINT_URL*, test credentials, region, CARTWHEEL_* ports and PIDs), runs
# CMD in the foreground, and stops that stack when the script exits (normal end, error, Ctrl-C, TERM). The
# directory is removed when CMD succeeded, kept (with its logs) otherwise. Exits with CMD's exit code
# (130/143 if interrupted before CMD ran).
#   e.g. infra/with-stack.sh cargo test --workspace
# Ctrl-C reaches CMD (foreground) but not the stack's services (they ignore SIGINT); bash runs the traps
# once CMD has returned, and the EXIT trap then stops the stack.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 1 ]] || { printf 'usage: infra/with-stack.sh CMD [ARGS...]\n' >&2; exit 2; }

mkdir -p "$ROOT/.cache/stacks"
STACK_DIR="$(mktemp -d "$ROOT/.cache/stacks/stack.XXXXXX")"
status=""
signalled=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $status ]] || status=$rc
  "$ROOT/infra/stack.sh" stop "$STACK_DIR" || true
  if [[ $status -eq 0 ]]; then
    rm -rf -- "$STACK_DIR"
  else
    printf 'with-stack: exit %s; stack logs kept in %s\n' "$status" "$STACK_DIR" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'signalled=130' INT
trap 'signalled=143' TERM

"$ROOT/infra/stack.sh" start "$STACK_DIR"
# shellcheck source=/dev/null
. "$STACK_DIR/env"
[[ -z $signalled ]] || { status=$signalled; exit "$status"; }

set +e
"$@"
status=$?
set -e
