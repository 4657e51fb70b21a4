#!/usr/bin/env bash
# tests/e2e/test_events.sh USANDBOX PLATFORM: signalfd, inotify and SysV semaphores, message queues and shared
# memory behave as natively: tests/e2e/programs/events.c, sysv.c and sysv_shm.c print every result (success and
# error paths) deterministically.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

if e2e_compile_program events; then
  run_differential "signalfd: flags, masks, records, threads, blocking, EINTR/restart, epoll/select, fork, exec" \
    "$FIXTURE/events" signalfd
  run_differential "inotify on the sandbox's tmpfs: errors, events of every VFS operation, flags, overflow" \
    "$FIXTURE/events" inotify @SCRATCH@
  # the same through the Gofer-backed root (its overlay in the sandbox); the program removes what it made
  run_differential "inotify on the root file system (overlay over the Gofer)" \
    "$FIXTURE/events" inotify "$FIXTURE/inotify-directory"
fi
run_differential "python3: a signalfd (ctypes) with select, asyncio's add_reader, and signal.sigwait" /usr/bin/python3 -c '
import asyncio, ctypes, os, select, signal, struct
libc = ctypes.CDLL(None, use_errno=True)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
mask = (ctypes.c_uint64 * 16)()
mask[0] = (1 << (signal.SIGUSR1 - 1)) | (1 << (signal.SIGUSR2 - 1))
fd = libc.signalfd(-1, ctypes.byref(mask), os.O_NONBLOCK | os.O_CLOEXEC)
print("signalfd", fd >= 0)
os.kill(os.getpid(), signal.SIGUSR1)
print("select", select.select([fd], [], [], 1)[0] == [fd])
record = os.read(fd, 128)
print("read", len(record), struct.unpack_from("IiiII", record)[0], struct.unpack_from("IiiII", record)[3] == os.getpid())
try:
    os.read(fd, 128)
except BlockingIOError:
    print("EAGAIN")
async def main():
    loop = asyncio.get_running_loop()
    got = loop.create_future()
    loop.add_reader(fd, lambda: got.set_result(struct.unpack_from("I", os.read(fd, 128))[0]))
    loop.call_later(0.05, os.kill, os.getpid(), signal.SIGUSR2)
    print("asyncio reader got signal", await asyncio.wait_for(got, 2))
asyncio.run(main())
os.kill(os.getpid(), signal.SIGUSR1)
print("sigwait", signal.sigwait({signal.SIGUSR1}))
'
if e2e_compile_program sysv; then
  run_differential "SysV semaphores and message queues: get/ctl/op, blocking, SEM_UNDO, EIDRM, permissions" \
    "$FIXTURE/sysv"
fi
if e2e_compile_program sysv_shm; then
  run_differential "SysV shared memory: shmget, shmat (fork, SHM_RDONLY, SHM_RND, SHM_REMAP), shmdt, shmctl" \
    "$FIXTURE/sysv_shm"
fi
# util-linux's ipcmk, ipcs (which falls back to SEM_STAT/MSG_STAT without /proc/sysvipc) and ipcrm
cat >"$FIXTURE/ipc.sh" <<'SCRIPT'
sem=$(ipcmk -S 2 -p 0600 | sed "s/.*: //")
queue=$(ipcmk -Q | sed "s/.*: //")
ipcs -s | awk -v id="$sem" '$2 == id { print "semaphore set", $3, $4, $5 }'
ipcs -q | awk -v id="$queue" '$2 == id { print "queue", $3, $4, $5, $6 }'
ipcs -s -i "$sem" | grep -c "^[01] "
ipcrm -s "$sem" && ipcrm -q "$queue" && echo removed
ipcs -s | awk -v id="$sem" '$2 == id' | wc -l
SCRIPT
run_differential "ipcmk, ipcs and ipcrm on a semaphore set and a message queue" /bin/sh "$FIXTURE/ipc.sh"
e2e_finish
