# infra/procs.sh — sourced by the scripts that start processes (stack.sh, fuzz.sh): a process is named by its PID
# and its kernel start time, so that a PID reused by another process is never signalled.

# start_time PID -> kernel start time of PID (empty if gone). The comm field may hold spaces: cut after ')'.
start_time() {
  local stat
  local -a f
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  # fields after comm start at field 3 (state); starttime is field 22 -> index 19 here
  read -r -a f <<<"$stat"
  printf '%s' "${f[19]:-}"
}
# running PID START -> true while PID is the same process and not a zombie
running() {
  local stat state
  [[ "$(start_time "$1")" == "$2" ]] || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  state="${stat%% *}"
  [[ $state != Z && $state != X ]]
}
