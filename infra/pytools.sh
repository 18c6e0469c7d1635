# Sourced by the scripts that run a pinned Python tool (cfn-lint, openapi-spec-validator, schemathesis): each tool
# lives in its own virtualenv under .cache/, created from PyPI on first use and reused while its pins and the
# Python version are unchanged.
# shellcheck shell=bash

PYTHON="${PYTHON:-python3}"

# ensure_venv DIR PIN... : create the virtualenv DIR with exactly these pins unless its stamp already matches.
ensure_venv() {
  local dir="$1"; shift
  local want
  want="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') $*"
  if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$want" ]]; then
    return 0
  fi
  echo "${0##*/}: installing $* into ${dir#"$ROOT"/} ..." >&2
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$@"
  printf '%s' "$want" >"$dir/.stamp"
}

# parse_lint_args DEFAULT_FILE "$@" : sets `self_test` (0/1) and `files` (the arguments, else DEFAULT_FILE); `-h`
# prints the calling script's header comment.
parse_lint_args() {
  local default="$1"; shift
  self_test=0
  files=()
  for arg in "$@"; do
    case "$arg" in
      --self-test) self_test=1 ;;
      -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | cut -c3-; exit 0 ;;
      *) files+=("$arg") ;;
    esac
  done
  [[ ${#files[@]} -gt 0 ]] || files=("$default")
}
