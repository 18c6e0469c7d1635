#!/usr/bin/env bash
# Validate docs/openapi.json (the committed OpenAPI 3.1 document, kept current by a test) with a pinned
# openapi-spec-validator in its own virtualenv under .cache/: a dangling $ref or a malformed schema fails CI.
#
#   infra/lint-openapi.sh              validate docs/openapi.json (or the files given as arguments)
#   infra/lint-openapi.sh --self-test  also prove that the validator catches a dangling reference
#
# First run: creates the venv (needs PyPI). Later runs: a stamp file makes setup instant.
set -euo pipefail

PINS=(openapi-spec-validator==0.8.5)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/openapi-validator"
PYTHON="${PYTHON:-python3}"

self_test=0
files=()
for arg in "$@"; do
  case "$arg" in
    --self-test) self_test=1 ;;
    -h|--help) sed -n '2,7p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) files+=("$arg") ;;
  esac
done
[[ ${#files[@]} -gt 0 ]] || files=("$ROOT/docs/openapi.json")

want="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ${PINS[*]}"
if ! [[ -x "$VENV/bin/openapi-spec-validator" && -f "$VENV/.stamp" && "$(cat "$VENV/.stamp")" == "$want" ]]; then
  echo "lint-openapi: installing ${PINS[*]} into ${VENV#"$ROOT"/} ..." >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${PINS[@]}"
  printf '%s' "$want" >"$VENV/.stamp"
fi

status=0
for file in "${files[@]}"; do
  if out="$("$VENV/bin/openapi-spec-validator" "$file" 2>&1)"; then
    echo "openapi-spec-validator: ${file#"$ROOT"/} valid"
  else
    echo "openapi-spec-validator: ${file#"$ROOT"/} INVALID"
    printf '%s\n' "$out" | tail -20 | cut -c1-500
    status=1
  fi
done

if [[ $self_test -eq 1 ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$PYTHON" - "$ROOT/docs/openapi.json" "$tmp/dangling.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
op = next(iter(doc["paths"].values()))
next(iter(op.values()))["responses"]["599"] = {"$ref": "#/components/responses/Nowhere"}
json.dump(doc, open(sys.argv[2], "w"))
PY
  if "$VENV/bin/openapi-spec-validator" "$tmp/dangling.json" >/dev/null 2>&1; then
    echo "self-test dangling-ref: passed, expected a failure"; status=1
  else
    echo "self-test dangling-ref: refused as expected"
  fi
fi

exit "$status"
