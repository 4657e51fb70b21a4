#!/usr/bin/env bash
# tests/e2e/test_hostile.sh USANDBOX PLATFORM: system calls with hostile arguments (NULL, unmapped and kernel
# pointers, huge lengths, bad fds, flags and paths) get the same result and errno inside as natively.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

PROGRAM=$FIXTURE/hostile
if ! cc -O1 -o "$PROGRAM" "$(dirname "$0")/programs/hostile.c" 2>"$WORK/cc.err"; then
  echo "not ok - compile tests/e2e/programs/hostile.c"
  sed 's/^/#   /' "$WORK/cc.err"
  E2E_FAILED=$((E2E_FAILED + 1))
else
  run_differential "hostile arguments, errno for errno" "$PROGRAM"
fi
e2e_finish
