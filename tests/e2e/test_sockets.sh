#!/usr/bin/env bash
# tests/e2e/test_sockets.sh USANDBOX PLATFORM: AF_UNIX sockets inside the sandbox (socketpair, stream, datagram,
# file-system and abstract names, SCM_RIGHTS) behave as natively; families other than AF_UNIX and the loopback
# AF_INET/AF_INET6 (test_network.sh) are absent.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

run_differential "python3 AF_UNIX sockets and fd passing" /usr/bin/python3 -c '
import array, os, socket
a, b = socket.socketpair()
a.sendall(b"hello"); print(b.recv(10))
r, w = os.pipe()
a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [w]))])
message, ancillary, flags, address = b.recvmsg(10, socket.CMSG_SPACE(4))
passed = array.array("i", ancillary[0][2])[0]
os.write(passed, b"through the passed fd"); print(os.read(r, 100))
d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
d1.send(b"12345"); print(d2.recv(3))
os.makedirs("@SCRATCH@", exist_ok=True)
path = "@SCRATCH@/s.sock"
server = socket.socket(socket.AF_UNIX); server.bind(path); server.listen(1)
client = socket.socket(socket.AF_UNIX); client.connect(path)
connection, _ = server.accept(); client.sendall(b"ping")
print(connection.recv(4), oct(os.stat(path).st_mode)[:4])
connection.close(); print(client.recv(10))
abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); abstract.bind("\0usandbox-test-%d" % os.getpid())
other = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); other.sendto(b"abs", "\0usandbox-test-%d" % os.getpid())
print(abstract.recvfrom(10)[0])
try:
    socket.socket(socket.AF_UNIX).connect("@SCRATCH@/none.sock")
except OSError as error:
    print("connect to a missing name:", error.errno)
print(a.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE))'
sandbox_do -- /usr/bin/python3 -c 'import socket
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
except OSError as error:
    print(error.errno)'
expect_that "AF_PACKET is absent (EAFNOSUPPORT)" "prints 97" grep -qx 97 "$SB_OUT"
e2e_finish
