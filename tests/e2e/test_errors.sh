#!/usr/bin/env bash
# shellcheck disable=SC1010,SC2016,SC2317  # "do" is usandbox's subcommand; single-quoted scripts expand inside
# tests/e2e/test_errors.sh USANDBOX PLATFORM: mistakes on the command line fail fast, non-zero, with a
# message that says what is wrong.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

stderr_mentions() {  # TEXT: the last run's stderr contains TEXT
  grep -qF -- "$1" "$SB_ERR"
}

sandbox_do -- /nonexistent
expect_sandbox "do -- /nonexistent: non-zero exit" nonzero ""
expect_that "do -- /nonexistent: the message names the path" "stderr mentions /nonexistent" \
  stderr_mentions /nonexistent

sandbox_do --rootfs=/nonexistent -- /bin/true
expect_sandbox "do --rootfs=/nonexistent: non-zero exit" nonzero ""
expect_that "do --rootfs=/nonexistent: the message names the rootfs" "stderr mentions /nonexistent" \
  stderr_mentions /nonexistent

usandbox_raw do --platform=bogus -- /bin/true
expect_sandbox "do --platform=bogus: non-zero exit" nonzero ""
expect_that "do --platform=bogus: an error message" "something on stderr" test -s "$SB_ERR"

usandbox_raw
expect_sandbox "no arguments: non-zero exit" nonzero ""
expect_that "no arguments: prints usage" "stdout or stderr mentions usage" \
  eval 'cat "$SB_OUT" "$SB_ERR" | grep -qi usage'

usandbox_raw frobnicate
expect_sandbox "unknown subcommand: non-zero exit" nonzero ""
expect_that "unknown subcommand: an error message" "something on stderr" test -s "$SB_ERR"

sandbox_do --
expect_sandbox "do with no command: non-zero exit" nonzero ""

sandbox_do --no-such-flag -- /bin/true
expect_sandbox "do with an unknown flag: non-zero exit" nonzero ""

# do keeps the caller's directory; one the sandbox hides (host /tmp) falls back to / with a notice.
hidden_cwd=/tmp/usandbox-e2e-cwd.$$
mkdir -p "$hidden_cwd"
(cd "$hidden_cwd" && "$USANDBOX" do --platform="$PLATFORM" -- "$BUSYBOX" pwd) >"$WORK/cwd.out" 2>"$WORK/cwd.err"
cwd_status=$?
rmdir "$hidden_cwd"
expect_that "do from a directory the sandbox hides starts in /" "exit 0, prints /, says why" \
  sh -c "[ $cwd_status -eq 0 ] && grep -qx / '$WORK/cwd.out' && grep -q 'not visible in the sandbox' '$WORK/cwd.err'"
sandbox_do --cwd=/nonexistent-directory -- "$BUSYBOX" true
expect_sandbox "do --cwd with a missing directory fails" nonzero ""

usandbox_raw syscalls
expect_that "syscalls lists read as implemented and mseal as ENOSYS" "table rows for 0 read and 462 mseal" \
  sh -c "grep -Eq '^0 +read +implemented' '$SB_OUT' && grep -Eq '^462 +mseal +ENOSYS' '$SB_OUT'"

e2e_finish
