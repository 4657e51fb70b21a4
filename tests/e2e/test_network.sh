#!/usr/bin/env bash
# tests/e2e/test_network.sh USANDBOX PLATFORM: the sandbox's loopback network: IPv4/IPv6 TCP and UDP sockets on
# 127.0.0.0/8 and ::1 behave as natively (the C program and Python's servers and clients); other addresses are
# unreachable in the sandbox.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

if e2e_compile_program loopback; then
  run_differential "loopback: TCP, UDP, IPv6, errors, readiness and interface ioctls" "$FIXTURE/loopback"
  sandbox_do -- "$FIXTURE/loopback" unreachable
  expect_sandbox "addresses outside loopback are unreachable (ENETUNREACH)" 0 "connect unreachable: -1 ENETUNREACH
connect foreign v6: -1 ENETUNREACH
sendto unreachable: -1 ENETUNREACH"
fi

run_differential "python3 http.server in a thread and urllib.request" /usr/bin/python3 -c '
import http.server, threading, urllib.request
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *arguments): pass
    def do_GET(self):
        body = ("you asked for " + self.path).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
with urllib.request.urlopen("http://127.0.0.1:%d/index" % server.server_address[1], timeout=10) as response:
    print(response.status, response.read())
server.shutdown(); server.server_close()'

run_differential "python3 socketserver echo over IPv4 and IPv6" /usr/bin/python3 -c '
import socket, socketserver, threading
class Echo(socketserver.StreamRequestHandler):
    def handle(self): self.wfile.write(self.rfile.readline().upper())
class Server6(socketserver.ThreadingTCPServer): address_family = socket.AF_INET6
for server_class, host in ((socketserver.ThreadingTCPServer, "127.0.0.1"), (Server6, "::1")):
    with server_class((host, 0), Echo) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with socket.create_connection(server.server_address[:2]) as client:
            client.sendall(b"echo me\n"); print(host, client.makefile("rb").readline())
        server.shutdown()
with socketserver.UDPServer(("127.0.0.1", 0), type("U", (socketserver.BaseRequestHandler,), {
        "handle": lambda self: self.request[1].sendto(self.request[0][::-1], self.client_address)})) as udp:
    threading.Thread(target=udp.serve_forever, daemon=True).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); client.settimeout(10)
    client.sendto(b"datagram", udp.server_address); print(client.recvfrom(100)[0])
    udp.shutdown()'

run_differential "python3 asyncio streams on localhost" /usr/bin/python3 -c '
import asyncio
async def main():
    async def handle(reader, writer):
        line = await reader.readline(); writer.write(line[::-1]); await writer.drain(); writer.close()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    writer.write(b"asyncio\n"); await writer.drain(); print(await reader.read())
    writer.close(); server.close(); await server.wait_closed()
asyncio.run(main())'

run_differential "python3 getaddrinfo(localhost) and a connection to each answer" /usr/bin/python3 -c '
import socket
server = socket.create_server(("::", 0), family=socket.AF_INET6, dualstack_ipv6=True)
port = server.getsockname()[1]
for family, kind, protocol, _, address in socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM):
    with socket.socket(family, kind, protocol) as client:
        client.connect(address); connection, peer = server.accept()
        print(family.name, address[0], peer[0]); connection.close()'

run_differential "busybox nc as a client of a Python listener" /usr/bin/python3 -c '
import socket, subprocess
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
client = subprocess.Popen(["busybox", "nc", "127.0.0.1", str(server.getsockname()[1])], stdin=subprocess.PIPE)
connection, _ = server.accept()
client.stdin.write(b"through busybox nc\n"); client.stdin.close()
print(connection.makefile("rb").readline()); connection.close(); print(client.wait())'

run_differential "busybox wget and curl fetch a file from python3 http.server" /usr/bin/python3 -c '
import http.server, os, subprocess, threading
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *arguments): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Quiet(*a, directory="/usr/share"))
threading.Thread(target=server.serve_forever, daemon=True).start()
url = "http://127.0.0.1:%d/common-licenses/GPL-3" % server.server_address[1]
for command in (["busybox", "wget", "-q", "-O", "-", url], ["/usr/bin/curl", "-s", url]):
    if os.path.exists(command[0]) or command[0] == "busybox":
        result = subprocess.run(command, capture_output=True)
        print(command[0], result.returncode, len(result.stdout), result.stdout[:20])
server.shutdown()'

# AF_NETLINK NETLINK_ROUTE: the link and address dumps, as getifaddrs, if_nameindex and ip(8) use them. The host
# has more interfaces than lo: only lo's lines are compared.
run_differential "getifaddrs and if_nameindex see lo" /usr/bin/python3 -c '
import ctypes, ctypes.util, socket
print([entry for entry in socket.if_nameindex() if entry[1] == "lo"])
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
class sockaddr(ctypes.Structure):
    _fields_ = [("sa_family", ctypes.c_ushort), ("sa_data", ctypes.c_ubyte * 14)]
class ifaddrs(ctypes.Structure): pass
ifaddrs._fields_ = [("ifa_next", ctypes.POINTER(ifaddrs)), ("ifa_name", ctypes.c_char_p), ("ifa_flags", ctypes.c_uint),
                    ("ifa_addr", ctypes.POINTER(sockaddr)), ("ifa_netmask", ctypes.POINTER(sockaddr))]
head = ctypes.POINTER(ifaddrs)()
print("getifaddrs", libc.getifaddrs(ctypes.byref(head)))
rows, entry = [], head
while entry:
    if entry.contents.ifa_name == b"lo":
        rows.append((entry.contents.ifa_addr.contents.sa_family, hex(entry.contents.ifa_flags & 0xffff)))
    entry = entry.contents.ifa_next
print(sorted(rows))
netlink = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
netlink.bind((0, 0)); print("bound to a port id:", netlink.getsockname()[0] != 0)'
run_differential "busybox ip addr and ip link for lo" sh -c 'busybox ip addr show lo; busybox ip link show lo'
if [ -x /usr/sbin/ip ]; then
  run_differential "iproute2 ip addr and ip link for lo" sh -c '/usr/sbin/ip addr show lo; /usr/sbin/ip link show lo'
fi

e2e_finish
