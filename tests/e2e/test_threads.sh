#!/usr/bin/env bash
# tests/e2e/test_threads.sh USANDBOX PLATFORM: multi-threaded programs (pthreads in C, PI and robust mutexes,
# Python's threading), job control (stopping and continuing a child) and the main stack's size behave as
# natively: same output and exit status.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

if e2e_compile_program threads; then
  run_differential "pthreads: futex locks, join, exit values, exit_group with live threads" --rc 3 "$FIXTURE/threads"
fi
if e2e_compile_program locks; then
  run_differential "priority-inheritance and robust mutexes, raw FUTEX_*_PI errors" "$FIXTURE/locks"
fi
if e2e_compile_program job_control; then
  run_differential "job control: SIGSTOP, SIGCONT, wait's WUNTRACED/WCONTINUED, CLD_STOPPED" "$FIXTURE/job_control"
fi
if e2e_compile_program deep_stack; then
  run_differential "the main stack is as big as RLIMIT_STACK allows" /bin/sh -c "ulimit -s 65536 && $FIXTURE/deep_stack"
  run_differential "and no bigger (SIGSEGV)" --rc 139 /bin/sh -c "$FIXTURE/deep_stack"
fi
run_differential "python3 threading and a thread pool" /usr/bin/python3 -c '
import threading, queue, concurrent.futures as futures
results = queue.Queue()
def work(n):
    results.put(sum(range(n)))
    return n
threads = [threading.Thread(target=work, args=(1000 * i,)) for i in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(sorted(results.get() for _ in range(4)))
with futures.ThreadPoolExecutor(2) as pool:
    print(list(pool.map(work, [1, 2, 3])))'
e2e_finish
