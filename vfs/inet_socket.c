/* vfs/inet_socket.c: IPv4 and IPv6 stream (TCP) and datagram (UDP) sockets on the sandbox's loopback interface:
 * connections, half-close and resets, ports and addresses, options, with Linux's visible semantics and no packets. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "vfs/internal.h"

#define TCP_RECEIVE_DEFAULT 131072   /* net.ipv4.tcp_rmem[1] */
#define TCP_SEND_DEFAULT 16384       /* net.ipv4.tcp_wmem[1] */
#define UDP_BUFFER_DEFAULT 212992    /* net.core.rmem_default / wmem_default */
#define LISTEN_MAXIMUM 4096          /* net.core.somaxconn */
#define UDP4_PAYLOAD_MAXIMUM 65507   /* 65535 - IPv4 header - UDP header */
#define UDP6_PAYLOAD_MAXIMUM 65527   /* 65535 - UDP header: the IPv6 header is outside the payload length */
#define EPHEMERAL_LOW 32768          /* net.ipv4.ip_local_port_range */
#define EPHEMERAL_HIGH 60999
#define SIN6_LENGTH_RFC2133 24       /* a sockaddr_in6 without sin6_scope_id, which Linux still accepts */

struct inet_datagram {
    struct list_node node;
    uint8_t *data;
    size_t length, consumed;
    struct inet_endpoint source;
};

enum inet_state { INET_CLOSED, INET_LISTENING, INET_CONNECTING, INET_CONNECTED };

struct inet_socket {
    int family, type, protocol;
    enum inet_state state;
    bool bound;
    struct inet_port_user port;      /* our entry in the port table while bound */
    struct inet_endpoint local;      /* getsockname: the bound or connected local address */
    struct inet_endpoint remote;     /* connected peer (stream) or connect(2) destination (datagram) */
    bool has_remote;
    struct inet_socket *peer;        /* stream: the other end while it exists */
    struct inet_socket *listener;    /* stream: the listener we wait for room in (INET_CONNECTING) */
    bool report_connected;           /* a connect returned EINPROGRESS: the next connect returns 0 */
    struct list_node messages;       /* receive queue: bytes for streams, datagrams for UDP */
    size_t queued_bytes, receive_buffer, send_buffer;
    bool read_shutdown;              /* RCV_SHUTDOWN: shutdown(SHUT_RD), the peer's FIN, or a reset */
    bool write_shutdown;             /* SEND_SHUTDOWN: shutdown(SHUT_WR) or a reset */
    bool peer_finished;              /* the peer sent FIN: reads end with 0 once the queue is empty */
    bool peer_closed;                /* the peer's socket is gone: our next write draws a reset */
    int error;                       /* pending error (sk_err), reported once by SO_ERROR or the next call */
    struct list_node pending;        /* listening: established connections not yet accepted */
    struct list_node pending_node;
    struct list_node connecting;     /* listening: connectors waiting for backlog room */
    struct list_node connecting_node;
    int backlog, pending_count;
    /* options */
    bool reuse_address, reuse_port, keepalive, broadcast, v6only, no_delay, linger_on;
    int linger_seconds, keep_idle, keep_interval, keep_count;
    uint32_t uid;
    struct wait_queue queue;
    struct vfs_inode *inode;
};

static struct inet_port_table port_table;

static struct inet_port_table *ports(void)
{
    static bool ready;
    if (!ready) {
        inet_port_table_init(&port_table, EPHEMERAL_LOW, EPHEMERAL_HIGH);
        ready = true;
    }
    return &port_table;
}

static struct inet_socket *socket_of(struct vfs_file *file) { return file->private_data; }

static void notify(struct inet_socket *socket, uint32_t events)
{
    if (socket)
        wait_queue_notify(&socket->queue, events);
}

static bool is_stream(const struct inet_socket *socket) { return socket->type == SOCK_STREAM; }

static struct inet_socket *inet_socket_new(int family, int type, int protocol, uint32_t uid)
{
    struct inet_socket *socket = xcalloc(1, sizeof(*socket));
    socket->family = family;
    socket->type = type;
    socket->protocol = protocol;
    socket->uid = uid;
    list_init(&socket->messages);
    list_init(&socket->pending);
    list_init(&socket->pending_node);
    list_init(&socket->connecting);
    list_init(&socket->connecting_node);
    list_init(&socket->port.node);
    wait_queue_init(&socket->queue);
    socket->receive_buffer = type == SOCK_STREAM ? TCP_RECEIVE_DEFAULT : UDP_BUFFER_DEFAULT;
    socket->send_buffer = type == SOCK_STREAM ? TCP_SEND_DEFAULT : UDP_BUFFER_DEFAULT;
    socket->keep_idle = 7200;
    socket->keep_interval = 75;
    socket->keep_count = 9;
    if (family == AF_INET) {
        uint32_t any = 0;
        inet_endpoint_set_v4(&socket->local, &any, 0);
    }
    socket->inode = vfs_socket_inode_new();
    return socket;
}

static void drop_messages(struct inet_socket *socket)
{
    LIST_FOR_EACH_SAFE(node, next, &socket->messages) {
        struct inet_datagram *message = CONTAINER_OF(node, struct inet_datagram, node);
        list_remove(node);
        free(message->data);
        free(message);
    }
    socket->queued_bytes = 0;
}

static void unbind(struct inet_socket *socket)
{
    if (socket->bound)
        inet_ports_unbind(&socket->port);
    socket->bound = false;
}

/* A connection ends abruptly for socket: what Linux's tcp_reset does on receiving RST. */
static void reset(struct inet_socket *socket, int error)
{
    socket->error = error;
    socket->read_shutdown = socket->write_shutdown = true;
    socket->peer = NULL;
    socket->state = INET_CLOSED;
    notify(socket, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
}

static void destroy(struct inet_socket *socket);
static int take_error(struct inet_socket *socket);

/* Leave a stream connection as close(2) does: FIN normally, RST when unread data is dropped or SO_LINGER is
 * on with a zero timeout. */
static void close_connection(struct inet_socket *socket)
{
    struct inet_socket *peer = socket->peer;
    if (!peer)
        return;
    socket->peer = NULL;
    if (!list_empty(&socket->messages) || (socket->linger_on && socket->linger_seconds == 0)) {
        reset(peer, ECONNRESET);
        return;
    }
    peer->peer = NULL;
    peer->peer_closed = true;
    peer->peer_finished = true;
    peer->read_shutdown = true;
    notify(peer, POLLIN | POLLRDNORM | POLLRDHUP);
}

static void refuse_connectors(struct inet_socket *listener)
{
    LIST_FOR_EACH_SAFE(node, next, &listener->connecting) {
        struct inet_socket *connector = CONTAINER_OF(node, struct inet_socket, connecting_node);
        list_remove(node);
        list_init(node);
        connector->listener = NULL;
        reset(connector, ECONNREFUSED);
        connector->read_shutdown = connector->write_shutdown = true;
    }
}

/* Connections nobody accepted are reset and waiting connectors refused, as when a Linux listener closes. */
static void stop_listening(struct inet_socket *socket)
{
    LIST_FOR_EACH_SAFE(node, next, &socket->pending) {
        struct inet_socket *server_end = CONTAINER_OF(node, struct inet_socket, pending_node);
        list_remove(node);
        list_init(node);
        if (server_end->peer) {
            reset(server_end->peer, ECONNRESET);
            server_end->peer = NULL;
        }
        destroy(server_end);
    }
    socket->pending_count = 0;
    refuse_connectors(socket);
    socket->port.listening = false;
}

static void destroy(struct inet_socket *socket)
{
    if (is_stream(socket))
        close_connection(socket);
    if (socket->listener) {
        list_remove(&socket->connecting_node);
        socket->listener = NULL;
    }
    stop_listening(socket);
    unbind(socket);
    drop_messages(socket);
    LIST_FOR_EACH_SAFE(node, next, &socket->queue.waiters) list_remove(node);
    vfs_inode_put(socket->inode);
    free(socket);
}

/* ---- addresses ---- */

static int payload_maximum(const struct inet_socket *socket)
{
    return socket->family == AF_INET ? UDP4_PAYLOAD_MAXIMUM : UDP6_PAYLOAD_MAXIMUM;
}

/* The sockaddr a socket of family shows for endpoint. */
static socklen_t endpoint_to_sockaddr(int family, const struct inet_endpoint *endpoint, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)out;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(endpoint->port);
        memcpy(&v4->sin_addr, endpoint->address + 12, 4);
        return sizeof(*v4);
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(endpoint->port);
    memcpy(&v6->sin6_addr, endpoint->address, 16);
    return sizeof(*v6);
}

enum address_use { FOR_BIND, FOR_CONNECT, FOR_SEND };

/* Read a sockaddr given to a socket of the socket's family, with Linux's length and family checks. */
static int parse_address(const struct inet_socket *socket, const void *address, socklen_t length,
                         enum address_use use, struct inet_endpoint *out)
{
    memset(out, 0, sizeof(*out));
    if (socket->family == AF_INET) {
        struct sockaddr_in v4;
        if (length < sizeof(v4))
            return -EINVAL;
        memcpy(&v4, address, sizeof(v4));
        if (v4.sin_family != AF_INET) {
            /* Old programs bind AF_UNSPEC/INADDR_ANY; UDP sends take AF_UNSPEC as AF_INET. */
            bool tolerated = v4.sin_family == AF_UNSPEC &&
                             (use == FOR_SEND || (use == FOR_BIND && v4.sin_addr.s_addr == htonl(INADDR_ANY)));
            if (!tolerated)
                return -EAFNOSUPPORT;
        }
        inet_endpoint_set_v4(out, &v4.sin_addr, ntohs(v4.sin_port));
        return 0;
    }
    struct sockaddr_in6 v6;
    if (length < SIN6_LENGTH_RFC2133)
        return -EINVAL;
    memset(&v6, 0, sizeof(v6));
    memcpy(&v6, address, MIN(length, (socklen_t)sizeof(v6)));
    if (v6.sin6_family != AF_INET6)
        return -EAFNOSUPPORT;
    memcpy(out->address, &v6.sin6_addr, 16);
    out->port = ntohs(v6.sin6_port);
    return 0;
}

/* Where traffic to destination goes: an unspecified address means this host (Linux sends it to loopback); any
 * address outside loopback is unreachable. */
static int route(const struct inet_socket *socket, struct inet_endpoint *destination)
{
    if (socket->family == AF_INET6 && inet_address_is_v4(destination->address) && socket->v6only)
        return -ENETUNREACH;
    if (inet_address_is_any(destination->address)) {
        if (inet_address_is_v4(destination->address) || socket->family == AF_INET) {
            uint32_t loopback = htonl(INADDR_LOOPBACK);
            inet_endpoint_set_v4(destination, &loopback, destination->port);
        } else {
            memset(destination->address, 0, 16);
            destination->address[15] = 1;
        }
        return 0;
    }
    return inet_address_is_loopback(destination->address) ? 0 : -ENETUNREACH;
}

/* connect(2)'s address, checked and routed. */
static int connect_destination(const struct inet_socket *socket, const void *address, socklen_t length,
                               struct inet_endpoint *destination)
{
    int error = parse_address(socket, address, length, FOR_CONNECT, destination);
    return error < 0 ? error : route(socket, destination);
}

/* The source address toward destination: the bound one, or the loopback interface's own. */
static void source_toward(const struct inet_socket *socket, const struct inet_endpoint *destination,
                          struct inet_endpoint *source)
{
    *source = socket->local;
    if (!inet_address_is_any(source->address))
        return;
    if (inet_address_is_v4(destination->address)) {
        uint32_t loopback = htonl(INADDR_LOOPBACK);
        inet_endpoint_set_v4(source, &loopback, socket->local.port);
    } else {
        memset(source->address, 0, 16);
        source->address[15] = 1;
    }
}

static int bind_endpoint(struct inet_socket *socket, const struct inet_endpoint *endpoint)
{
    socket->port = (struct inet_port_user){
        .family = socket->family, .protocol = socket->protocol, .endpoint = *endpoint,
        .v6only = socket->v6only, .reuse_address = socket->reuse_address, .reuse_port = socket->reuse_port,
        .listening = false, .uid = socket->uid, .owner = socket,
    };
    int error = inet_ports_bind(ports(), &socket->port);
    if (error < 0) {
        list_init(&socket->port.node);
        return error;
    }
    socket->bound = true;
    socket->local = socket->port.endpoint;
    return 0;
}

/* Linux binds an unbound socket to the wildcard address and an ephemeral port on first use. */
static int autobind(struct inet_socket *socket)
{
    if (socket->bound)
        return 0;
    struct inet_endpoint any = {0};
    if (socket->family == AF_INET) {
        uint32_t zero = 0;
        inet_endpoint_set_v4(&any, &zero, 0);
    }
    return bind_endpoint(socket, &any);
}

/* ---- file operations ---- */

static ssize_t inet_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_unix_receive receive = {.data = buffer, .length = length};
    return vfs_inet_receive(file, &receive);
}

static ssize_t inet_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_unix_send send = {.data = buffer, .length = length};
    return vfs_inet_send(file, &send);
}

static size_t space_in(const struct inet_socket *receiver)
{
    return receiver->queued_bytes >= receiver->receive_buffer ? 0 : receiver->receive_buffer - receiver->queued_bytes;
}

/* Linux's tcp_poll and udp_poll, as the application sees them. */
static uint32_t inet_poll(struct vfs_file *file)
{
    struct inet_socket *socket = socket_of(file);
    uint32_t events = socket->error ? POLLERR : 0;
    if (!is_stream(socket)) {
        if (!list_empty(&socket->messages))
            events |= POLLIN | POLLRDNORM;
        if (socket->read_shutdown)
            events |= POLLIN | POLLRDNORM | POLLRDHUP;
        if (socket->read_shutdown && socket->write_shutdown)
            events |= POLLHUP;
        return events | POLLOUT | POLLWRNORM | POLLWRBAND;
    }
    if (socket->state == INET_LISTENING)
        return events | (socket->pending_count ? POLLIN | POLLRDNORM : 0);
    if (socket->state == INET_CONNECTING)
        return events;
    if ((socket->read_shutdown && socket->write_shutdown) || socket->state == INET_CLOSED)
        events |= POLLHUP;
    if (socket->read_shutdown)
        events |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (!list_empty(&socket->messages))
        events |= POLLIN | POLLRDNORM;
    if (socket->write_shutdown || !socket->peer || space_in(socket->peer) > 0)
        events |= POLLOUT | POLLWRNORM;
    return events;
}

static int inet_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size)
{
    struct inet_socket *socket = socket_of(file);
    if (command != FIONREAD && command != TIOCOUTQ)
        return -ENOTTY;
    if (argument_size < sizeof(int))
        return -EFAULT;
    if (is_stream(socket) && socket->state == INET_LISTENING)
        return -EINVAL;
    int count = 0;
    if (command == FIONREAD && !list_empty(&socket->messages)) {
        struct inet_datagram *first = CONTAINER_OF(socket->messages.next, struct inet_datagram, node);
        count = is_stream(socket) ? (int)socket->queued_bytes : (int)first->length;
    }
    /* TIOCOUTQ (SIOCOUTQ): the loopback hands every byte to the peer at once, so nothing waits to be sent. */
    memcpy(argument, &count, sizeof(count));
    return 0;
}

static void inet_release(struct vfs_file *file)
{
    struct inet_socket *socket = socket_of(file);
    if (!socket)
        return;
    file->queue = &file->own_queue;
    destroy(socket);
}

static void inet_describe(struct vfs_file *file, struct text_buffer *out)
{
    text_buffer_append(out, "socket:[%lu]", (unsigned long)file->inode->inode_number);
}

static int inet_fsync(struct vfs_file *file)
{
    (void)file;
    return -EINVAL;
}

static const struct vfs_file_operations inet_file_operations = {
    .read = inet_read,
    .write = inet_write,
    .poll = inet_poll,
    .ioctl = inet_ioctl,
    .release = inet_release,
    .describe = inet_describe,
    .fsync = inet_fsync,
    .stream = true,
};

static struct vfs_file *file_for(struct inet_socket *socket, int flags)
{
    struct vfs_file *file = vfs_file_new(NULL, socket->inode, &inet_file_operations, O_RDWR | (flags & O_NONBLOCK));
    file->private_data = socket;
    file->queue = &socket->queue;
    return file;
}

bool vfs_file_is_inet_socket(struct vfs_file *file) { return file && file->ops == &inet_file_operations; }

int vfs_inet_socket_type(struct vfs_file *file) { return socket_of(file)->type; }

int vfs_inet_socket_create(int family, int type, int protocol, int flags, uint32_t uid, struct vfs_file **out)
{
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (protocol < 0 || protocol >= 263 /* IPPROTO_MAX */)
        return -EINVAL;
    switch (type) {
    case SOCK_STREAM:
        if (protocol != 0 && protocol != IPPROTO_TCP)
            return -EPROTONOSUPPORT;
        protocol = IPPROTO_TCP;
        break;
    case SOCK_DGRAM:
        if (protocol == (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6))
            return -EACCES;  /* ping sockets: net.ipv4.ping_group_range defaults to nobody */
        if (protocol != 0 && protocol != IPPROTO_UDP)
            return -EPROTONOSUPPORT;
        protocol = IPPROTO_UDP;
        break;
    case SOCK_RAW:
        return -EPERM;  /* needs CAP_NET_RAW, which the sandbox does not grant */
    default:
        return -ESOCKTNOSUPPORT;
    }
    *out = file_for(inet_socket_new(family, type, protocol, uid), flags);
    return 0;
}

/* ---- bind, listen, connect, accept ---- */

int vfs_inet_bind(struct vfs_file *file, const void *address, socklen_t length, bool privileged)
{
    struct inet_socket *socket = socket_of(file);
    struct inet_endpoint endpoint;
    int error = parse_address(socket, address, length, FOR_BIND, &endpoint);
    if (error < 0)
        return error;
    if (socket->family == AF_INET6 && inet_address_is_v4(endpoint.address) && socket->v6only)
        return -EINVAL;
    if (!inet_address_is_any(endpoint.address) && !inet_address_is_loopback(endpoint.address))
        return -EADDRNOTAVAIL;
    if (endpoint.port != 0 && endpoint.port < 1024 && !privileged)
        return -EACCES;
    if (socket->bound || socket->state != INET_CLOSED)
        return -EINVAL;
    return bind_endpoint(socket, &endpoint);
}

int vfs_inet_listen(struct vfs_file *file, int backlog)
{
    struct inet_socket *socket = socket_of(file);
    if (!is_stream(socket))
        return -EOPNOTSUPP;
    if (socket->state != INET_CLOSED && socket->state != INET_LISTENING)
        return -EINVAL;
    if (socket->state == INET_CLOSED && (socket->write_shutdown || socket->has_remote))
        return -EINVAL;  /* a connection that ended cannot become a listener */
    /* Linux caps (unsigned) backlog at somaxconn, so a negative one is the maximum. */
    socket->backlog = (unsigned int)backlog > LISTEN_MAXIMUM ? LISTEN_MAXIMUM : backlog;
    if (socket->state == INET_LISTENING)
        return 0;
    int error = autobind(socket);
    if (error < 0)
        return error;
    socket->port.listening = true;
    if (inet_ports_conflict(ports(), &socket->port)) {
        socket->port.listening = false;
        return -EADDRINUSE;
    }
    socket->state = INET_LISTENING;
    return 0;
}

/* Establish socket's connection to listener: a server end waits in the accept queue, already connected. */
static void establish(struct inet_socket *socket, struct inet_socket *listener, const struct inet_endpoint *to)
{
    struct inet_socket *server_end = inet_socket_new(listener->family, SOCK_STREAM, IPPROTO_TCP, listener->uid);
    source_toward(socket, to, &socket->local);
    /* The server end is addressed as the client reached it, in the listener's family. */
    server_end->local = *to;
    server_end->remote = socket->local;
    server_end->has_remote = true;
    server_end->peer = socket;
    server_end->state = INET_CONNECTED;
    server_end->no_delay = listener->no_delay;
    server_end->keepalive = listener->keepalive;
    server_end->receive_buffer = listener->receive_buffer;
    server_end->send_buffer = listener->send_buffer;
    /* It holds the listener's port too (a restarted server without SO_REUSEADDR sees EADDRINUSE). */
    server_end->port = listener->port;
    server_end->port.listening = false;
    server_end->port.owner = server_end;
    server_end->port.endpoint = *to;
    list_insert_tail(&ports()->users, &server_end->port.node);
    server_end->bound = true;
    socket->remote = *to;
    socket->has_remote = true;
    socket->peer = server_end;
    socket->state = INET_CONNECTED;
    list_insert_tail(&listener->pending, &server_end->pending_node);
    listener->pending_count++;
    notify(listener, POLLIN | POLLRDNORM);
    notify(socket, POLLOUT | POLLWRNORM);
}

static bool backlog_full(const struct inet_socket *listener) { return listener->pending_count > listener->backlog; }

static int datagram_connect(struct inet_socket *socket, const void *address, socklen_t length)
{
    sa_family_t family;
    if (length >= sizeof(family)) {
        memcpy(&family, address, sizeof(family));
        if (family == AF_UNSPEC) {
            /* Dissolve the association; a port bound only by that connect is kept, as Linux does. */
            socket->has_remote = false;
            socket->state = INET_CLOSED;
            return 0;
        }
    }
    struct inet_endpoint destination;
    int error = connect_destination(socket, address, length, &destination);
    if (error < 0)
        return error;
    error = autobind(socket);
    if (error < 0)
        return error;
    socket->remote = destination;
    socket->has_remote = true;
    socket->state = INET_CONNECTED;
    return 0;
}

/* connect(AF_UNSPEC) on a stream: Linux's tcp_disconnect. A listener stops listening; a connection is reset
 * (both ends see ECONNRESET); the socket may then connect or listen again. */
static int stream_disconnect(struct inet_socket *socket)
{
    if (socket->state == INET_LISTENING) {
        stop_listening(socket);
    } else if (socket->state == INET_CONNECTING) {
        list_remove(&socket->connecting_node);
        list_init(&socket->connecting_node);
        socket->listener = NULL;
    } else if (socket->state == INET_CONNECTED) {
        if (socket->peer) {
            reset(socket->peer, ECONNRESET);
            socket->peer = NULL;
        }
        socket->error = ECONNRESET;
    }
    drop_messages(socket);
    socket->state = INET_CLOSED;
    socket->has_remote = socket->report_connected = false;
    socket->read_shutdown = socket->write_shutdown = socket->peer_finished = socket->peer_closed = false;
    notify(socket, POLLIN | POLLOUT | POLLHUP);
    return 0;
}

int vfs_inet_connect(struct vfs_file *file, const void *address, socklen_t length, bool nonblocking)
{
    struct inet_socket *socket = socket_of(file);
    if (!is_stream(socket))
        return datagram_connect(socket, address, length);
    if (length < sizeof(sa_family_t))
        return -EINVAL;
    sa_family_t family;
    memcpy(&family, address, sizeof(family));
    if (family == AF_UNSPEC)
        return stream_disconnect(socket);
    switch (socket->state) {
    case INET_CONNECTING:
        return nonblocking ? -EALREADY : -EINPROGRESS;
    case INET_CONNECTED:
        if (socket->report_connected) {
            socket->report_connected = false;
            return 0;
        }
        return -EISCONN;
    case INET_LISTENING:
        return -EISCONN;
    case INET_CLOSED:
        break;
    }
    if (socket->report_connected) {
        /* An attempt that failed after EINPROGRESS: its error once, or ECONNABORTED if SO_ERROR took it. */
        socket->report_connected = false;
        return socket->error ? take_error(socket) : -ECONNABORTED;
    }
    if (socket->has_remote)
        return -EISCONN;  /* the connection ended: Linux does not reconnect a used socket */
    socket->read_shutdown = socket->write_shutdown = false;  /* what a refused attempt left */
    struct inet_endpoint destination;
    int error = connect_destination(socket, address, length, &destination);
    if (error < 0)
        return error;
    struct inet_port_user *listening = inet_ports_find(ports(), IPPROTO_TCP, &destination, true);
    /* Loopback resets a SYN to a port nobody listens on at once. */
    if (!listening) {
        if (!nonblocking)
            return -ECONNREFUSED;
        error = autobind(socket);
        if (error < 0)
            return error;
        socket->error = ECONNREFUSED;
        socket->read_shutdown = socket->write_shutdown = true;
        socket->report_connected = true;
        return -EINPROGRESS;
    }
    error = autobind(socket);
    if (error < 0)
        return error;
    struct inet_socket *listener = listening->owner;
    if (backlog_full(listener)) {
        /* Linux drops the SYN and retries: the connection completes once accept makes room. */
        socket->state = INET_CONNECTING;
        socket->listener = listener;
        socket->remote = destination;
        list_insert_tail(&listener->connecting, &socket->connecting_node);
        socket->report_connected = true;
        return -EINPROGRESS;
    }
    establish(socket, listener, &destination);
    if (nonblocking) {
        /* Even on loopback a non-blocking connect reports EINPROGRESS; the handshake is done by return. */
        socket->report_connected = true;
        return -EINPROGRESS;
    }
    return 0;
}

int vfs_inet_accept(struct vfs_file *file, int flags, struct vfs_file **out)
{
    struct inet_socket *socket = socket_of(file);
    if (!is_stream(socket))
        return -EOPNOTSUPP;
    if (socket->state != INET_LISTENING)
        return -EINVAL;
    if (list_empty(&socket->pending))
        return -EAGAIN;
    struct inet_socket *server_end = CONTAINER_OF(socket->pending.next, struct inet_socket, pending_node);
    list_remove(&server_end->pending_node);
    list_init(&server_end->pending_node);
    socket->pending_count--;
    /* Room in the queue: the first connector waiting for it gets through. */
    if (!list_empty(&socket->connecting)) {
        struct inet_socket *waiting = CONTAINER_OF(socket->connecting.next, struct inet_socket, connecting_node);
        list_remove(&waiting->connecting_node);
        list_init(&waiting->connecting_node);
        waiting->listener = NULL;
        struct inet_endpoint destination = waiting->remote;
        establish(waiting, socket, &destination);
    }
    *out = file_for(server_end, flags);
    return 0;
}

int vfs_inet_name(struct vfs_file *file, bool peer, struct sockaddr_storage *address, socklen_t *length)
{
    struct inet_socket *socket = socket_of(file);
    if (peer) {
        if (socket->state != INET_CONNECTED || !socket->has_remote)
            return -ENOTCONN;
        *length = endpoint_to_sockaddr(socket->family, &socket->remote, address);
        return 0;
    }
    *length = endpoint_to_sockaddr(socket->family, &socket->local, address);
    return 0;
}

int vfs_inet_shutdown(struct vfs_file *file, int how)
{
    struct inet_socket *socket = socket_of(file);
    if (how < SHUT_RD || how > SHUT_RDWR)
        return -EINVAL;
    bool reading = how != SHUT_WR, writing = how != SHUT_RD;
    if (is_stream(socket)) {
        if (socket->state == INET_LISTENING && reading) {
            /* Linux: shutting a listener's reading side stops it listening. */
            stop_listening(socket);
            socket->state = INET_CLOSED;
            notify(socket, POLLIN | POLLHUP);
            return 0;
        }
        if (socket->state == INET_LISTENING)
            return -ENOTCONN;
        if (socket->state == INET_CONNECTING && reading && writing) {
            list_remove(&socket->connecting_node);
            list_init(&socket->connecting_node);
            socket->listener = NULL;
            socket->state = INET_CLOSED;
            goto done;
        }
        if (socket->state != INET_CONNECTED)
            return -ENOTCONN;
        if (writing && !socket->write_shutdown && socket->peer) {
            socket->peer->peer_finished = true;
            socket->peer->read_shutdown = true;
            notify(socket->peer, POLLIN | POLLRDNORM | POLLRDHUP);
        }
    } else if (socket->state != INET_CONNECTED) {
        return -ENOTCONN;
    }
done:
    if (reading)
        socket->read_shutdown = true;
    if (writing)
        socket->write_shutdown = true;
    notify(socket, POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    return 0;
}

/* ---- options ---- */

static int put_int(void *value, socklen_t *length, int result)
{
    /* Linux writes an int, or a single byte when the caller's room is smaller (for most int options). */
    if (*length >= sizeof(int)) {
        memcpy(value, &result, sizeof(int));
        *length = sizeof(int);
    } else if (*length > 0) {
        *(unsigned char *)value = (unsigned char)result;
        *length = 1;
    }
    return 0;
}

int vfs_inet_get_option(struct vfs_file *file, int level, int option, void *value, socklen_t *length)
{
    struct inet_socket *socket = socket_of(file);
    if (level == SOL_SOCKET) {
        switch (option) {
        case SO_TYPE: return put_int(value, length, socket->type);
        case SO_DOMAIN: return put_int(value, length, socket->family);
        case SO_PROTOCOL: return put_int(value, length, socket->protocol);
        case SO_ERROR: {
            int error = socket->error;
            socket->error = 0;
            return put_int(value, length, error);
        }
        case SO_ACCEPTCONN: return put_int(value, length, socket->state == INET_LISTENING);
        case SO_RCVBUF: return put_int(value, length, (int)socket->receive_buffer);
        case SO_SNDBUF: return put_int(value, length, (int)socket->send_buffer);
        case SO_REUSEADDR: return put_int(value, length, socket->reuse_address);
        case SO_REUSEPORT: return put_int(value, length, socket->reuse_port);
        case SO_KEEPALIVE: return put_int(value, length, socket->keepalive);
        case SO_BROADCAST: return put_int(value, length, socket->broadcast);
        case SO_LINGER: {
            struct linger linger = {socket->linger_on, socket->linger_seconds};
            *length = MIN(*length, (socklen_t)sizeof(linger));
            memcpy(value, &linger, *length);
            return 0;
        }
        default: return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_TCP && is_stream(socket)) {
        switch (option) {
        case TCP_NODELAY: return put_int(value, length, socket->no_delay);
        case TCP_KEEPIDLE: return put_int(value, length, socket->keep_idle);
        case TCP_KEEPINTVL: return put_int(value, length, socket->keep_interval);
        case TCP_KEEPCNT: return put_int(value, length, socket->keep_count);
        default: return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_IPV6 && socket->family == AF_INET6 && option == IPV6_V6ONLY)
        return put_int(value, length, socket->v6only);
    return -ENOPROTOOPT;
}

int vfs_inet_set_option(struct vfs_file *file, int level, int option, const void *value, socklen_t length)
{
    struct inet_socket *socket = socket_of(file);
    int number = 0;
    if (option == SO_LINGER && level == SOL_SOCKET) {
        struct linger linger;
        if (length < sizeof(linger))
            return -EINVAL;
        memcpy(&linger, value, sizeof(linger));
        socket->linger_on = linger.l_onoff != 0;
        socket->linger_seconds = linger.l_linger;
        return 0;
    }
    if (length < sizeof(int))
        return -EINVAL;
    memcpy(&number, value, sizeof(number));
    bool on = number != 0;
    if (level == SOL_SOCKET) {
        switch (option) {
        /* Linux doubles buffer sizes for its bookkeeping and enforces a floor. */
        case SO_RCVBUF: socket->receive_buffer = MAX((size_t)(number < 0 ? 0 : number) * 2, 2304); return 0;
        case SO_SNDBUF: socket->send_buffer = MAX((size_t)(number < 0 ? 0 : number) * 2, 4608); return 0;
        case SO_REUSEADDR: socket->reuse_address = socket->port.reuse_address = on; return 0;
        case SO_REUSEPORT: socket->reuse_port = socket->port.reuse_port = on; return 0;
        case SO_KEEPALIVE: socket->keepalive = on; return 0;
        case SO_BROADCAST: socket->broadcast = on; return 0;
        default: return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_TCP && is_stream(socket)) {
        switch (option) {
        case TCP_NODELAY: socket->no_delay = on; return 0;
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
            if (number < 1 || number > 32767)
                return -EINVAL;
            *(option == TCP_KEEPIDLE ? &socket->keep_idle : &socket->keep_interval) = number;
            return 0;
        case TCP_KEEPCNT:
            if (number < 1 || number > 127)
                return -EINVAL;
            socket->keep_count = number;
            return 0;
        default: return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_IPV6 && socket->family == AF_INET6 && option == IPV6_V6ONLY) {
        if (socket->bound)
            return -EINVAL;
        socket->v6only = socket->port.v6only = on;
        return 0;
    }
    return -ENOPROTOOPT;
}

/* ---- data ---- */

static int take_error(struct inet_socket *socket)
{
    int error = socket->error;
    socket->error = 0;
    return -error;
}

static ssize_t stream_send(struct inet_socket *socket, const struct vfs_unix_send *request)
{
    if (socket->error)
        return take_error(socket);
    if (socket->write_shutdown)
        return -EPIPE;
    if (socket->state != INET_CONNECTED) {
        /* tcp_sendmsg waits for a connection in progress, and answers EPIPE without one. */
        return socket->state == INET_CONNECTING ? -EAGAIN : -EPIPE;
    }
    if (socket->peer_closed) {
        /* The bytes reach a closed socket, whose reset ends our side: EPIPE from the next call on. */
        socket->peer_closed = false;
        reset(socket, EPIPE);
        socket->has_remote = true;
        return (ssize_t)request->length;
    }
    struct inet_socket *receiver = socket->peer;
    if (request->length == 0)
        return 0;
    size_t space = space_in(receiver);
    if (space == 0)
        return -EAGAIN;
    size_t length = MIN(request->length, space);
    struct inet_datagram *chunk = xcalloc(1, sizeof(*chunk));
    chunk->data = xcalloc(length, 1);
    memcpy(chunk->data, request->data, length);
    chunk->length = length;
    list_insert_tail(&receiver->messages, &chunk->node);
    receiver->queued_bytes += length;
    notify(receiver, POLLIN | POLLRDNORM);
    return (ssize_t)length;
}

static bool same_endpoint(const struct inet_endpoint *a, const struct inet_endpoint *b)
{
    return a->port == b->port && memcmp(a->address, b->address, 16) == 0;
}

static ssize_t datagram_send(struct inet_socket *socket, const struct vfs_unix_send *request)
{
    struct inet_endpoint destination;
    if (request->to) {
        int error = parse_address(socket, request->to, request->to_length, FOR_SEND, &destination);
        if (error < 0)
            return error;
        if (destination.port == 0)
            return -EINVAL;
        error = route(socket, &destination);
        if (error < 0)
            return error;
    } else {
        if (!socket->has_remote)
            return -EDESTADDRREQ;
        destination = socket->remote;
    }
    if (socket->error)
        return take_error(socket);
    if (socket->write_shutdown)
        return -EPIPE;
    if (request->length > (size_t)payload_maximum(socket))
        return -EMSGSIZE;
    int error = autobind(socket);
    if (error < 0)
        return error;
    struct inet_endpoint source;
    source_toward(socket, &destination, &source);
    struct inet_port_user *user = inet_ports_find(ports(), IPPROTO_UDP, &destination, false);
    if (!user) {
        /* The ICMP port-unreachable reaches only a connected socket, as its next call's error. */
        if (socket->has_remote && same_endpoint(&destination, &socket->remote)) {
            socket->error = ECONNREFUSED;
            notify(socket, POLLERR);
        }
        return (ssize_t)request->length;
    }
    struct inet_socket *receiver = user->owner;
    /* A connected receiver takes datagrams from its peer only; a full queue drops, as UDP does. */
    bool accepted = !receiver->read_shutdown && (!receiver->has_remote || same_endpoint(&receiver->remote, &source)) &&
                    receiver->queued_bytes + request->length <= receiver->receive_buffer;
    if (accepted) {
        struct inet_datagram *message = xcalloc(1, sizeof(*message));
        message->data = xcalloc(request->length ? request->length : 1, 1);
        memcpy(message->data, request->data, request->length);
        message->length = request->length;
        message->source = source;
        list_insert_tail(&receiver->messages, &message->node);
        receiver->queued_bytes += request->length + 1;  /* an empty datagram takes room too */
        notify(receiver, POLLIN | POLLRDNORM);
    }
    return (ssize_t)request->length;
}

ssize_t vfs_inet_send(struct vfs_file *file, const struct vfs_unix_send *request)
{
    struct inet_socket *socket = socket_of(file);
    if (request->rights_count)
        return -EINVAL;  /* SCM_RIGHTS belongs to AF_UNIX */
    return is_stream(socket) ? stream_send(socket, request) : datagram_send(socket, request);
}

static ssize_t datagram_receive(struct inet_socket *socket, struct vfs_unix_receive *request)
{
    if (socket->error)
        return take_error(socket);
    if (list_empty(&socket->messages))
        return socket->read_shutdown ? 0 : -EAGAIN;
    struct inet_datagram *first = CONTAINER_OF(socket->messages.next, struct inet_datagram, node);
    size_t copied = MIN(request->length, first->length);
    memcpy(request->data, first->data, copied);
    if (copied < first->length)
        request->message_flags |= MSG_TRUNC;
    request->from_length = endpoint_to_sockaddr(socket->family, &first->source, &request->from);
    ssize_t result = (ssize_t)((request->flags & MSG_TRUNC) ? first->length : copied);
    if (!(request->flags & MSG_PEEK)) {
        list_remove(&first->node);
        socket->queued_bytes -= first->length + 1;
        free(first->data);
        free(first);
    }
    return result;
}

static ssize_t stream_receive(struct inet_socket *socket, struct vfs_unix_receive *request)
{
    if (socket->state == INET_LISTENING || (socket->state == INET_CLOSED && !socket->has_remote))
        return -ENOTCONN;
    if (list_empty(&socket->messages)) {
        if (socket->peer_finished)
            return 0;
        if (socket->error)
            return take_error(socket);
        if (socket->read_shutdown)
            return 0;
        return -EAGAIN;
    }
    bool peek = request->flags & MSG_PEEK;
    size_t copied = 0;
    LIST_FOR_EACH_SAFE(node, next, &socket->messages) {
        struct inet_datagram *chunk = CONTAINER_OF(node, struct inet_datagram, node);
        size_t part = MIN(request->length - copied, chunk->length - chunk->consumed);
        memcpy((uint8_t *)request->data + copied, chunk->data + chunk->consumed, part);
        copied += part;
        if (!peek) {
            chunk->consumed += part;
            socket->queued_bytes -= part;
            if (chunk->consumed == chunk->length) {
                list_remove(node);
                free(chunk->data);
                free(chunk);
            }
        }
        if (copied == request->length)
            break;
    }
    if (!peek && socket->peer)
        notify(socket->peer, POLLOUT | POLLWRNORM);
    return (ssize_t)copied;
}

ssize_t vfs_inet_receive(struct vfs_file *file, struct vfs_unix_receive *request)
{
    struct inet_socket *socket = socket_of(file);
    request->message_flags = 0;
    request->rights = NULL;
    request->rights_count = 0;
    request->from_length = 0;
    request->credentials_present = false;
    return is_stream(socket) ? stream_receive(socket, request) : datagram_receive(socket, request);
}
