#!/usr/bin/env python3
# tests/e2e/programs/subreaper.py CMD...: does what conmon and containerd's shim do with a runtime: become a
# child subreaper, run CMD (`create` or `exec --detach`, with --pid-file $PID_FILE), then, after running
# the shell command $THEN if set, wait for the pid CMD left in $PID_FILE and print "exit N" as they report
# it (the code, or 128+signal). Exits 1 if CMD failed or the pid is never reaped within $REAP_TIMEOUT s.
import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("subreaper: prctl: " + os.strerror(ctypes.get_errno()))
child = os.fork()
if child == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status = os.waitpid(child, 0)
if os.waitstatus_to_exitcode(status) != 0:
    print("runtime failed with", os.waitstatus_to_exitcode(status))
    sys.exit(1)
with open(os.environ["PID_FILE"]) as pid_file:
    watched = int(pid_file.read())
if os.environ.get("THEN"):
    os.system(os.environ["THEN"])
signal.alarm(int(os.environ.get("REAP_TIMEOUT", "30")))
while True:
    pid, status = os.waitpid(-1, 0)
    if pid == watched:
        break
code = os.waitstatus_to_exitcode(status)
print("exit", code if code >= 0 else 128 - code)
