#!/usr/bin/env bash
# tests/e2e/test_breadth.sh USANDBOX PLATFORM: scheduling, memory locks, sync/fallocate, splice/tee/vmsplice/
# copy_file_range, sendmmsg/recvmmsg/MSG_WAITALL, execveat and pidfds: the C program's success and error paths,
# then the tools and Python functions that use these calls, all compared with a native run.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

PROGRAM=$FIXTURE/breadth
if ! cc -O1 -pthread -o "$PROGRAM" "$(dirname "$0")/programs/breadth.c" 2>"$WORK/cc.err"; then
  echo "not ok - compile tests/e2e/programs/breadth.c"
  sed 's/^/#   /' "$WORK/cc.err"
  E2E_FAILED=$((E2E_FAILED + 1))
else
  run_differential "breadth: each call's success and error paths" "$PROGRAM" @SCRATCH@
fi

# coreutils and util-linux over the same calls.
run_differential "nice and getpriority" sh -c 'nice; nice -n 5 nice; nice -n 5 nice -n 3 nice'
run_differential "taskset narrows the affinity" taskset -c 0 python3 -c 'import os; print(sorted(os.sched_getaffinity(0)))'
run_differential "chrt sets SCHED_BATCH and SCHED_IDLE" sh -c \
  'chrt -b 0 chrt -p 0 | sed "s/pid [0-9]*/pid N/"; chrt -i 0 chrt -p 0 | sed "s/pid [0-9]*/pid N/"'
run_differential "ionice sets and reads an I/O class" sh -c 'ionice -c 2 -n 3 ionice; ionice -c 3 ionice'
run_differential "setarch -R (ADDR_NO_RANDOMIZE)" setarch -R sh -c 'echo ran'
run_differential "cp copies with copy_file_range" sh -c '
  mkdir -p @SCRATCH@ && head -c 300000 /bin/sh > @SCRATCH@/source && cp @SCRATCH@/source @SCRATCH@/copy &&
  cmp @SCRATCH@/source @SCRATCH@/copy && echo same'

# Python's wrappers.
run_differential "python os.sched_* and priorities" python3 -c '
import os
print(os.sched_getscheduler(0), os.sched_getparam(0), os.sched_get_priority_max(os.SCHED_RR))
os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0)); print(os.sched_getscheduler(0))
os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
os.setpriority(os.PRIO_PROCESS, 0, 7); print(os.getpriority(os.PRIO_PROCESS, 0))
os.sched_setaffinity(0, {0}); print(os.sched_getaffinity(0))
try:
    os.sched_setaffinity(0, {4000})
except OSError as error:
    print("setaffinity", error.errno)
print(os.sched_rr_get_interval(0) >= 0)'
run_differential "python copy_file_range, splice, posix_fallocate on /tmp" python3 -c '
import os
fd = os.memfd_create("data")
os.posix_fallocate(fd, 0, 5000); print(os.fstat(fd).st_size)
os.pwrite(fd, b"splice and copy", 0)
out = os.memfd_create("out")
print(os.copy_file_range(fd, out, 6, 0, 0), os.pread(out, 6, 0))
r, w = os.pipe()
print(os.splice(fd, w, 6, offset_src=7), os.read(r, 6))
os.write(w, b"from the pipe")
print(os.splice(r, out, 100, offset_dst=10), os.pread(out, 30, 0))
try:
    os.splice(fd, fd, 1)
except OSError as error:
    print("splice without a pipe", error.errno)'
run_differential "python pidfd_open, poll and waitid(P_PIDFD)" python3 -c '
import os, select, signal
child = os.fork()
if child == 0:
    signal.pause()
    os._exit(0)
pidfd = os.pidfd_open(child)
print(select.select([pidfd], [], [], 0)[0])
signal.pidfd_send_signal(pidfd, signal.SIGTERM)
print(select.select([pidfd], [], [], 5)[0] == [pidfd])
result = os.waitid(os.P_PIDFD, pidfd, os.WEXITED)
print(result.si_pid == child, result.si_code == os.CLD_KILLED, result.si_status)
try:
    signal.pidfd_send_signal(pidfd, signal.SIGTERM)
except ProcessLookupError:
    print("reaped: ESRCH")'
run_differential "python socket sendmsg batches and MSG_WAITALL" python3 -c '
import socket, threading, time
a, b = socket.socketpair()
def writer():
    for piece in (b"12", b"345", b"6789"):
        a.send(piece)
        time.sleep(0.02)
threading.Thread(target=writer).start()
print(b.recv(9, socket.MSG_WAITALL))'
run_differential "setfsuid/setfsgid: the previous id back, changes only when permitted" /usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None)
print([libc.setfsuid(v) for v in (-1, 1000, -1, 0)], [libc.setfsgid(v) for v in (-1, 50, 0)])
os.setresuid(1000, 1000, 1000)
print([libc.setfsuid(v) for v in (0, -1, 1000)])'
e2e_finish
