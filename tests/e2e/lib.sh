#!/usr/bin/env bash
# tests/e2e/lib.sh: the shared harness of the end-to-end tests.
#
# CTest runs each tests/e2e/test_*.sh as `test_X.sh /path/to/usandbox PLATFORM`; the script sources this
# file, calls e2e_setup, runs its cases and ends with e2e_finish. Every case prints one line,
# `ok - NAME` or `not ok - NAME` followed by `#`-prefixed details (a diff of expected against actual),
# and e2e_finish prints `N passed, M failed` and exits non-zero if any case failed.
#
# Two kinds of case:
#   run_differential [--stdin FILE] [--stderr] [--rc N] NAME CMD...
#       runs CMD natively (in a fresh temp dir) and as `usandbox do --platform=PLATFORM -- CMD...`,
#       and compares stdout and exit status (and stderr with --stderr; --rc N also requires both
#       exit statuses to be N). In CMD, @SCRATCH@ stands for a scratch directory that does not exist
#       yet (the command creates it): /tmp/scratch inside the sandbox (the sandbox's own tmpfs) and a
#       private directory natively; native output has that directory rewritten to /tmp/scratch.
#   asserted cases: sandbox_do / usandbox_raw run the binary and fill SB_RC, SB_OUT, SB_ERR (files),
#       then expect_sandbox / expect_that / host_check / e2e_ok / e2e_not_ok report (the expect_*
#       functions also return non-zero on failure).
#
# Sandboxed commands must not depend on host state that differs inside: host /tmp is not visible
# there, so host fixtures live under $FIXTURE (in /var/tmp), which the sandbox sees through the Gofer.
#
# Environment knobs: E2E_CASE_TIMEOUT (seconds per run, default 60), E2E_BUDGET (seconds for the whole
# script, default 270, below CTest's 300: cases past it are reported as failed without running, so the
# summary line is always printed), E2E_KEEP=1 keeps the work directory for inspection.

# shellcheck disable=SC1010  # "do" is the usandbox subcommand
set -u

USANDBOX=${1:-}
PLATFORM=${2:-}
BUSYBOX=/bin/busybox
E2E_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_SCRIPT=$(basename "$0" .sh)
E2E_CASE_TIMEOUT=${E2E_CASE_TIMEOUT:-60}
E2E_BUDGET=${E2E_BUDGET:-270}
E2E_PASSED=0
E2E_FAILED=0
E2E_START=$SECONDS
E2E_CLEANUP_PATHS=()
WORK=""
FIXTURE=""
SB_DIR=""
SB_OUT=""
SB_ERR=""
SB_RC=0
SB_TIMED_OUT=0
SB_CMDLINE=""
# Where @SCRATCH@ points inside the sandbox.
E2E_SANDBOX_SCRATCH=/tmp/scratch

# ---- reporting --------------------------------------------------------------------------------------

e2e_ok() {
  E2E_PASSED=$((E2E_PASSED + 1))
  printf 'ok - %s\n' "$1"
}

# e2e_not_ok NAME [DETAIL...]: each DETAIL (may be multi-line) is printed with a `#   ` prefix.
e2e_not_ok() {
  local name=$1
  shift
  E2E_FAILED=$((E2E_FAILED + 1))
  printf 'not ok - %s\n' "$name"
  local detail
  for detail in "$@"; do
    printf '%s\n' "$detail" | sed 's/^/#   /'
  done
}

# _e2e_diff EXPECTED_FILE ACTUAL_FILE EXPECTED_LABEL ACTUAL_LABEL: a unified diff, at most 60 lines.
_e2e_diff() {
  diff -u --label "$3" --label "$4" "$1" "$2" | head -n 60
}

# _e2e_tail FILE: the last lines of FILE (for showing a run's stderr when a case fails).
_e2e_tail() {
  if [ -s "$1" ]; then
    tail -n 20 "$1" | cut -c1-300
  else
    echo "(empty)"
  fi
}

_e2e_rc_text() {  # RC TIMED_OUT
  if [ "$2" = 1 ]; then
    echo "$1 (timed out)"
  else
    echo "$1"
  fi
}

# The details of the last sandbox run, for failure messages.
sb_details() {
  printf 'command: %s\n' "$SB_CMDLINE"
  printf 'exit status: %s\n' "$(_e2e_rc_text "$SB_RC" "$SB_TIMED_OUT")"
  printf -- '--- stdout:\n'
  _e2e_tail "$SB_OUT"
  printf -- '--- stderr:\n'
  _e2e_tail "$SB_ERR"
}

e2e_finish() {
  if [ $((E2E_PASSED + E2E_FAILED)) -eq 0 ]; then
    e2e_not_ok "$E2E_SCRIPT ran at least one case" "no case ran"
  fi
  printf '%d passed, %d failed\n' "$E2E_PASSED" "$E2E_FAILED"
  if [ "$E2E_FAILED" -ne 0 ]; then
    exit 1
  fi
  exit 0
}

# ---- set-up and clean-up ----------------------------------------------------------------------------

e2e_cleanup() {
  local path
  for path in "${E2E_CLEANUP_PATHS[@]}"; do
    rm -rf -- "$path"
  done
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${E2E_KEEP:-0}" = 1 ]; then
      echo "# E2E_KEEP=1: work directory kept at $WORK"
    else
      rm -rf -- "$WORK"
    fi
  fi
}

# e2e_remove_at_exit PATH: remove PATH (a host file a case creates outside $WORK) when the script exits.
e2e_remove_at_exit() {
  E2E_CLEANUP_PATHS+=("$1")
}

# e2e_setup: checks the arguments and busybox, creates $WORK (/var/tmp/usandbox-e2e.PID) with
# $FIXTURE inside it. A missing prerequisite is one failed case, and the script ends there.
# Compiles tests/e2e/programs/NAME.c into $FIXTURE/NAME (with -pthread); a compiler error is a failed case.
# Returns non-zero then, so the caller skips the cases that need the program.
e2e_compile_program() {  # NAME
  local name=$1
  if cc -O2 -pthread -o "$FIXTURE/$name" "$E2E_DIRECTORY/programs/$name.c" 2>"$WORK/cc.err"; then
    return 0
  fi
  echo "not ok - compile tests/e2e/programs/$name.c"
  sed 's/^/#   /' "$WORK/cc.err"
  E2E_FAILED=$((E2E_FAILED + 1))
  return 1
}

e2e_setup() {
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ -z "$USANDBOX" ] || [ -z "$PLATFORM" ]; then
    e2e_not_ok "arguments" "usage: $0 /path/to/usandbox PLATFORM"
    e2e_finish
  fi
  if [ ! -x "$USANDBOX" ]; then
    e2e_not_ok "usandbox binary is executable" "not found or not executable: $USANDBOX"
    e2e_finish
  fi
  case "$USANDBOX" in
    /*) ;;
    *) USANDBOX="$(cd "$(dirname "$USANDBOX")" && pwd)/$(basename "$USANDBOX")" ;;
  esac
  if [ ! -x "$BUSYBOX" ]; then
    e2e_not_ok "busybox present" \
      "skipped: $BUSYBOX not found; the end-to-end tests need the static busybox (apt-get install busybox-static)"
    e2e_finish
  fi
  if ! command -v timeout >/dev/null 2>&1; then
    e2e_not_ok "timeout present" "skipped: timeout(1) from coreutils is needed"
    e2e_finish
  fi
  WORK=/var/tmp/usandbox-e2e.$$
  rm -rf -- "$WORK"
  mkdir -p "$WORK/cases" "$WORK/fixture"
  chmod 755 "$WORK" "$WORK/fixture"
  # shellcheck disable=SC2034  # used by the test scripts
  FIXTURE=$WORK/fixture
  echo "# $E2E_SCRIPT: usandbox=$USANDBOX platform=$PLATFORM work=$WORK"
}

# ---- running ----------------------------------------------------------------------------------------

# Seconds a run may take: the per-case timeout, cut to what is left of the script's budget (0: none).
_e2e_time_left() {
  local left=$((E2E_BUDGET - (SECONDS - E2E_START)))
  if [ "$left" -gt "$E2E_CASE_TIMEOUT" ]; then
    left=$E2E_CASE_TIMEOUT
  fi
  if [ "$left" -lt 0 ]; then
    left=0
  fi
  echo "$left"
}

# _e2e_capture DIR PREFIX STDIN CWD CMD...: runs CMD with a timeout; writes DIR/PREFIX.{out,err,rc,timedout}.
_e2e_capture() {
  local dir=$1 prefix=$2 stdin=$3 cwd=$4
  shift 4
  local limit
  limit=$(_e2e_time_left)
  : >"$dir/$prefix.out"
  if [ "$limit" -le 0 ]; then
    echo "e2e: not run: the script's time budget of ${E2E_BUDGET}s is used up" >"$dir/$prefix.err"
    echo 124 >"$dir/$prefix.rc"
    echo 1 >"$dir/$prefix.timedout"
    return
  fi
  local started=$SECONDS
  # The subshell's own stderr goes to /dev/null so that bash's "Killed" notices stay out of the log.
  (
    cd "$cwd" || exit 1
    timeout -k 5 "$limit" "$@" <"$stdin" >"$dir/$prefix.out" 2>"$dir/$prefix.err"
    echo $? >"$dir/$prefix.rc"
  ) 2>/dev/null
  [ -s "$dir/$prefix.rc" ] || echo 255 >"$dir/$prefix.rc"
  local rc
  rc=$(cat "$dir/$prefix.rc")
  # timeout(1) exits 124 when it sent SIGTERM, and 137 when it had to resort to SIGKILL; a command that
  # died of SIGKILL on its own also gives 137, which the elapsed time tells apart.
  if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ $((SECONDS - started)) -ge "$limit" ]; }; then
    echo 1 >"$dir/$prefix.timedout"
  else
    echo 0 >"$dir/$prefix.timedout"
  fi
}

_e2e_new_case_dir() {
  mktemp -d "$WORK/cases/case.XXXXXX"
}

# _e2e_sandbox_run STDIN ARGV...: runs ARGV (the usandbox command line) and fills the SB_* variables.
_e2e_sandbox_run() {
  local stdin=$1
  shift
  SB_DIR=$(_e2e_new_case_dir)
  mkdir -p "$SB_DIR/cwd"
  SB_CMDLINE=$(printf '%q ' "$@")
  _e2e_capture "$SB_DIR" sandbox "$stdin" "$SB_DIR/cwd" "$@"
  SB_OUT=$SB_DIR/sandbox.out
  SB_ERR=$SB_DIR/sandbox.err
  SB_RC=$(cat "$SB_DIR/sandbox.rc")
  SB_TIMED_OUT=$(cat "$SB_DIR/sandbox.timedout")
}

# sandbox_do [--stdin FILE] [DO-FLAGS...] -- CMD...: `usandbox do --platform=PLATFORM DO-FLAGS -- CMD...`.
sandbox_do() {
  local stdin=/dev/null
  if [ "${1:-}" = --stdin ]; then
    stdin=$2
    shift 2
  fi
  local flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    flags+=("$1")
    shift
  done
  [ "${1:-}" = -- ] && shift
  _e2e_sandbox_run "$stdin" "$USANDBOX" do --platform="$PLATFORM" "${flags[@]}" -- "$@"
}

# usandbox_raw ARGS...: the binary with exactly these arguments (for testing the command line itself).
usandbox_raw() {
  _e2e_sandbox_run /dev/null "$USANDBOX" "$@"
}

# ---- differential cases -----------------------------------------------------------------------------

_e2e_escape_sed() {
  printf '%s' "$1" | sed 's/[][\.*^$|/]/\\&/g'
}

# run_differential [--stdin FILE] [--stderr] [--rc N] NAME CMD...
run_differential() {
  local stdin=/dev/null compare_stderr=0 want_rc=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --stdin) stdin=$2; shift 2 ;;
      --stderr) compare_stderr=1; shift ;;
      --rc) want_rc=$2; shift 2 ;;
      *) break ;;
    esac
  done
  local name=$1
  shift
  if [ "$(_e2e_time_left)" -le 0 ]; then
    e2e_not_ok "$name" "not run: the script's time budget of ${E2E_BUDGET}s is used up (E2E_BUDGET)"
    return
  fi
  local dir
  dir=$(_e2e_new_case_dir)
  mkdir -p "$dir/cwd"
  local native_scratch=$dir/scratch
  local native_args=() sandbox_args=() arg
  for arg in "$@"; do
    native_args+=("${arg//@SCRATCH@/$native_scratch}")
    sandbox_args+=("${arg//@SCRATCH@/$E2E_SANDBOX_SCRATCH}")
  done

  _e2e_capture "$dir" native "$stdin" "$dir/cwd" "${native_args[@]}"
  local pattern
  pattern=$(_e2e_escape_sed "$native_scratch")
  sed -i "s|$pattern|$E2E_SANDBOX_SCRATCH|g" "$dir/native.out" "$dir/native.err"

  _e2e_capture "$dir" sandbox "$stdin" "$dir/cwd" "$USANDBOX" do --platform="$PLATFORM" -- "${sandbox_args[@]}"

  local native_rc sandbox_rc native_to sandbox_to
  native_rc=$(cat "$dir/native.rc")
  sandbox_rc=$(cat "$dir/sandbox.rc")
  native_to=$(cat "$dir/native.timedout")
  sandbox_to=$(cat "$dir/sandbox.timedout")

  local problems=()
  if [ "$native_to" = 1 ]; then
    problems+=("the native run timed out (the case itself is broken)")
  fi
  if [ -n "$want_rc" ] && [ "$native_rc" != "$want_rc" ]; then
    problems+=("native exit status is $native_rc, the case expects $want_rc (the case itself is broken)")
  fi
  if [ "$native_rc" != "$sandbox_rc" ] || [ "$sandbox_to" = 1 ]; then
    problems+=("exit status: native $(_e2e_rc_text "$native_rc" "$native_to"), sandbox $(_e2e_rc_text "$sandbox_rc" "$sandbox_to")")
  fi
  if ! cmp -s "$dir/native.out" "$dir/sandbox.out"; then
    problems+=("stdout differs:
$(_e2e_diff "$dir/native.out" "$dir/sandbox.out" native sandbox)")
  fi
  if [ "$compare_stderr" = 1 ] && ! cmp -s "$dir/native.err" "$dir/sandbox.err"; then
    problems+=("stderr differs:
$(_e2e_diff "$dir/native.err" "$dir/sandbox.err" native sandbox)")
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    e2e_ok "$name"
  else
    problems+=("command: $(printf '%q ' "${sandbox_args[@]}")")
    if [ "$compare_stderr" = 0 ]; then
      problems+=("sandbox stderr:
$(_e2e_tail "$dir/sandbox.err")")
    fi
    e2e_not_ok "$name" "${problems[@]}"
  fi
}

# ---- assertions on the last sandbox run ---------------------------------------------------------------

# expect_sandbox NAME RC EXPECTED_STDOUT: the last run exited RC and printed exactly EXPECTED_STDOUT
# (trailing newlines aside). RC may be `nonzero`.
expect_sandbox() {
  local name=$1 want_rc=$2 want_out=$3
  local problems=()
  if [ "$SB_TIMED_OUT" = 1 ]; then
    problems+=("timed out")
  elif [ "$want_rc" = nonzero ]; then
    [ "$SB_RC" != 0 ] || problems+=("exit status is 0, expected non-zero")
  elif [ "$SB_RC" != "$want_rc" ]; then
    problems+=("exit status is $SB_RC, expected $want_rc")
  fi
  local actual
  actual=$(cat "$SB_OUT")
  if [ "$actual" != "$want_out" ]; then
    printf '%s\n' "$want_out" >"$SB_DIR/expected.out"
    printf '%s\n' "$actual" >"$SB_DIR/actual.out"
    problems+=("stdout differs:
$(_e2e_diff "$SB_DIR/expected.out" "$SB_DIR/actual.out" expected sandbox)")
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    e2e_ok "$name"
  else
    problems+=("command: $SB_CMDLINE" "sandbox stderr:
$(_e2e_tail "$SB_ERR")")
    e2e_not_ok "$name" "${problems[@]}"
    return 1
  fi
}

# expect_that NAME DESCRIPTION CHECK...: runs the host-side CHECK command (e.g. grep on $SB_ERR); ok if
# it succeeds and the last run did not time out, otherwise not ok with DESCRIPTION and the run's details.
expect_that() {
  local name=$1 description=$2
  shift 2
  if [ "$SB_TIMED_OUT" != 1 ] && "$@"; then
    e2e_ok "$name"
  else
    e2e_not_ok "$name" "expected: $description" "$(sb_details)"
    return 1
  fi
}

# host_check NAME PRECONDITION DESCRIPTION CHECK...: a check (CHECK, run on the host) after a sandbox run
# that was itself asserted, PRECONDITION being that assertion's status. A failed CHECK is always not ok;
# a passing CHECK after a failed run proves nothing, so it is not ok "not checked" rather than a
# vacuous pass.
host_check() {
  local name=$1 precondition=$2 description=$3
  shift 3
  if ! "$@"; then
    e2e_not_ok "$name" "expected: $description"
    return 1
  elif [ "$precondition" != 0 ]; then
    e2e_not_ok "$name" "not checked: the run inside the sandbox failed (see above)"
    return 1
  else
    e2e_ok "$name"
  fi
}
