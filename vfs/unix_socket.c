/* vfs/unix_socket.c: AF_UNIX sockets inside the sandbox: stream, datagram and seqpacket, socketpair, names in
 * the file system or the abstract namespace, listen/connect/accept, and file descriptors passed with messages. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "vfs/internal.h"

#define UNIX_BUFFER_DEFAULT 212992  /* net.core.rmem_default / wmem_default */
#define UNIX_PENDING_MAXIMUM 4096    /* net.core.somaxconn */

struct unix_message {
    struct list_node node;
    uint8_t *data;
    size_t length, consumed;
    struct vfs_file **rights;
    size_t rights_count;
    struct sockaddr_un from;
    socklen_t from_length;
    struct vfs_unix_credentials credentials;
};

enum unix_state { UNIX_UNCONNECTED, UNIX_LISTENING, UNIX_CONNECTED };

struct unix_socket {
    int type;
    enum unix_state state;
    struct unix_socket *peer;     /* stream/seqpacket: the other end; dgram: the connect(2) destination */
    bool peer_gone;               /* the connected peer closed */
    struct list_node messages;    /* receive queue */
    size_t queued_bytes, receive_buffer, send_buffer;
    bool read_shutdown, write_shutdown;
    struct sockaddr_un address;   /* bound name; address_length 0 when unbound */
    socklen_t address_length;
    dev_t bound_device;           /* path names: the socket inode that names us */
    ino_t bound_inode;
    struct list_node bound_node;  /* in bound_sockets */
    struct list_node pending;     /* listening: connected server ends not yet accepted */
    struct list_node pending_node;
    int backlog, pending_count;
    struct wait_queue queue;
    struct vfs_unix_credentials credentials, peer_credentials;
    bool pass_credentials;
    struct vfs_inode *inode;
};

static struct list_node bound_sockets = {&bound_sockets, &bound_sockets};

static void socket_evict_inode(struct vfs_inode *inode) { (void)inode; }
static const struct vfs_fs_type sockfs_type = {.name = "sockfs", .evict_inode = socket_evict_inode};

static struct vfs_superblock *sockfs_superblock(void)
{
    static struct vfs_superblock *superblock;
    if (!superblock)
        superblock = vfs_superblock_new(&sockfs_type, 0);
    return superblock;
}

struct vfs_inode *vfs_socket_inode_new(void) { return vfs_inode_new(sockfs_superblock(), S_IFSOCK | 0777, NULL, NULL); }

static struct unix_socket *socket_of(struct vfs_file *file) { return file->private_data; }

static void message_free(struct unix_message *message)
{
    for (size_t i = 0; i < message->rights_count; i++)
        vfs_file_put(message->rights[i]);
    free(message->rights);
    free(message->data);
    free(message);
}

static void notify(struct unix_socket *socket, uint32_t events)
{
    if (socket)
        wait_queue_notify(&socket->queue, events);
}

static struct unix_socket *unix_socket_new(int type, const struct vfs_unix_credentials *credentials)
{
    struct unix_socket *socket = xcalloc(1, sizeof(*socket));
    socket->type = type;
    list_init(&socket->messages);
    list_init(&socket->pending);
    list_init(&socket->pending_node);
    list_init(&socket->bound_node);
    wait_queue_init(&socket->queue);
    socket->receive_buffer = socket->send_buffer = UNIX_BUFFER_DEFAULT;
    socket->credentials = *credentials;
    socket->inode = vfs_socket_inode_new();
    return socket;
}

static void unix_socket_destroy(struct unix_socket *socket);

static void disconnect(struct unix_socket *socket)
{
    struct unix_socket *peer = socket->peer;
    if (!peer)
        return;
    socket->peer = NULL;
    if (peer->peer == socket && socket->type != SOCK_DGRAM) {
        peer->peer = NULL;
        peer->peer_gone = true;
        notify(peer, POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
    }
}

static void unix_socket_destroy(struct unix_socket *socket)
{
    disconnect(socket);
    /* Datagram sockets that sent to us lose their destination, as on Linux (they get ECONNREFUSED). */
    list_remove(&socket->bound_node);
    LIST_FOR_EACH_SAFE(node, next, &socket->pending) {
        struct unix_socket *server_end = CONTAINER_OF(node, struct unix_socket, pending_node);
        list_remove(node);
        unix_socket_destroy(server_end);
    }
    LIST_FOR_EACH_SAFE(node, next, &socket->messages) {
        list_remove(node);
        message_free(CONTAINER_OF(node, struct unix_message, node));
    }
    LIST_FOR_EACH_SAFE(node, next, &socket->queue.waiters) list_remove(node);
    vfs_inode_put(socket->inode);
    free(socket);
}

/* Datagram peers pointing at a socket about to vanish. Few sockets live in one sandbox: a scan is enough. */
static struct list_node all_sockets = {&all_sockets, &all_sockets};
struct socket_entry {
    struct list_node node;
    struct unix_socket *socket;
};

static void forget_datagram_senders(struct unix_socket *gone)
{
    LIST_FOR_EACH(node, &all_sockets) {
        struct unix_socket *other = CONTAINER_OF(node, struct socket_entry, node)->socket;
        if (other->type == SOCK_DGRAM && other->peer == gone)
            other->peer = NULL;
    }
}

static void track(struct unix_socket *socket)
{
    struct socket_entry *entry = xcalloc(1, sizeof(*entry));
    entry->socket = socket;
    list_insert_tail(&all_sockets, &entry->node);
}

static void untrack(struct unix_socket *socket)
{
    LIST_FOR_EACH_SAFE(node, next, &all_sockets) {
        struct socket_entry *entry = CONTAINER_OF(node, struct socket_entry, node);
        if (entry->socket == socket) {
            list_remove(node);
            free(entry);
        }
    }
}

/* ---- file operations: read and write are recv and send without flags ---- */

static ssize_t socket_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_unix_receive receive = {.data = buffer, .length = length};
    return vfs_unix_receive(file, &receive);
}

static ssize_t socket_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_unix_send send = {.data = buffer, .length = length};
    return vfs_unix_send(file, &send);
}

static size_t peer_space(const struct unix_socket *receiver)
{
    return receiver->queued_bytes >= receiver->receive_buffer ? 0 : receiver->receive_buffer - receiver->queued_bytes;
}

static uint32_t socket_poll(struct vfs_file *file)
{
    struct unix_socket *socket = socket_of(file);
    uint32_t events = 0;
    if (socket->state == UNIX_LISTENING)
        return socket->pending_count ? POLLIN | POLLRDNORM : 0;
    if (!list_empty(&socket->messages))
        events |= POLLIN | POLLRDNORM;
    if (socket->read_shutdown)
        events |= POLLIN | POLLRDNORM | POLLRDHUP;
    bool connection_oriented = socket->type != SOCK_DGRAM;
    if (connection_oriented && (socket->peer_gone || (socket->read_shutdown && socket->write_shutdown)))
        events |= POLLHUP;
    if (connection_oriented && socket->peer_gone)
        events |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (connection_oriented && socket->state != UNIX_CONNECTED && !socket->peer_gone)
        return events | POLLOUT | POLLWRNORM;  /* Linux: an unconnected stream socket is "writable" */
    struct unix_socket *receiver = socket->peer;
    if (!socket->write_shutdown && (!receiver || peer_space(receiver) > 0))
        events |= POLLOUT | POLLWRNORM;
    if (socket->peer_gone)
        events |= POLLOUT | POLLWRNORM;
    return events;
}

static int socket_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size)
{
    struct unix_socket *socket = socket_of(file);
    if (command != FIONREAD && command != TIOCOUTQ)
        return -ENOTTY;
    if (argument_size < sizeof(int))
        return -EFAULT;
    int count = 0;
    if (command == FIONREAD && !list_empty(&socket->messages)) {
        struct unix_message *first = CONTAINER_OF(socket->messages.next, struct unix_message, node);
        count = socket->type == SOCK_STREAM ? (int)socket->queued_bytes : (int)(first->length - first->consumed);
    } else if (command == TIOCOUTQ && socket->peer) {
        count = (int)socket->peer->queued_bytes;
    }
    memcpy(argument, &count, sizeof(count));
    return 0;
}

static void socket_release(struct vfs_file *file)
{
    struct unix_socket *socket = socket_of(file);
    if (!socket)
        return;
    file->queue = &file->own_queue;
    forget_datagram_senders(socket);
    untrack(socket);
    unix_socket_destroy(socket);
}

static void socket_describe(struct vfs_file *file, struct text_buffer *out)
{
    text_buffer_append(out, "socket:[%lu]", (unsigned long)file->inode->inode_number);
}

static int socket_fsync(struct vfs_file *file)
{
    (void)file;
    return -EINVAL;
}

static const struct vfs_file_operations socket_file_operations = {
    .read = socket_read,
    .write = socket_write,
    .poll = socket_poll,
    .ioctl = socket_ioctl,
    .release = socket_release,
    .describe = socket_describe,
    .fsync = socket_fsync,
    .stream = true,
};

static struct vfs_file *file_for(struct unix_socket *socket, int flags)
{
    struct vfs_file *file = vfs_file_new(NULL, socket->inode, &socket_file_operations, O_RDWR | (flags & O_NONBLOCK));
    file->private_data = socket;
    file->queue = &socket->queue;
    track(socket);
    return file;
}

bool vfs_file_is_unix_socket(struct vfs_file *file) { return file && file->ops == &socket_file_operations; }

static int check_type(int type)
{
    if (type == SOCK_RAW)
        return SOCK_DGRAM;  /* Linux treats a raw AF_UNIX socket as a datagram one */
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return -ESOCKTNOSUPPORT;
    return type;
}

int vfs_unix_socket_create(int type, int flags, const struct vfs_unix_credentials *credentials,
                           struct vfs_file **out)
{
    type = check_type(type);
    if (type < 0)
        return type;
    *out = file_for(unix_socket_new(type, credentials), flags);
    return 0;
}

int vfs_unix_socketpair(int type, int flags, const struct vfs_unix_credentials *credentials, struct vfs_file **first,
                        struct vfs_file **second)
{
    type = check_type(type);
    if (type < 0)
        return type;
    struct unix_socket *a = unix_socket_new(type, credentials), *b = unix_socket_new(type, credentials);
    a->peer = b;
    b->peer = a;
    a->state = b->state = UNIX_CONNECTED;
    a->peer_credentials = b->peer_credentials = *credentials;
    *first = file_for(a, flags);
    *second = file_for(b, flags);
    return 0;
}

/* ---- names ---- */

static bool abstract_name(const struct sockaddr_un *address, socklen_t length)
{
    return length > offsetof(struct sockaddr_un, sun_path) && address->sun_path[0] == '\0';
}

static int validate_address(const struct sockaddr_un *address, socklen_t length)
{
    if (length < offsetof(struct sockaddr_un, sun_path) || length > sizeof(struct sockaddr_un))
        return -EINVAL;
    if (address->sun_family != AF_UNIX)
        return -EINVAL;
    return 0;
}

/* A path name from the address: sun_path up to its NUL, or the whole field. */
static void path_of(const struct sockaddr_un *address, socklen_t length, char *path)
{
    size_t size = length - offsetof(struct sockaddr_un, sun_path);
    memcpy(path, address->sun_path, size);
    path[size] = '\0';
}

static struct unix_socket *find_abstract(const struct sockaddr_un *address, socklen_t length)
{
    LIST_FOR_EACH(node, &bound_sockets) {
        struct unix_socket *socket = CONTAINER_OF(node, struct unix_socket, bound_node);
        if (socket->address_length == length && socket->bound_inode == 0 &&
            memcmp(&socket->address, address, length) == 0)
            return socket;
    }
    return NULL;
}

static struct unix_socket *find_by_inode(dev_t device, ino_t inode)
{
    LIST_FOR_EACH(node, &bound_sockets) {
        struct unix_socket *socket = CONTAINER_OF(node, struct unix_socket, bound_node);
        if (socket->bound_inode == inode && socket->bound_device == device)
            return socket;
    }
    return NULL;
}

int vfs_unix_bind(const struct vfs_context *ctx, struct vfs_file *file, const struct sockaddr_un *address,
                  socklen_t length)
{
    struct unix_socket *socket = socket_of(file);
    int error = validate_address(address, length);
    if (error < 0)
        return error;
    if (socket->address_length)
        return -EINVAL;
    if (length == offsetof(struct sockaddr_un, sun_path))
        return -EINVAL;  /* autobind is not offered */
    if (abstract_name(address, length)) {
        if (find_abstract(address, length))
            return -EADDRINUSE;
    } else {
        char path[sizeof(address->sun_path) + 1];
        path_of(address, length, path);
        if (path[0] == '\0')
            return -EINVAL;
        error = vfs_mknod_at(ctx, NULL, path, S_IFSOCK | (0777 & ~ctx->umask), 0);
        if (error == -EEXIST)
            return -EADDRINUSE;
        if (error < 0)
            return error;
        struct stat status;
        error = vfs_stat_at(ctx, NULL, path, AT_SYMLINK_NOFOLLOW, &status);
        if (error < 0)
            return error;
        socket->bound_device = status.st_dev;
        socket->bound_inode = status.st_ino;
    }
    memcpy(&socket->address, address, length);
    socket->address_length = length;
    list_insert_tail(&bound_sockets, &socket->bound_node);
    return 0;
}

static int lookup_target(const struct vfs_context *ctx, const struct sockaddr_un *address, socklen_t length,
                         struct unix_socket **target)
{
    int error = validate_address(address, length);
    if (error < 0)
        return error;
    if (length == offsetof(struct sockaddr_un, sun_path))
        return -EINVAL;
    if (abstract_name(address, length)) {
        *target = find_abstract(address, length);
        return *target ? 0 : -ECONNREFUSED;
    }
    char path[sizeof(address->sun_path) + 1];
    path_of(address, length, path);
    struct stat status;
    error = vfs_stat_at(ctx, NULL, path, 0, &status);
    if (error < 0)
        return error;
    if (!S_ISSOCK(status.st_mode))
        return -ECONNREFUSED;
    error = vfs_access_at(ctx, NULL, path, W_OK, 0);
    if (error < 0)
        return error;
    *target = find_by_inode(status.st_dev, status.st_ino);
    return *target ? 0 : -ECONNREFUSED;
}

int vfs_unix_listen(struct vfs_file *file, int backlog)
{
    struct unix_socket *socket = socket_of(file);
    if (socket->type == SOCK_DGRAM)
        return -EOPNOTSUPP;
    if (socket->state == UNIX_CONNECTED || !socket->address_length)
        return -EINVAL;
    socket->state = UNIX_LISTENING;
    socket->backlog = backlog < 0 ? 0 : MIN(backlog, UNIX_PENDING_MAXIMUM);
    return 0;
}

int vfs_unix_connect(const struct vfs_context *ctx, struct vfs_file *file, const struct sockaddr_un *address,
                     socklen_t length)
{
    struct unix_socket *socket = socket_of(file);
    struct unix_socket *target;
    if (socket->type == SOCK_DGRAM && length >= sizeof(sa_family_t) && address->sun_family == AF_UNSPEC) {
        socket->peer = NULL;  /* dissolve the association */
        return 0;
    }
    int error = lookup_target(ctx, address, length, &target);
    if (error < 0)
        return error;
    if (target->type != socket->type)
        return -EPROTOTYPE;
    if (socket->type == SOCK_DGRAM) {
        socket->peer = target;
        return 0;
    }
    if (socket->state == UNIX_CONNECTED)
        return -EISCONN;
    if (socket->state == UNIX_LISTENING)
        return -EINVAL;
    if (target->state != UNIX_LISTENING)
        return -ECONNREFUSED;
    if (target->pending_count > target->backlog)
        return -EAGAIN;  /* Linux's full backlog: the caller waits or gets EAGAIN */
    struct unix_socket *server_end = unix_socket_new(socket->type, &target->credentials);
    memcpy(&server_end->address, &target->address, target->address_length);
    server_end->address_length = target->address_length;
    server_end->peer = socket;
    server_end->state = UNIX_CONNECTED;
    server_end->peer_credentials = socket->credentials;
    socket->peer = server_end;
    socket->state = UNIX_CONNECTED;
    socket->peer_credentials = target->credentials;
    list_insert_tail(&target->pending, &server_end->pending_node);
    target->pending_count++;
    notify(target, POLLIN | POLLRDNORM);
    return 0;
}

int vfs_unix_accept(struct vfs_file *file, int flags, struct vfs_file **out)
{
    struct unix_socket *socket = socket_of(file);
    if (socket->type == SOCK_DGRAM)
        return -EOPNOTSUPP;
    if (socket->state != UNIX_LISTENING)
        return -EINVAL;
    if (list_empty(&socket->pending))
        return -EAGAIN;
    struct unix_socket *server_end = CONTAINER_OF(socket->pending.next, struct unix_socket, pending_node);
    list_remove(&server_end->pending_node);
    socket->pending_count--;
    *out = file_for(server_end, flags);
    return 0;
}

int vfs_unix_name(struct vfs_file *file, bool peer, struct sockaddr_storage *storage, socklen_t *length)
{
    struct unix_socket *socket = socket_of(file);
    const struct unix_socket *named = socket;
    if (peer) {
        if (socket->type != SOCK_DGRAM && socket->state != UNIX_CONNECTED)
            return -ENOTCONN;
        named = socket->peer;
        if (!named)
            return -ENOTCONN;
    }
    struct sockaddr_un *address = (struct sockaddr_un *)storage;
    memset(storage, 0, sizeof(*storage));
    address->sun_family = AF_UNIX;
    *length = sizeof(sa_family_t);
    if (named->address_length) {
        memcpy(address, &named->address, named->address_length);
        *length = named->address_length;
    }
    return 0;
}

int vfs_unix_shutdown(struct vfs_file *file, int how)
{
    struct unix_socket *socket = socket_of(file);
    if (how < SHUT_RD || how > SHUT_RDWR)
        return -EINVAL;
    if (socket->type != SOCK_DGRAM && socket->state != UNIX_CONNECTED && !socket->peer_gone)
        return -ENOTCONN;
    bool reading = how != SHUT_WR, writing = how != SHUT_RD;
    if (reading)
        socket->read_shutdown = true;
    if (writing)
        socket->write_shutdown = true;
    struct unix_socket *peer = socket->type != SOCK_DGRAM ? socket->peer : NULL;
    if (peer) {
        /* What one side stops sending, the other stops receiving, and the reverse. */
        if (writing)
            peer->read_shutdown = true;
        if (reading)
            peer->write_shutdown = true;
        notify(peer, POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    }
    notify(socket, POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    return 0;
}

int vfs_unix_get_option(struct vfs_file *file, int option, int *value, struct vfs_unix_credentials *peer)
{
    struct unix_socket *socket = socket_of(file);
    switch (option) {
    case SO_TYPE: *value = socket->type; return 0;
    case SO_DOMAIN: *value = AF_UNIX; return 0;
    case SO_PROTOCOL: *value = 0; return 0;
    case SO_ERROR: *value = 0; return 0;
    case SO_ACCEPTCONN: *value = socket->state == UNIX_LISTENING; return 0;
    case SO_RCVBUF: *value = (int)socket->receive_buffer; return 0;
    case SO_SNDBUF: *value = (int)socket->send_buffer; return 0;
    case SO_PASSCRED: *value = socket->pass_credentials; return 0;
    case SO_PEERCRED:
        if (socket->type == SOCK_DGRAM || socket->state != UNIX_CONNECTED) {
            /* Linux reports an invalid peer: pid 0, uid and gid -1 */
            *peer = (struct vfs_unix_credentials){0, (uint32_t)-1, (uint32_t)-1};
            return 0;
        }
        *peer = socket->peer_credentials;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int vfs_unix_set_option(struct vfs_file *file, int option, int value)
{
    struct unix_socket *socket = socket_of(file);
    /* Linux doubles buffer sizes for bookkeeping and enforces a floor. */
    switch (option) {
    case SO_RCVBUF: socket->receive_buffer = MAX((size_t)(value < 0 ? 0 : value) * 2, 2304); return 0;
    case SO_SNDBUF: socket->send_buffer = MAX((size_t)(value < 0 ? 0 : value) * 2, 4608); return 0;
    case SO_PASSCRED: socket->pass_credentials = value != 0; return 0;
    default: return -ENOPROTOOPT;
    }
}

/* ---- data ---- */

ssize_t vfs_unix_send(struct vfs_file *file, const struct vfs_unix_send *request)
{
    struct unix_socket *socket = socket_of(file);
    struct unix_socket *receiver;
    if (socket->type == SOCK_DGRAM) {
        if (request->to) {
            int error = lookup_target(request->context, (const struct sockaddr_un *)request->to, request->to_length,
                                      &receiver);
            if (error < 0)
                return error;
            if (receiver->type != SOCK_DGRAM)
                return -EPROTOTYPE;
        } else {
            receiver = socket->peer;
            if (!receiver)
                return -ENOTCONN;
        }
        if (socket->write_shutdown)
            return -EPIPE;
        if (request->length > socket->send_buffer)
            return -EMSGSIZE;
        if (receiver->read_shutdown)
            return -EPIPE;
        if (peer_space(receiver) < request->length + 1)
            return -EAGAIN;
    } else {
        if (request->to && socket->state != UNIX_CONNECTED)
            return -EOPNOTSUPP;  /* sendto with an address on an unconnected stream socket */
        if (socket->peer_gone || socket->write_shutdown)
            return -EPIPE;
        if (socket->state != UNIX_CONNECTED)
            return -ENOTCONN;
        receiver = socket->peer;
        if (socket->type == SOCK_SEQPACKET && request->length > socket->send_buffer)
            return -EMSGSIZE;
    }
    size_t length = request->length;
    size_t space = peer_space(receiver);
    if (socket->type == SOCK_STREAM) {
        if (space == 0 && length > 0)
            return -EAGAIN;
        length = MIN(length, space);
    } else if (socket->type == SOCK_SEQPACKET && space < length + 1) {
        return -EAGAIN;
    }
    if (length == 0 && socket->type == SOCK_STREAM && request->rights_count == 0)
        return 0;
    struct unix_message *message = xcalloc(1, sizeof(*message));
    message->data = xcalloc(length ? length : 1, 1);
    memcpy(message->data, request->data, length);
    message->length = length;
    message->credentials = request->credentials ? *request->credentials : socket->credentials;
    if (request->rights_count) {
        message->rights = xcalloc(request->rights_count, sizeof(*message->rights));
        for (size_t i = 0; i < request->rights_count; i++) {
            vfs_file_get(request->rights[i]);
            message->rights[i] = request->rights[i];
        }
        message->rights_count = request->rights_count;
    }
    if (socket->address_length) {
        memcpy(&message->from, &socket->address, socket->address_length);
        message->from_length = socket->address_length;
    } else {
        message->from.sun_family = AF_UNIX;
        message->from_length = sizeof(sa_family_t);
    }
    list_insert_tail(&receiver->messages, &message->node);
    /* Even an empty datagram takes room, so a flood of them cannot grow without bound. */
    receiver->queued_bytes += length + (socket->type == SOCK_STREAM ? 0 : 1);
    notify(receiver, POLLIN | POLLRDNORM);
    return (ssize_t)length;
}

static void take_rights(struct unix_message *message, struct vfs_unix_receive *request)
{
    request->rights = message->rights;
    request->rights_count = message->rights_count;
    message->rights = NULL;
    message->rights_count = 0;
}

ssize_t vfs_unix_receive(struct vfs_file *file, struct vfs_unix_receive *request)
{
    struct unix_socket *socket = socket_of(file);
    bool peek = request->flags & MSG_PEEK;
    request->message_flags = 0;
    request->rights = NULL;
    request->rights_count = 0;
    request->from_length = 0;
    if (socket->state == UNIX_LISTENING)
        return -EINVAL;
    if (list_empty(&socket->messages)) {
        if (socket->read_shutdown || socket->peer_gone)
            return 0;
        if (socket->type != SOCK_DGRAM && socket->state != UNIX_CONNECTED)
            return socket->type == SOCK_SEQPACKET ? -ENOTCONN : -EINVAL;
        return -EAGAIN;
    }
    struct unix_message *first = CONTAINER_OF(socket->messages.next, struct unix_message, node);
    if (first->from_length) {
        memcpy(&request->from, &first->from, first->from_length);
        request->from_length = first->from_length;
    }
    request->credentials = first->credentials;
    request->credentials_present = socket->pass_credentials;
    if (socket->type != SOCK_STREAM) {
        size_t copied = MIN(request->length, first->length);
        memcpy(request->data, first->data, copied);
        if (copied < first->length)
            request->message_flags |= MSG_TRUNC;
        ssize_t result = (ssize_t)((request->flags & MSG_TRUNC) ? first->length : copied);
        if (!peek) {
            take_rights(first, request);
            list_remove(&first->node);
            socket->queued_bytes -= first->length + 1;
            message_free(first);
            if (socket->peer)
                notify(socket->peer, POLLOUT | POLLWRNORM);
            LIST_FOR_EACH(node, &all_sockets) {
                struct unix_socket *sender = CONTAINER_OF(node, struct socket_entry, node)->socket;
                if (sender->type == SOCK_DGRAM)
                    notify(sender, POLLOUT | POLLWRNORM);
            }
        }
        return result;
    }
    /* Stream: bytes run on across messages, but a message carrying fds ends the read (as Linux). */
    size_t copied = 0;
    LIST_FOR_EACH_SAFE(node, next, &socket->messages) {
        struct unix_message *message = CONTAINER_OF(node, struct unix_message, node);
        if (copied > 0 && message->rights_count)
            break;
        size_t chunk = MIN(request->length - copied, message->length - message->consumed);
        memcpy((uint8_t *)request->data + copied, message->data + message->consumed, chunk);
        copied += chunk;
        bool carried_rights = message->rights_count > 0;
        if (!peek) {
            if (carried_rights)
                take_rights(message, request);
            message->consumed += chunk;
            socket->queued_bytes -= chunk;
            if (message->consumed == message->length) {
                list_remove(node);
                message_free(message);
            }
        }
        if (copied == request->length || carried_rights || peek)
            break;
    }
    if (!peek && socket->peer)
        notify(socket->peer, POLLOUT | POLLWRNORM);
    return (ssize_t)copied;
}
