/* tests/e2e/programs/loopback.c: IPv4/IPv6 loopback sockets, printed as port-independent facts so the output is
 * the same natively and in the sandbox: TCP and UDP, errors, readiness, v4-mapped addresses, interface ioctls. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <unistd.h>

#define CHECK(what, expression)                                                                                  \
    do {                                                                                                         \
        long result_ = (long)(expression);                                                                       \
        if (result_ < 0)                                                                                         \
            printf("%s: -1 %s\n", what, strerrorname_np(errno));                                                \
        else                                                                                                     \
            printf("%s: ok\n", what);                                                                            \
    } while (0)

/* The result, and errno's name when it failed. */
#define SHOW(what, expression)                                                                                   \
    do {                                                                                                         \
        long result_ = (long)(expression);                                                                       \
        printf("%s: %ld %s\n", what, result_, result_ < 0 ? strerrorname_np(errno) : "");                      \
    } while (0)

static struct sockaddr_in v4(const char *address, int port)
{
    struct sockaddr_in result = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, address, &result.sin_addr);
    return result;
}

static struct sockaddr_in6 v6(const char *address, int port)
{
    struct sockaddr_in6 result = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, address, &result.sin6_addr);
    return result;
}

static int port_of(int fd)
{
    struct sockaddr_storage name;
    socklen_t length = sizeof(name);
    if (getsockname(fd, (struct sockaddr *)&name, &length) < 0)
        return -1;
    return ntohs(name.ss_family == AF_INET ? ((struct sockaddr_in *)&name)->sin_port
                                           : ((struct sockaddr_in6 *)&name)->sin6_port);
}

/* "family address length" without the port. */
static void print_name(const char *what, int fd, bool peer)
{
    struct sockaddr_storage name;
    socklen_t length = sizeof(name);
    int result = peer ? getpeername(fd, (struct sockaddr *)&name, &length)
                      : getsockname(fd, (struct sockaddr *)&name, &length);
    if (result < 0) {
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
        return;
    }
    char text[INET6_ADDRSTRLEN] = "?";
    if (name.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&name)->sin_addr, text, sizeof(text));
    else if (name.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&name)->sin6_addr, text, sizeof(text));
    printf("%s: family %d %s length %u\n", what, name.ss_family, text, (unsigned)length);
}

static int listener4(const char *address)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in name = v4(address, 0);
    if (bind(fd, (struct sockaddr *)&name, sizeof(name)) < 0 || listen(fd, 8) < 0)
        printf("listener: %s\n", strerrorname_np(errno));
    return fd;
}

static int connect4(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = v4("127.0.0.1", port);
    if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
        printf("connect4: %s\n", strerrorname_np(errno));
    return fd;
}

static short poll_one(int fd, short events)
{
    struct pollfd entry = {.fd = fd, .events = events};
    return poll(&entry, 1, 0) == 1 ? entry.revents : 0;
}

static void tcp_basics(void)
{
    printf("-- tcp basics\n");
    int server = listener4("127.0.0.1");
    int port = port_of(server);
    printf("ephemeral in range: %d\n", port >= 32768 && port <= 60999);
    print_name("listener name", server, false);
    print_name("listener peer", server, true);
    int value;
    socklen_t size = sizeof(value);
    getsockopt(server, SOL_SOCKET, SO_ACCEPTCONN, &value, &size);
    printf("SO_ACCEPTCONN %d\n", value);
    printf("listener poll before: %#x\n", poll_one(server, POLLIN | POLLOUT));
    int client = connect4(port);
    printf("listener poll after: %#x\n", poll_one(server, POLLIN | POLLOUT));
    struct sockaddr_in peer;
    socklen_t peer_length = sizeof(peer);
    int connection = accept4(server, (struct sockaddr *)&peer, &peer_length, SOCK_CLOEXEC);
    printf("accepted: %d length %u family %d close-on-exec %d\n", connection >= 0, (unsigned)peer_length,
           peer.sin_family, (fcntl(connection, F_GETFD) & FD_CLOEXEC) != 0);
    printf("peer port matches: %d\n", ntohs(peer.sin_port) == port_of(client));
    print_name("client name", client, false);
    print_name("client peer", client, true);
    print_name("server end name", connection, false);
    printf("client poll: %#x\n", poll_one(client, POLLIN | POLLOUT | POLLRDHUP));
    CHECK("send", send(client, "hello", 5, 0));
    int readable = 0;
    ioctl(connection, FIONREAD, &readable);
    printf("FIONREAD %d SIOCINQ same %d\n", readable, ioctl(connection, SIOCINQ, &value) == 0 && value == readable);
    int queued = -1;
    CHECK("SIOCOUTQ", ioctl(client, SIOCOUTQ, &queued));
    printf("server poll: %#x\n", poll_one(connection, POLLIN | POLLOUT | POLLRDHUP));
    char buffer[64] = {0};
    ssize_t got = recv(connection, buffer, 3, MSG_PEEK);
    printf("peek %zd '%.3s' ", got, buffer);
    got = read(connection, buffer, sizeof(buffer));
    printf("read %zd '%.5s'\n", got, buffer);
    SHOW("dontwait", recv(connection, buffer, 1, MSG_DONTWAIT));
    /* half-close: the client's FIN is the server's end of file, the reverse direction still works */
    CHECK("shutdown SHUT_WR", shutdown(client, SHUT_WR));
    printf("server poll after FIN: %#x\n", poll_one(connection, POLLIN | POLLOUT | POLLRDHUP));
    printf("server read at EOF: %zd\n", read(connection, buffer, sizeof(buffer)));
    CHECK("server writes back", write(connection, "back", 4));
    printf("client reads %zd\n", read(client, buffer, sizeof(buffer)));
    SHOW("client send after SHUT_WR", send(client, "x", 1, MSG_NOSIGNAL));
    close(connection);
    printf("client poll after both FINs: %#x\n", poll_one(client, POLLIN | POLLOUT | POLLRDHUP));
    printf("client read: %zd\n", read(client, buffer, sizeof(buffer)));
    close(client);
    /* options */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    int one = 1;
    CHECK("TCP_NODELAY", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
    size = sizeof(value);
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size);
    printf("TCP_NODELAY %d\n", value != 0);
    int idle = 60;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &value, &size);
    printf("TCP_KEEPIDLE %d\n", value);
    CHECK("SO_KEEPALIVE", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
    struct linger linger = {1, 5};
    CHECK("SO_LINGER", setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger)));
    socklen_t linger_size = sizeof(linger);
    memset(&linger, 0, sizeof(linger));
    getsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, &linger_size);
    printf("SO_LINGER %d %d size %u\n", linger.l_onoff, linger.l_linger, (unsigned)linger_size);
    size = sizeof(value);
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &size);
    printf("SO_TYPE %d", value);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &size);
    printf(" SO_DOMAIN %d", value);
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &value, &size);
    printf(" SO_PROTOCOL %d\n", value);
    value = 10000;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(value));
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &size);
    printf("SO_RCVBUF doubled %d\n", value);
    CHECK("IP_TTL-less option on tcp level of udp", setsockopt(socket(AF_INET, SOCK_DGRAM, 0), IPPROTO_TCP,
                                                                 TCP_NODELAY, &one, sizeof(one)));
    printf("fresh socket poll: %#x\n", poll_one(fd, POLLIN | POLLOUT | POLLRDHUP));
    close(fd);
    close(server);
}

static void tcp_errors(void)
{
    printf("-- tcp errors\n");
    int server = listener4("127.0.0.1");
    int port = port_of(server);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = v4("127.0.0.1", port);
    CHECK("bind in use", bind(fd, (struct sockaddr *)&address, sizeof(address)));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    CHECK("bind in use with SO_REUSEADDR (listener)", bind(fd, (struct sockaddr *)&address, sizeof(address)));
    address = v4("0.0.0.0", port);
    CHECK("bind wildcard over listener", bind(fd, (struct sockaddr *)&address, sizeof(address)));
    address = v4("10.1.2.3", 0);
    CHECK("bind foreign address", bind(fd, (struct sockaddr *)&address, sizeof(address)));
    address = v4("127.0.0.2", 0);
    CHECK("bind 127.0.0.2", bind(fd, (struct sockaddr *)&address, sizeof(address)));
    CHECK("bind twice", bind(fd, (struct sockaddr *)&address, sizeof(address)));
    print_name("bound 127.0.0.2", fd, false);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("bind short length", bind(fd, (struct sockaddr *)&address, sizeof(address) - 1));
    struct sockaddr_in6 wrong = v6("::1", 0);
    CHECK("bind wrong family", bind(fd, (struct sockaddr *)&wrong, sizeof(struct sockaddr_in)));
    char buffer[16];
    CHECK("recv unconnected", recv(fd, buffer, 1, 0));
    CHECK("send unconnected", send(fd, "x", 1, MSG_NOSIGNAL));
    CHECK("shutdown unconnected", shutdown(fd, SHUT_RDWR));
    CHECK("getpeername unconnected", getpeername(fd, (struct sockaddr *)&address, &(socklen_t){sizeof(address)}));
    CHECK("accept unlistened", accept(fd, NULL, NULL));
    CHECK("listen on unbound", listen(fd, 1));
    printf("autobound by listen in range: %d\n", port_of(fd) >= 32768);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    /* a port nobody listens on: close a listener to free it */
    int gone = listener4("127.0.0.1");
    int gone_port = port_of(gone);
    close(gone);
    address = v4("127.0.0.1", gone_port);
    CHECK("connect refused", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    address = v4("127.0.0.1", gone_port);
    int reuse = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("rebind after close (no TIME_WAIT)", bind(reuse, (struct sockaddr *)&address, sizeof(address)));
    close(reuse);
    close(fd);
    /* connect to 0.0.0.0 reaches the host itself */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    address = v4("0.0.0.0", port);
    CHECK("connect 0.0.0.0", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    CHECK("connect again", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    int accepted = accept(server, NULL, NULL);
    /* close with unread data: the peer sees a reset */
    send(fd, "unread", 6, 0);
    close(accepted);
    printf("after reset poll: %#x\n", poll_one(fd, POLLIN | POLLOUT | POLLRDHUP));
    SHOW("recv after reset", recv(fd, buffer, sizeof(buffer), 0));
    SHOW("recv again", recv(fd, buffer, sizeof(buffer), 0));
    CHECK("send after reset", send(fd, "x", 1, MSG_NOSIGNAL));
    close(fd);
    /* write to a peer that closed: the first write goes, then EPIPE (and SIGPIPE without MSG_NOSIGNAL) */
    fd = connect4(port);
    accepted = accept(server, NULL, NULL);
    close(accepted);
    printf("read after peer close: %zd\n", read(fd, buffer, sizeof(buffer)));
    CHECK("first write after peer close", send(fd, "x", 1, MSG_NOSIGNAL));
    int error = -1;
    socklen_t size = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
    printf("SO_ERROR %s\n", error ? strerrorname_np(error) : "0");
    signal(SIGPIPE, SIG_IGN);
    CHECK("second write", write(fd, "y", 1));
    signal(SIGPIPE, SIG_DFL);
    close(fd);
    close(server);
}

static void nonblocking_connect(void)
{
    printf("-- non-blocking connect\n");
    int server = listener4("127.0.0.1");
    int port = port_of(server);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in address = v4("127.0.0.1", port);
    CHECK("connect", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    struct pollfd entry = {.fd = fd, .events = POLLOUT};
    int count = poll(&entry, 1, 1000);
    printf("poll: %d %#x\n", count, entry.revents);
    int error = -1;
    socklen_t size = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
    printf("SO_ERROR %d\n", error);
    CHECK("connect again", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    CHECK("connect third", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    close(fd);
    close(accept(server, NULL, NULL));
    close(server);
    int gone = listener4("127.0.0.1");
    address = v4("127.0.0.1", port_of(gone));
    close(gone);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("connect to nobody", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    entry = (struct pollfd){.fd = fd, .events = POLLIN | POLLOUT};
    count = poll(&entry, 1, 1000);
    printf("poll: %d %#x\n", count, entry.revents);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
    printf("SO_ERROR %s\n", strerrorname_np(error));
    CHECK("connect after the error was taken", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    CHECK("connect once more", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("connect to nobody", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    usleep(10000);
    CHECK("connect with the error pending", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    close(fd);
    /* connect(AF_UNSPEC): a listener stops listening, a connection is reset */
    server = listener4("127.0.0.1");
    struct sockaddr unspecified = {.sa_family = AF_UNSPEC};
    CHECK("AF_UNSPEC on a listener", connect(server, &unspecified, sizeof(unspecified)));
    int value = -1;
    size = sizeof(value);
    getsockopt(server, SOL_SOCKET, SO_ACCEPTCONN, &value, &size);
    printf("still listening %d\n", value);
    CHECK("listen again", listen(server, 1));
    fd = connect4(port_of(server));
    int connection = accept(server, NULL, NULL);
    CHECK("AF_UNSPEC on a connection", connect(fd, &unspecified, sizeof(unspecified)));
    char buffer[8];
    CHECK("peer recv", recv(connection, buffer, sizeof(buffer), 0));
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
    printf("own SO_ERROR %s\n", error ? strerrorname_np(error) : "0");
    CHECK("connect AF_UNSPEC short", connect(fd, &unspecified, 1));
    close(fd), close(connection), close(server);
}

static void epoll_echo(void)
{
    printf("-- epoll\n");
    int server = listener4("0.0.0.0");
    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = server};
    epoll_ctl(epoll, EPOLL_CTL_ADD, server, &event);
    pid_t child = fork();
    if (child == 0) {
        int fd = connect4(port_of(server));
        char buffer[32];
        send(fd, "ping", 4, 0);
        ssize_t got = recv(fd, buffer, sizeof(buffer), MSG_WAITALL);
        printf("child got %zd '%.*s'\n", got, (int)(got > 0 ? got : 0), buffer);
        _exit(0);
    }
    struct epoll_event ready;
    int count = epoll_wait(epoll, &ready, 1, 5000);
    printf("epoll listener: %d %#x\n", count, ready.events);
    int connection = accept(server, NULL, NULL);
    event = (struct epoll_event){.events = EPOLLIN | EPOLLRDHUP, .data.fd = connection};
    epoll_ctl(epoll, EPOLL_CTL_ADD, connection, &event);
    count = epoll_wait(epoll, &ready, 1, 5000);
    printf("epoll connection: %d %#x\n", count, ready.events);
    char buffer[16];
    printf("server got %zd\n", recv(connection, buffer, sizeof(buffer), 0));
    send(connection, "pong", 4, 0);
    send(connection, "PONG", 4, 0);
    shutdown(connection, SHUT_WR);
    waitpid(child, NULL, 0);
    count = epoll_wait(epoll, &ready, 1, 5000);
    printf("epoll after child exit: %d %#x\n", count, ready.events);
    close(connection);
    close(server);
    close(epoll);
}

struct writer_arguments {
    int fd;
    size_t total;
};

static void *writer(void *opaque)
{
    struct writer_arguments *arguments = opaque;
    char chunk[65536];
    memset(chunk, 'z', sizeof(chunk));
    size_t sent = 0;
    while (sent < arguments->total) {
        ssize_t done = send(arguments->fd, chunk, MIN(sizeof(chunk), arguments->total - sent), 0);
        if (done <= 0)
            break;
        sent += (size_t)done;
    }
    arguments->total = sent;
    shutdown(arguments->fd, SHUT_WR);
    return NULL;
}

static void *single_send(void *opaque)
{
    struct writer_arguments *arguments = opaque;
    char *data = calloc(1, arguments->total);
    ssize_t sent = send(arguments->fd, data, arguments->total, 0);
    arguments->total = sent < 0 ? 0 : (size_t)sent;
    free(data);
    return NULL;
}

static void *late_accept(void *opaque)
{
    int server = *(int *)opaque;
    usleep(200 * 1000);
    close(accept(server, NULL, NULL));
    return NULL;
}

static void blocking_edges(void)
{
    printf("-- blocking edges\n");
    /* one blocking send larger than any buffer returns whole */
    int server = listener4("127.0.0.1");
    int client = connect4(port_of(server));
    int connection = accept(server, NULL, NULL);
    struct writer_arguments arguments = {client, 3u << 20};
    pthread_t thread;
    pthread_create(&thread, NULL, single_send, &arguments);
    size_t received = 0;
    char buffer[8192];
    while (received < (3u << 20)) {
        ssize_t got = read(connection, buffer, sizeof(buffer));
        if (got <= 0)
            break;
        received += (size_t)got;
    }
    pthread_join(thread, NULL);
    printf("one send of 3 MiB returned %zu, received %zu\n", arguments.total, received);
    close(client);
    close(connection);
    close(server);
    /* a full backlog: the connector waits until accept makes room */
    server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = v4("127.0.0.1", 0);
    bind(server, (struct sockaddr *)&address, sizeof(address));
    listen(server, 0);
    int first = connect4(port_of(server));
    pthread_create(&thread, NULL, late_accept, &server);
    int second = connect4(port_of(server));
    pthread_join(thread, NULL);
    int accepted = accept(server, NULL, NULL);
    printf("second connector got through after accept: %d\n", accepted >= 0);
    close(first), close(second), close(accepted), close(server);
    /* SIGPIPE by default kills the writer */
    server = listener4("127.0.0.1");
    pid_t child = fork();
    if (child == 0) {
        int fd = connect4(port_of(server));
        sleep(1);
        send(fd, "a", 1, 0);
        usleep(100 * 1000);
        send(fd, "b", 1, 0);
        _exit(0);
    }
    close(accept(server, NULL, NULL));
    int status;
    waitpid(child, &status, 0);
    printf("writer killed by SIGPIPE: %d\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE);
    close(server);
}

static void bulk_transfer(void)
{
    printf("-- bulk transfer (writer blocks on a full buffer)\n");
    int server = listener4("127.0.0.1");
    int client = connect4(port_of(server));
    int connection = accept(server, NULL, NULL);
    struct writer_arguments arguments = {client, 8u << 20};
    pthread_t thread;
    pthread_create(&thread, NULL, writer, &arguments);
    size_t received = 0;
    char buffer[10000];
    ssize_t got;
    while ((got = read(connection, buffer, sizeof(buffer))) > 0)
        received += (size_t)got;
    pthread_join(thread, NULL);
    printf("sent %zu received %zu\n", arguments.total, received);
    /* a non-blocking writer fills the buffer and gets EAGAIN */
    fcntl(connection, F_SETFL, O_NONBLOCK);
    char chunk[4096] = {0};
    ssize_t result;
    size_t filled = 0;
    while ((result = send(connection, chunk, sizeof(chunk), MSG_NOSIGNAL)) > 0)
        filled += (size_t)result;
    printf("filled some: %d then %s, POLLOUT %d\n", filled > 0, strerrorname_np(errno),
           (poll_one(connection, POLLOUT) & POLLOUT) != 0);
    close(client);
    close(connection);
    close(server);
}

static void ipv6(void)
{
    printf("-- ipv6\n");
    int server = socket(AF_INET6, SOCK_STREAM, 0);
    int value;
    socklen_t size = sizeof(value);
    getsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &value, &size);
    printf("IPV6_V6ONLY default %d\n", value);
    struct sockaddr_in6 any = v6("::", 0);
    CHECK("bind ::", bind(server, (struct sockaddr *)&any, sizeof(any)));
    CHECK("listen", listen(server, 4));
    print_name("v6 listener", server, false);
    int port = port_of(server);
    int client4 = connect4(port);
    int connection = accept(server, NULL, NULL);
    print_name("v4 client seen by v6 server", connection, true);
    print_name("v6 server end local", connection, false);
    close(connection);
    int client6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 loop = v6("::1", port);
    CHECK("connect ::1", connect(client6, (struct sockaddr *)&loop, sizeof(loop)));
    connection = accept(server, NULL, NULL);
    print_name("v6 peer", connection, true);
    print_name("v6 client local", client6, false);
    close(connection);
    close(client6);
    client6 = socket(AF_INET6, SOCK_STREAM, 0);
    loop = v6("::ffff:127.0.0.1", port);
    CHECK("connect v4-mapped", connect(client6, (struct sockaddr *)&loop, sizeof(loop)));
    print_name("v4-mapped client local", client6, false);
    close(client6);
    close(accept(server, NULL, NULL));
    int four = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in same = v4("127.0.0.1", port);
    CHECK("bind v4 on the v6 wildcard's port", bind(four, (struct sockaddr *)&same, sizeof(same)));
    close(four);
    int only = socket(AF_INET6, SOCK_STREAM, 0);
    int one = 1;
    CHECK("IPV6_V6ONLY", setsockopt(only, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
    struct sockaddr_in6 mapped = v6("::ffff:127.0.0.1", 0);
    CHECK("v6only bind v4-mapped", bind(only, (struct sockaddr *)&mapped, sizeof(mapped)));
    CHECK("bind ::1", bind(only, (struct sockaddr *)&(struct sockaddr_in6){.sin6_family = AF_INET6,
                                                                         .sin6_addr = IN6ADDR_LOOPBACK_INIT},
                           sizeof(struct sockaddr_in6)));
    CHECK("IPV6_V6ONLY after bind", setsockopt(only, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
    close(only);
    int bad = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 foreign = v6("2001:db8::1", 0);
    CHECK("bind foreign v6", bind(bad, (struct sockaddr *)&foreign, sizeof(foreign)));
    CHECK("bind short v6", bind(bad, (struct sockaddr *)&any, 20));
    CHECK("bind RFC2133 length", bind(bad, (struct sockaddr *)&any, 24));
    close(bad);
    close(client4);
    close(server);
}

static void udp(void)
{
    printf("-- udp\n");
    int receiver = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = v4("127.0.0.1", 0);
    bind(receiver, (struct sockaddr *)&address, sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(receiver, (struct sockaddr *)&address, &length);
    int sender = socket(AF_INET, SOCK_DGRAM, 0);
    print_name("unbound udp", sender, false);
    CHECK("sendto", sendto(sender, "first", 5, 0, (struct sockaddr *)&address, sizeof(address)));
    CHECK("sendto empty", sendto(sender, "", 0, 0, (struct sockaddr *)&address, sizeof(address)));
    CHECK("sendto third", sendto(sender, "third message", 13, 0, (struct sockaddr *)&address, sizeof(address)));
    print_name("autobound udp", sender, false);
    int readable = -1;
    ioctl(receiver, FIONREAD, &readable);
    printf("FIONREAD first datagram %d\n", readable);
    char buffer[64];
    struct sockaddr_in from;
    socklen_t from_length = sizeof(from);
    ssize_t got = recvfrom(receiver, buffer, sizeof(buffer), 0, (struct sockaddr *)&from, &from_length);
    printf("got %zd from port matches %d length %u\n", got, ntohs(from.sin_port) == port_of(sender),
           (unsigned)from_length);
    printf("empty %zd\n", recv(receiver, buffer, sizeof(buffer), 0));
    struct iovec part = {buffer, 5};
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1};
    got = recvmsg(receiver, &message, 0);
    printf("truncated %zd flags MSG_TRUNC %d\n", got, (message.msg_flags & MSG_TRUNC) != 0);
    sendto(sender, "abcdef", 6, 0, (struct sockaddr *)&address, sizeof(address));
    printf("MSG_TRUNC returns %zd\n", recv(receiver, buffer, 2, MSG_TRUNC));
    static char big[70000];
    CHECK("65507 bytes", sendto(sender, big, 65507, 0, (struct sockaddr *)&address, sizeof(address)));
    CHECK("65508 bytes", sendto(sender, big, 65508, 0, (struct sockaddr *)&address, sizeof(address)));
    printf("big received %zd\n", recv(receiver, big, sizeof(big), 0));
    CHECK("send unconnected", send(sender, "x", 1, 0));
    CHECK("listen udp", listen(sender, 1));
    /* connected: datagrams from others are filtered */
    int other = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sender_address;
    length = sizeof(sender_address);
    getsockname(sender, (struct sockaddr *)&sender_address, &length);
    CHECK("connect", connect(receiver, (struct sockaddr *)&sender_address, sizeof(sender_address)));
    print_name("udp peer", receiver, true);
    sendto(other, "stranger", 8, 0, (struct sockaddr *)&address, sizeof(address));
    sendto(sender, "friend", 6, 0, (struct sockaddr *)&address, sizeof(address));
    got = recv(receiver, buffer, sizeof(buffer), MSG_DONTWAIT);
    printf("connected receives '%.*s'\n", (int)(got > 0 ? got : 0), buffer);
    /* ECONNREFUSED on a connected socket whose peer has no socket */
    int lonely = socket(AF_INET, SOCK_DGRAM, 0);
    int vanished = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in vanished_address = v4("127.0.0.1", 0);
    bind(vanished, (struct sockaddr *)&vanished_address, sizeof(vanished_address));
    length = sizeof(vanished_address);
    getsockname(vanished, (struct sockaddr *)&vanished_address, &length);
    close(vanished);
    connect(lonely, (struct sockaddr *)&vanished_address, sizeof(vanished_address));
    CHECK("send to nobody", send(lonely, "x", 1, 0));
    printf("poll: %#x\n", poll_one(lonely, POLLIN | POLLOUT));
    CHECK("next send", send(lonely, "x", 1, 0));
    CHECK("send again", send(lonely, "x", 1, 0));
    CHECK("recv", recv(lonely, buffer, 1, MSG_DONTWAIT));
    CHECK("disconnect (AF_UNSPEC)", connect(lonely, (struct sockaddr *)&(struct sockaddr){.sa_family = AF_UNSPEC},
                                            sizeof(struct sockaddr)));
    CHECK("getpeername disconnected", getpeername(lonely, (struct sockaddr *)&from, &from_length));
    int one = 1;
    CHECK("SO_BROADCAST", setsockopt(lonely, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)));
    /* IPv6 UDP receives IPv4 with a v4-mapped source */
    int six = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 any = v6("::", 0);
    bind(six, (struct sockaddr *)&any, sizeof(any));
    struct sockaddr_in to_six = v4("127.0.0.1", port_of(six));
    sendto(sender, "to six", 6, 0, (struct sockaddr *)&to_six, sizeof(to_six));
    struct sockaddr_in6 from6;
    socklen_t from6_length = sizeof(from6);
    got = recvfrom(six, buffer, sizeof(buffer), 0, (struct sockaddr *)&from6, &from6_length);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &from6.sin6_addr, text, sizeof(text));
    printf("six got %zd from %s length %u\n", got, text, (unsigned)from6_length);
    /* reuse rules: two UDP sockets with SO_REUSEADDR share a port */
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in shared = v4("127.0.0.1", 0);
    bind(a, (struct sockaddr *)&shared, sizeof(shared));
    shared.sin_port = htons((uint16_t)port_of(a));
    CHECK("udp SO_REUSEADDR share", bind(b, (struct sockaddr *)&shared, sizeof(shared)));
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK("udp without SO_REUSEADDR", bind(c, (struct sockaddr *)&shared, sizeof(shared)));
    close(a), close(b), close(c), close(six), close(lonely), close(other), close(sender), close(receiver);
}

static void reuse_port(void)
{
    printf("-- SO_REUSEPORT and SO_REUSEADDR\n");
    int one = 1;
    int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    struct sockaddr_in address = v4("127.0.0.1", 0);
    bind(a, (struct sockaddr *)&address, sizeof(address));
    CHECK("listen a", listen(a, 1));
    address.sin_port = htons((uint16_t)port_of(a));
    CHECK("bind b (SO_REUSEPORT)", bind(b, (struct sockaddr *)&address, sizeof(address)));
    CHECK("listen b", listen(b, 1));
    close(a), close(b);
    /* SO_REUSEADDR: two bound, not listening, then only one may listen */
    int c = socket(AF_INET, SOCK_STREAM, 0), d = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    address.sin_port = 0;
    bind(c, (struct sockaddr *)&address, sizeof(address));
    address.sin_port = htons((uint16_t)port_of(c));
    CHECK("bind d (SO_REUSEADDR)", bind(d, (struct sockaddr *)&address, sizeof(address)));
    CHECK("listen c", listen(c, 1));
    CHECK("listen d", listen(d, 1));
    /* a live accepted connection keeps the port; SO_REUSEADDR gets past it */
    int client = connect4(port_of(c));
    int connection = accept(c, NULL, NULL);
    close(c), close(d);
    int e = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("rebind while a connection lives", bind(e, (struct sockaddr *)&address, sizeof(address)));
    setsockopt(e, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    CHECK("rebind with SO_REUSEADDR", bind(e, (struct sockaddr *)&address, sizeof(address)));
    CHECK("listen", listen(e, 1));
    close(e), close(client), close(connection);
}

static void interfaces(void)
{
    printf("-- interfaces\n");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    strcpy(request.ifr_name, "lo");
    CHECK("SIOCGIFFLAGS", ioctl(fd, SIOCGIFFLAGS, &request));
    printf("flags %#x\n", request.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING));
    CHECK("SIOCGIFINDEX", ioctl(fd, SIOCGIFINDEX, &request));
    printf("index %d\n", request.ifr_ifindex);
    CHECK("SIOCGIFMTU", ioctl(fd, SIOCGIFMTU, &request));
    printf("mtu %d\n", request.ifr_mtu);
    CHECK("SIOCGIFADDR", ioctl(fd, SIOCGIFADDR, &request));
    printf("address %s\n", inet_ntoa(((struct sockaddr_in *)&request.ifr_addr)->sin_addr));
    CHECK("SIOCGIFNETMASK", ioctl(fd, SIOCGIFNETMASK, &request));
    printf("netmask %s\n", inet_ntoa(((struct sockaddr_in *)&request.ifr_netmask)->sin_addr));
    request.ifr_ifindex = 1;
    CHECK("SIOCGIFNAME", ioctl(fd, SIOCGIFNAME, &request));
    printf("name %s\n", request.ifr_name);
    strcpy(request.ifr_name, "nosuch0");
    CHECK("SIOCGIFFLAGS unknown", ioctl(fd, SIOCGIFFLAGS, &request));
    struct ifreq list[16];
    struct ifconf conf = {.ifc_len = sizeof(list), .ifc_req = list};
    CHECK("SIOCGIFCONF", ioctl(fd, SIOCGIFCONF, &conf));
    for (int i = 0; i < conf.ifc_len / (int)sizeof(struct ifreq); i++)
        if (strcmp(list[i].ifr_name, "lo") == 0)
            printf("conf lo %s\n", inet_ntoa(((struct sockaddr_in *)&list[i].ifr_addr)->sin_addr));
    printf("if_nametoindex lo %u\n", if_nametoindex("lo"));
    close(fd);
}

static void families(void)
{
    printf("-- families\n");
    CHECK("AF_INET SOCK_SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0));
    CHECK("AF_INET stream udp", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    CHECK("AF_INET dgram tcp", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    CHECK("AF_INET6 dgram udp", socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP));
    int pair[2];
    CHECK("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, pair));
}

/* Only in the sandbox: the host running the native side may well have a route to these. */
static void unreachable(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = v4("192.0.2.1", 80);
    CHECK("connect unreachable", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    close(fd);
    fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 foreign = v6("2001:db8::1", 80);
    CHECK("connect foreign v6", connect(fd, (struct sockaddr *)&foreign, sizeof(foreign)));
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    address = v4("198.51.100.7", 53);
    CHECK("sendto unreachable", sendto(fd, "x", 1, 0, (struct sockaddr *)&address, sizeof(address)));
    close(fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "unreachable") == 0) {
        unreachable();
        return 0;
    }
    tcp_basics();
    tcp_errors();
    nonblocking_connect();
    epoll_echo();
    bulk_transfer();
    blocking_edges();
    ipv6();
    udp();
    reuse_port();
    interfaces();
    families();
    return 0;
}
