#!/usr/bin/env bash
# infra/fuzz.sh — a bounded, reproducible schemathesis run against a local gateway over a private local stack.
#
#   infra/fuzz.sh [EXTRA SCHEMATHESIS RUN OPTIONS...]
#
# 1. Installs a pinned schemathesis into .cache/schemathesis (infra/pytools.sh; needs PyPI the first time only).
# 2. Moves itself into a network namespace of its own (`unshare --net`, loopback only), so that nothing the fuzzer
#    writes — a webhook endpoint's URL above all — can send traffic off this machine. Where unshare is not allowed
#    it says so and runs without, keeping the webhook operations' URLs on loopback instead (infra/fuzz/seed.py).
# 3. Starts a stack (infra/stack.sh) in a fresh `mktemp -d` under .cache/stacks/, and the gateway binary
#    $CARTWHEEL_GATEWAY_BIN (default target/debug/cartwheel-gateway; nothing is built here) on a free port, with a
#    random platform key and payment-provider secret, loopback webhooks allowed, one delivery attempt per event,
#    and a rate-limit plan `fuzz` of 1,000,000 requests a minute (a store's default is 1,000: the run would end in
#    429s).
# 4. infra/fuzz/seed.py creates a store on plan `fuzz` through the platform API, one resource of every kind (and a
#    spare for each operation that deletes or retires one), and writes the schemathesis configuration: that store's
#    test key, and for each operation the real ids of the matching resources as its path parameters (and in its
#    body where it names one); it pays one order (a signed payment callback) so that it can be fulfilled and
#    refunded. infra/fuzz/hooks.py keeps schemathesis' Idempotency-Key and If-Match values from turning most
#    requests into 409s and 400s, and signs most payment callbacks.
# 5. Runs schemathesis twice, checks not_a_server_error, status_code_conformance, content_type_conformance and
#    response_schema_conformance, a fixed seed, one worker (requests in the same order, so the store goes through
#    the same states), no example database or cache carried over, each run under a hard limit of
#    $CARTWHEEL_FUZZ_TIMEOUT (600) seconds: phases examples, coverage and fuzzing with at most
#    $CARTWHEEL_FUZZ_MAX_EXAMPLES (25) cases per operation and phase; then the stateful phase (scenarios that
#    follow the document's links from a create to what uses its id) for $CARTWHEEL_FUZZ_STATEFUL_SECS (60)
#    seconds. Two runs find the same failures; their request counts differ by a fraction of a percent, as
#    schemathesis 4 feeds values from responses (new ids, timestamps) back into what it generates. About 2.5
#    minutes on 2 idle cores.
# 6. Writes everything to .cache/fuzz/run-TIMESTAMP/: schemathesis.toml, ids.json, openapi.json (as served),
#    per run command-NAME.txt, schemathesis-NAME.txt (its console output) and report/NAME/ (JSON, NDJSON, JUnit),
#    gateway.log, and summary.md (infra/fuzz/summarize.py: every distinct failure with a curl command, statuses per operation, what valid-looking
#    cases the API refused), and prints the summary.
#
# Exit status: 0 no failure, 1 schemathesis found failures, anything else: the harness itself failed. On any exit
# (Ctrl-C and TERM included) it stops exactly what it started: the gateway by its PID, the stack with
# infra/stack.sh stop. The stack's directory (its logs) is kept only when the run ended before schemathesis did.
#
# Env: CARTWHEEL_GATEWAY_BIN, CARTWHEEL_FUZZ_SEED (default 20261203), CARTWHEEL_FUZZ_MAX_EXAMPLES (25),
#      CARTWHEEL_FUZZ_STATEFUL_SECS (60), CARTWHEEL_FUZZ_TIMEOUT (600), CARTWHEEL_FUZZ_NETNS=0 (no network namespace).
set -euo pipefail

PINS=(schemathesis==4.32.5)

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/schemathesis"
BIN="${CARTWHEEL_GATEWAY_BIN:-$ROOT/target/debug/cartwheel-gateway}"
SEED="${CARTWHEEL_FUZZ_SEED:-20261203}"
MAX_EXAMPLES="${CARTWHEEL_FUZZ_MAX_EXAMPLES:-25}"
STATEFUL_SECS="${CARTWHEEL_FUZZ_STATEFUL_SECS:-60}"
LIMIT="${CARTWHEEL_FUZZ_TIMEOUT:-600}"
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
PLAN=fuzz

log() { printf 'fuzz: %s\n' "$*" >&2; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 2; }

# ------------------------------------------------------------------------------------ outside the namespace
if [[ ${_CARTWHEEL_FUZZ_INSIDE:-} != 1 ]]; then
  # shellcheck source=infra/pytools.sh
  source "$ROOT/infra/pytools.sh"
  ensure_venv "$VENV" "${PINS[@]}"
  "$ROOT/infra/setup.sh" # the stack's packages (npm, PyPI) while the network is still there
  [[ -x $BIN ]] || die "no gateway binary at $BIN: build it (cargo build -p cartwheel-gateway) or set CARTWHEEL_GATEWAY_BIN"
  export _CARTWHEEL_FUZZ_INSIDE=1
  if [[ ${CARTWHEEL_FUZZ_NETNS:-1} != 0 ]] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then
    export _CARTWHEEL_FUZZ_ISOLATED=1
    exec unshare --net -- bash "$0" "$@"
  fi
  log "warning: no network namespace (unshare --net refused or CARTWHEEL_FUZZ_NETNS=0): running on the host's network"
  export _CARTWHEEL_FUZZ_ISOLATED=0
fi

# ------------------------------------------------------------------------------------- inside the namespace
if [[ ${_CARTWHEEL_FUZZ_ISOLATED:-0} == 1 ]]; then
  ip link set lo up
fi

mkdir -p "$ROOT/.cache/stacks" "$ROOT/.cache/fuzz"
RUN="$ROOT/.cache/fuzz/run-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN"
STACK_DIR="$(mktemp -d "$ROOT/.cache/stacks/fuzz.XXXXXX")"
gateway_pid=""
gateway_start=""
fuzzer_pid=""
fuzzer_start=""
stack_started=0
ran=0
status=""

# shellcheck source=infra/procs.sh
source "$ROOT/infra/procs.sh"
alive() { [[ -n $1 && -n $2 ]] && running "$1" "$2"; } # PID START: still that process

stop() { # NAME PID START: TERM, 5 s, KILL — that process only
  alive "$2" "$3" || return 0
  kill -TERM "$2" 2>/dev/null || true
  for _ in $(seq 50); do alive "$2" "$3" || break; sleep 0.1; done
  if alive "$2" "$3"; then
    log "$1 (pid $2) ignored TERM for 5 s: KILL"
    kill -KILL "$2" 2>/dev/null || true
  fi
  wait "$2" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $status ]] || status=$rc
  stop schemathesis "$fuzzer_pid" "$fuzzer_start"
  stop gateway "$gateway_pid" "$gateway_start"
  if [[ $stack_started -eq 1 ]]; then "$ROOT/infra/stack.sh" stop "$STACK_DIR" || true; fi
  if [[ $ran -eq 1 || $stack_started -eq 0 ]]; then
    rm -rf -- "$STACK_DIR"
  else
    log "stack logs kept in $STACK_DIR"
  fi
  log "exit $status; run directory $RUN"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stack_started=1 # a start interrupted half-way has recorded what it launched in $STACK_DIR/pids: stop that
"$ROOT/infra/stack.sh" start "$STACK_DIR"
# shellcheck source=/dev/null
. "$STACK_DIR/env"

read -r PORT PLATFORM_KEY PAYMENTS_SECRET < <(python3 -c '
import secrets, socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
print(port, "pk_fuzz_" + secrets.token_hex(16), "whsec_fuzz_" + secrets.token_hex(16))')
BASE="http://127.0.0.1:$PORT"

log "gateway $BIN on $BASE"
(
  cd "$ROOT"
  export CARTWHEEL_PORT="$PORT" CARTWHEEL_PLATFORM_KEY="$PLATFORM_KEY" CARTWHEEL_WEBHOOK_ALLOW_LOOPBACK=1
  export CARTWHEEL_RATE_LIMITS="$PLAN=1000000" CARTWHEEL_WEBHOOK_RETRY_SCHEDULE=0s
  export CARTWHEEL_PAYMENTS_WEBHOOK_SECRET="$PAYMENTS_SECRET"
  exec "$BIN"
) </dev/null >"$RUN/gateway.log" 2>&1 &
gateway_pid=$!
gateway_start="$(start_time "$gateway_pid")"
for ((i = 0; ; i++)); do
  alive "$gateway_pid" "$gateway_start" || { tail -n 30 "$RUN/gateway.log" >&2; die "the gateway exited during start"; }
  [[ "$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/v1/health" || true)" == 200 ]] && break
  ((i < 600)) || { tail -n 30 "$RUN/gateway.log" >&2; die "the gateway did not answer in 60 s"; }
  sleep 0.1
done
curl --noproxy '*' -sf "$BASE/v1/openapi.json" -o "$RUN/openapi.json" || die "no /v1/openapi.json"

isolation=()
[[ $_CARTWHEEL_FUZZ_ISOLATED == 1 ]] || isolation=(--not-isolated)
python3 "$ROOT/infra/fuzz/seed.py" --url "$BASE" --platform-key "$PLATFORM_KEY" --plan "$PLAN" \
  --payments-secret "$PAYMENTS_SECRET" \
  --config "$RUN/schemathesis.toml" --ids "$RUN/ids.json" --hooks "$ROOT/infra/fuzz/hooks.py" "${isolation[@]}"

# Two runs, each in the background and waited for (a TERM or Ctrl-C to this script runs its trap at once, which ends
# the run by PID), with its working directory the run's (the .hypothesis folder lands there, not in the repository):
# `units` (examples, coverage, fuzzing: at most $MAX_EXAMPLES cases per operation and phase), then `stateful`
# (scenarios following the document's links, for $STATEFUL_SECS: a case budget ends it after a few dozen scenarios).
run_schemathesis() { # NAME PHASES [OPTIONS...]: sets st_status
  local name=$1 phases=$2
  shift 2
  local command=(
    "$VENV/bin/schemathesis" --config-file "$RUN/schemathesis.toml" run "$RUN/openapi.json" --url "$BASE"
    --phases "$phases" --checks "$CHECKS" --seed "$SEED"
    --workers 1 --generation-database none --request-timeout 10 --output-sanitize false --no-color
    --report json,ndjson,junit --report-dir "$RUN/report/$name" "$@"
  )
  printf '%q ' "${command[@]}" >"$RUN/command-$name.txt"
  log "schemathesis $name: seed $SEED (command in $RUN/command-$name.txt)"
  local t0=$SECONDS
  (
    cd "$RUN"
    export CARTWHEEL_FUZZ_PAYMENTS_SECRET="$PAYMENTS_SECRET" # infra/fuzz/hooks.py signs payment callbacks with it
    exec timeout --foreground --kill-after=10 "$LIMIT" "${command[@]}"
  ) >"$RUN/schemathesis-$name.txt" 2>&1 &
  fuzzer_pid=$!
  fuzzer_start="$(start_time "$fuzzer_pid")"
  set +e
  wait "$fuzzer_pid"
  st_status=$?
  set -e
  fuzzer_pid=""
  log "schemathesis $name exited $st_status after $((SECONDS - t0)) s"
  tail -n 25 "$RUN/schemathesis-$name.txt" >&2
}
run_schemathesis units examples,coverage,fuzzing --max-examples "$MAX_EXAMPLES" "$@"
units_status=$st_status
run_schemathesis stateful stateful --max-time "$STATEFUL_SECS" "$@"
((st_status > units_status)) || st_status=$units_status
ran=1

ndjson=("$RUN"/report/*/ndjson-*.ndjson)
if [[ -f ${ndjson[0]} ]]; then
  python3 "$ROOT/infra/fuzz/summarize.py" --openapi "$RUN/openapi.json" "${ndjson[@]/#/--ndjson=}" \
    --console "$RUN/schemathesis-units.txt" --console "$RUN/schemathesis-stateful.txt" >"$RUN/summary.md"
  sed -n '1,/^## Requests per operation/p' "$RUN/summary.md" | grep -v '^## Requests per operation' | cut -c1-400
fi
case $st_status in
  0) status=0 ;;
  1) status=1 ;;
  124 | 137) log "schemathesis did not finish in ${LIMIT}s"; status=2 ;;
  *) status=2 ;;
esac
