#!/usr/bin/env bash
# tests/e2e/test_events.sh USANDBOX PLATFORM: signalfd, inotify and SysV semaphores and message queues behave as
# natively: tests/e2e/programs/events.c and sysv.c print every result (success and error paths) deterministically.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

# compile_program NAME: builds tests/e2e/programs/NAME.c into $FIXTURE/NAME; reports a failure and returns 1 if not
compile_program() {
  if ! cc -O2 -pthread -o "$FIXTURE/$1" "$(dirname "$0")/programs/$1.c" 2>"$WORK/cc.err"; then
    e2e_not_ok "compile tests/e2e/programs/$1.c" "$(sed 's/^/  /' "$WORK/cc.err")"
    return 1
  fi
}

if compile_program events; then
  run_differential "signalfd: flags, masks, records, threads, blocking, EINTR/restart, epoll/select, fork, exec" \
    "$FIXTURE/events" signalfd
  run_differential "inotify on the sandbox's tmpfs: errors, events of every VFS operation, flags, overflow" \
    "$FIXTURE/events" inotify @SCRATCH@
  # the same through the Gofer-backed root (its overlay in the sandbox); the program removes what it made
  run_differential "inotify on the root file system (overlay over the Gofer)" \
    "$FIXTURE/events" inotify "$FIXTURE/inotify-directory"
fi
if compile_program sysv; then
  run_differential "SysV semaphores and message queues: get/ctl/op, blocking, SEM_UNDO, EIDRM, permissions" \
    "$FIXTURE/sysv"
fi
e2e_finish
