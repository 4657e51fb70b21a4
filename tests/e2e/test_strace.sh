#!/usr/bin/env bash
# shellcheck disable=SC1010,SC2016,SC2317  # "do" is usandbox's subcommand; single-quoted scripts expand inside
# tests/e2e/test_strace.sh USANDBOX PLATFORM: --strace logs the sandboxed program's system calls, with
# decoded arguments, to stderr (or to the --debug-log directory), without touching its stdout or status.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

printf 'hello, strace\n' >"$FIXTURE/hello.txt"

# _strace_log: the strace output of the last run: its stderr plus any debug-log files.
_strace_log() {
  cat "$SB_ERR"
  if [ -n "${DEBUG_LOG_DIR:-}" ] && [ -d "$DEBUG_LOG_DIR" ]; then
    find "$DEBUG_LOG_DIR" -type f -exec cat {} + 2>/dev/null
  fi
}
_syscall_names() {
  _strace_log | grep -oE '(^|[^A-Za-z0-9_])[a-z_][a-z0-9_]*\(' | sed -E 's/^[^a-z_]//; s/\($//' | sort -u
}

DEBUG_LOG_DIR=""
sandbox_do --strace -- "$BUSYBOX" true
expect_sandbox "--strace: busybox true still exits 0 with no output" 0 ""
expect_that "--strace: the log mentions exit_group(0)" "a line containing exit_group(0) on stderr" \
  eval '_strace_log | grep -qF "exit_group(0)"'
expect_that "--strace: several distinct system calls are logged" "at least 2 distinct NAME( calls on stderr" \
  eval '[ "$(_syscall_names | wc -l)" -ge 2 ]'

sandbox_do --strace -- "$BUSYBOX" cat "$FIXTURE/hello.txt"
expect_sandbox "--strace: stdout of the program is untouched" 0 "hello, strace"
expect_that "--strace: path arguments are decoded" "an open/openat line with \"$FIXTURE/hello.txt\"" \
  eval '_strace_log | grep -E "open(at)?\\(" | grep -qF "\"$FIXTURE/hello.txt\""'

sandbox_do --strace -- "$BUSYBOX" sh -c 'exit 3'
expect_sandbox "--strace: the exit status is kept" 3 ""
expect_that "--strace: the log mentions exit_group(3)" "a line containing exit_group(3) on stderr" \
  eval '_strace_log | grep -qF "exit_group(3)"'

sandbox_do -- "$BUSYBOX" true
expect_sandbox "without --strace: exit 0" 0 ""
host_check "without --strace: no system-call log" $? "no exit_group( on stderr" \
  eval '! grep -qF "exit_group(" "$SB_ERR"'

DEBUG_LOG_DIR=$WORK/debug-log
mkdir -p "$DEBUG_LOG_DIR"
sandbox_do --strace --debug-log="$DEBUG_LOG_DIR" -- "$BUSYBOX" true
expect_sandbox "--debug-log: busybox true still exits 0" 0 ""
expect_that "--debug-log: the directory gets a non-empty log" "a non-empty file under $DEBUG_LOG_DIR" \
  eval '[ -n "$(find "$DEBUG_LOG_DIR" -type f -size +0c 2>/dev/null | head -n 1)" ]'
expect_that "--debug-log with --strace: exit_group(0) is logged" "exit_group(0) on stderr or in the debug log" \
  eval '_strace_log | grep -qF "exit_group(0)"'

e2e_finish
