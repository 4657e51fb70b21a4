#!/usr/bin/env bash
# tests/e2e/test_shared_memory.sh USANDBOX PLATFORM: shared memory as real programs use it: MAP_SHARED of
# shm_open/memfd/tmpfs files and anonymous memory (programs/shared_memory.c), and Python's multiprocessing
# (a Pool of 2, Value with a Lock, Queue, shared_memory, the forkserver context), the same as natively.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

if e2e_compile_program shared_memory; then
  run_differential "MAP_SHARED of in-memory files and anonymous memory, semaphores" "$FIXTURE/shared_memory"
fi

# A script file, not -c: the forkserver's workers import __main__ to find the functions.
cat >"$FIXTURE/multiprocessing_case.py" <<'PY'
import multiprocessing as mp
from multiprocessing import shared_memory
def square(x):
    return x * x
def bump(value, lock):
    for _ in range(100):
        with lock:
            value.value += 1
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(pool.map(square, range(10)))
    value, lock = mp.Value("i", 0), mp.Lock()
    workers = [mp.Process(target=bump, args=(value, lock)) for _ in range(3)]
    [w.start() for w in workers]
    [w.join() for w in workers]
    print("value", value.value)
    queue = mp.Queue()
    putter = mp.Process(target=queue.put, args=("queued",))
    putter.start()
    print(queue.get())
    putter.join()
    block = shared_memory.SharedMemory(create=True, size=100)
    block.buf[:5] = b"hello"
    other = shared_memory.SharedMemory(name=block.name)
    print(bytes(other.buf[:5]))
    other.close()
    block.close()
    block.unlink()
    with mp.get_context("forkserver").Pool(2) as pool:
        print(sum(pool.map(square, range(5))))
PY
run_differential "python3 multiprocessing: Pool(2), Value+Lock, Queue, shared_memory, forkserver" \
  /usr/bin/python3 "$FIXTURE/multiprocessing_case.py"
e2e_finish
