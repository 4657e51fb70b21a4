#!/usr/bin/env bash
# tests/e2e/test_syscall_patching.sh USANDBOX PLATFORM: hot syscall sites, which seccomp-trap patches into
# jumps to its fast path, behave as on Linux (registers, red zone, threads, restarts, fork, exec), and only
# seccomp-trap patches them.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

if e2e_compile_program patched_syscalls; then
  run_differential "patched syscall sites: results, registers, red zone, threads, restarts, fork, exec" \
    "$FIXTURE/patched_syscalls"
fi

sandbox_do -- /usr/bin/python3 -c '
import os
for _ in range(100):
    os.getppid()
print(sum("[syscall thunks]" in line for line in open("/proc/self/maps")))'
if [ "$PLATFORM" = seccomp-trap ]; then
  expect_that "a site called 100 times is patched (its thunk table is mapped)" "1 on stdout" \
    grep -qx 1 "$SB_OUT"
else
  expect_that "ptrace patches nothing" "0 on stdout" grep -qx 0 "$SB_OUT"
fi
e2e_finish
