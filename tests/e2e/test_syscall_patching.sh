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
run_differential "a process that maps 0x60000 itself keeps it (nothing is patched there)" /usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
address = libc.mmap(0x60000, 0x10000, 3, 0x100022, -1, 0)  # PROT_READ|PROT_WRITE, MAP_PRIVATE|ANONYMOUS|FIXED_NOREPLACE
ctypes.memset(address, 7, 0x10000)
for _ in range(100):
    os.getppid()
print(hex(address), ctypes.string_at(address + 0x8000, 4), sum("[syscall thunks]" in line for line in open("/proc/self/maps")))'
e2e_finish
