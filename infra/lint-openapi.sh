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
# shellcheck source=infra/pytools.sh
source "$ROOT/infra/pytools.sh"
parse_lint_args "$ROOT/docs/openapi.json" "$@"
ensure_venv "$VENV" "${PINS[@]}"

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
