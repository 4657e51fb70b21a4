/* vfs/netlink_socket.c: AF_NETLINK NETLINK_ROUTE sockets that answer RTM_GETLINK and RTM_GETADDR for the
 * sandbox's only interface, lo (what getifaddrs, if_nameindex and `ip addr` ask); other requests get an error. */
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vfs/internal.h"

#define NETLINK_BUFFER_DEFAULT 212992
#define LOOPBACK_INDEX 1
#define LOOPBACK_MTU 65536

struct netlink_datagram {
    struct list_node node;
    uint8_t *data;
    size_t length;
};

struct netlink_socket {
    int type;
    uint32_t port_id;  /* 0 until bound */
    uint32_t groups;
    uint32_t destination_port, destination_groups;
    size_t queued_bytes, receive_buffer, send_buffer;
    struct list_node messages;
    struct list_node bound_node;
    struct wait_queue queue;
    struct vfs_inode *inode;
};

static struct list_node bound_netlink = {&bound_netlink, &bound_netlink};

static struct netlink_socket *socket_of(struct vfs_file *file) { return file->private_data; }

static bool port_taken(uint32_t port_id)
{
    LIST_FOR_EACH(node, &bound_netlink) {
        if (CONTAINER_OF(node, struct netlink_socket, bound_node)->port_id == port_id)
            return true;
    }
    return false;
}

/* Linux gives the first socket of a process its tgid, later ones negative numbers counting down. */
static void autobind(struct netlink_socket *socket, int32_t process)
{
    static int32_t next_negative = -4096;
    if (socket->port_id)
        return;
    uint32_t candidate = (uint32_t)process;
    while (candidate == 0 || port_taken(candidate))
        candidate = (uint32_t)next_negative--;
    socket->port_id = candidate;
    list_insert_tail(&bound_netlink, &socket->bound_node);
}

/* ---- building replies ---- */

struct reply {
    uint8_t *data;
    size_t length, capacity;
};

static void *reserve(struct reply *reply, size_t size)
{
    size_t aligned = NLMSG_ALIGN(size);
    if (reply->length + aligned > reply->capacity) {
        reply->capacity = MAX(reply->capacity * 2, reply->length + aligned + 256);
        reply->data = realloc(reply->data, reply->capacity);
        if (!reply->data)
            abort();
    }
    void *at = reply->data + reply->length;
    memset(at, 0, aligned);
    reply->length += aligned;
    return at;
}

static size_t begin_message(struct reply *reply, uint16_t type, uint16_t flags, uint32_t sequence, uint32_t port)
{
    size_t start = reply->length;
    struct nlmsghdr *header = reserve(reply, sizeof(*header));
    header->nlmsg_type = type;
    header->nlmsg_flags = flags;
    header->nlmsg_seq = sequence;
    header->nlmsg_pid = port;
    return start;
}

static void end_message(struct reply *reply, size_t start)
{
    struct nlmsghdr *header = (struct nlmsghdr *)(reply->data + start);
    header->nlmsg_len = (uint32_t)(reply->length - start);
}

static void attribute(struct reply *reply, uint16_t type, const void *value, size_t size)
{
    struct rtattr *item = reserve(reply, RTA_LENGTH(size));
    item->rta_type = type;
    item->rta_len = (unsigned short)RTA_LENGTH(size);
    memcpy(RTA_DATA(item), value, size);
}

static void attribute_u32(struct reply *reply, uint16_t type, uint32_t value)
{
    attribute(reply, type, &value, sizeof(value));
}

static void link_message(struct reply *reply, uint16_t flags, uint32_t sequence, uint32_t port)
{
    size_t start = begin_message(reply, RTM_NEWLINK, flags, sequence, port);
    struct ifinfomsg *info = reserve(reply, sizeof(*info));
    info->ifi_family = AF_UNSPEC;
    info->ifi_type = ARPHRD_LOOPBACK;
    info->ifi_index = LOOPBACK_INDEX;
    info->ifi_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP;
    static const uint8_t no_hardware_address[6];
    attribute(reply, IFLA_IFNAME, "lo", 3);
    attribute_u32(reply, IFLA_TXQLEN, 1000);
    uint8_t operational_state = IF_OPER_UNKNOWN;
    attribute(reply, IFLA_OPERSTATE, &operational_state, 1);
    uint8_t link_mode = 0;  /* IF_LINK_MODE_DEFAULT */
    attribute(reply, IFLA_LINKMODE, &link_mode, 1);
    attribute_u32(reply, IFLA_MTU, LOOPBACK_MTU);
    attribute(reply, IFLA_QDISC, "noqueue", 8);
    attribute_u32(reply, IFLA_GROUP, 0);
    attribute(reply, IFLA_ADDRESS, no_hardware_address, sizeof(no_hardware_address));
    attribute(reply, IFLA_BROADCAST, no_hardware_address, sizeof(no_hardware_address));
    end_message(reply, start);
}

static void address_message(struct reply *reply, int family, uint16_t flags, uint32_t sequence, uint32_t port)
{
    size_t start = begin_message(reply, RTM_NEWADDR, flags, sequence, port);
    struct ifaddrmsg *info = reserve(reply, sizeof(*info));
    info->ifa_family = (uint8_t)family;
    info->ifa_prefixlen = family == AF_INET ? 8 : 128;
    info->ifa_flags = IFA_F_PERMANENT;
    info->ifa_scope = RT_SCOPE_HOST;
    info->ifa_index = LOOPBACK_INDEX;
    if (family == AF_INET) {
        uint32_t loopback = htonl(INADDR_LOOPBACK);
        attribute(reply, IFA_ADDRESS, &loopback, 4);
        attribute(reply, IFA_LOCAL, &loopback, 4);
        attribute(reply, IFA_LABEL, "lo", 3);
    } else {
        attribute(reply, IFA_ADDRESS, &in6addr_loopback, 16);
    }
    /* permanent: lifetimes "forever"; creation and update times left at boot */
    struct ifa_cacheinfo lifetimes = {.ifa_prefered = 0xffffffffU, .ifa_valid = 0xffffffffU};
    attribute(reply, IFA_CACHEINFO, &lifetimes, sizeof(lifetimes));
    attribute_u32(reply, IFA_FLAGS, IFA_F_PERMANENT);
    end_message(reply, start);
}

/* NLMSG_ERROR carrying error (0: an acknowledgement) and the request's header. */
static void error_message(struct reply *reply, const struct nlmsghdr *request, int error, uint32_t port)
{
    size_t start = begin_message(reply, NLMSG_ERROR, error == 0 ? NLM_F_CAPPED : 0, request->nlmsg_seq, port);
    struct nlmsgerr *body = reserve(reply, sizeof(*body));
    body->error = error;
    body->msg = *request;
    end_message(reply, start);
}

static void done_message(struct reply *reply, const struct nlmsghdr *request, uint32_t port)
{
    size_t start = begin_message(reply, NLMSG_DONE, NLM_F_MULTI, request->nlmsg_seq, port);
    int32_t *status = reserve(reply, sizeof(*status));
    *status = 0;
    end_message(reply, start);
}

static void queue_reply(struct netlink_socket *socket, struct reply *reply)
{
    if (reply->length == 0) {
        free(reply->data);
        return;
    }
    struct netlink_datagram *datagram = xcalloc(1, sizeof(*datagram));
    datagram->data = reply->data;
    datagram->length = reply->length;
    list_insert_tail(&socket->messages, &datagram->node);
    socket->queued_bytes += reply->length;
    wait_queue_notify(&socket->queue, POLLIN | POLLRDNORM);
}

/* One request: a dump of links or addresses, one link by index or name, or an error. */
static void answer(struct netlink_socket *socket, const struct nlmsghdr *request, size_t length)
{
    struct reply reply = {0};
    uint32_t port = socket->port_id;
    bool dump = (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    int error = 0;
    if (!(request->nlmsg_flags & NLM_F_REQUEST) || request->nlmsg_type < NLMSG_MIN_TYPE) {
        return;  /* not a request to the kernel: Linux ignores it */
    } else if (request->nlmsg_type == RTM_GETLINK && dump) {
        link_message(&reply, NLM_F_MULTI, request->nlmsg_seq, port);
        done_message(&reply, request, port);
    } else if (request->nlmsg_type == RTM_GETADDR && dump) {
        int family = AF_UNSPEC;
        if (length >= NLMSG_LENGTH(1))
            family = *(const uint8_t *)NLMSG_DATA(request);
        if (family == AF_UNSPEC || family == AF_INET)
            address_message(&reply, AF_INET, NLM_F_MULTI, request->nlmsg_seq, port);
        if (family == AF_UNSPEC || family == AF_INET6)
            address_message(&reply, AF_INET6, NLM_F_MULTI, request->nlmsg_seq, port);
        done_message(&reply, request, port);
    } else if (request->nlmsg_type == RTM_GETLINK) {
        if (length < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
            error = -EINVAL;
        } else {
            const struct ifinfomsg *info = NLMSG_DATA(request);
            bool found = info->ifi_index == LOOPBACK_INDEX;
            if (info->ifi_index == 0) {
                /* by IFLA_IFNAME */
                size_t room = length - NLMSG_LENGTH(sizeof(*info));
                for (const struct rtattr *item = (const void *)((const uint8_t *)info + NLMSG_ALIGN(sizeof(*info)));
                     RTA_OK(item, room); item = RTA_NEXT(item, room)) {
                    if (item->rta_type == IFLA_IFNAME && RTA_PAYLOAD(item) >= 2 &&
                        strncmp(RTA_DATA(item), "lo", RTA_PAYLOAD(item)) == 0)
                        found = true;
                }
            }
            if (found)
                link_message(&reply, 0, request->nlmsg_seq, port);
            else
                error = -ENODEV;
        }
    } else {
        error = -EOPNOTSUPP;  /* no routes, neighbours, rules or changes on this network */
    }
    if (error || (request->nlmsg_flags & NLM_F_ACK && !dump))
        error_message(&reply, request, error, port);
    queue_reply(socket, &reply);
}

/* ---- file operations ---- */

static ssize_t netlink_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_unix_receive receive = {.data = buffer, .length = length};
    return vfs_netlink_receive(file, &receive);
}

static ssize_t netlink_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_unix_send send = {.data = buffer, .length = length};
    return vfs_netlink_send(file, &send);
}

static uint32_t netlink_poll(struct vfs_file *file)
{
    struct netlink_socket *socket = socket_of(file);
    return (list_empty(&socket->messages) ? 0 : POLLIN | POLLRDNORM) | POLLOUT | POLLWRNORM;
}

static int netlink_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size)
{
    (void)file, (void)command, (void)argument, (void)argument_size;
    return -ENOTTY;
}

static void netlink_release(struct vfs_file *file)
{
    struct netlink_socket *socket = socket_of(file);
    if (!socket)
        return;
    file->queue = &file->own_queue;
    if (socket->port_id)
        list_remove(&socket->bound_node);
    LIST_FOR_EACH_SAFE(node, next, &socket->messages) {
        struct netlink_datagram *datagram = CONTAINER_OF(node, struct netlink_datagram, node);
        list_remove(node);
        free(datagram->data);
        free(datagram);
    }
    LIST_FOR_EACH_SAFE(node, next, &socket->queue.waiters) list_remove(node);
    vfs_inode_put(socket->inode);
    free(socket);
}

static void netlink_describe(struct vfs_file *file, struct text_buffer *out)
{
    text_buffer_append(out, "socket:[%lu]", (unsigned long)file->inode->inode_number);
}

static int netlink_fsync(struct vfs_file *file)
{
    (void)file;
    return -EINVAL;
}

static const struct vfs_file_operations netlink_file_operations = {
    .read = netlink_read,
    .write = netlink_write,
    .poll = netlink_poll,
    .ioctl = netlink_ioctl,
    .release = netlink_release,
    .describe = netlink_describe,
    .fsync = netlink_fsync,
    .stream = true,
};

bool vfs_file_is_netlink_socket(struct vfs_file *file) { return file && file->ops == &netlink_file_operations; }

int vfs_netlink_socket_create(int type, int protocol, int flags, struct vfs_file **out)
{
    if (type != SOCK_RAW && type != SOCK_DGRAM)
        return -ESOCKTNOSUPPORT;
    if (protocol < 0 || protocol >= MAX_LINKS)
        return -EPROTONOSUPPORT;
    if (protocol != NETLINK_ROUTE)
        return -EPROTONOSUPPORT;  /* as a kernel without that netlink family */
    struct netlink_socket *socket = xcalloc(1, sizeof(*socket));
    socket->type = type;
    socket->receive_buffer = socket->send_buffer = NETLINK_BUFFER_DEFAULT;
    list_init(&socket->messages);
    list_init(&socket->bound_node);
    wait_queue_init(&socket->queue);
    socket->inode = vfs_socket_inode_new();
    struct vfs_file *file =
        vfs_file_new(NULL, socket->inode, &netlink_file_operations, O_RDWR | (flags & O_NONBLOCK));
    file->private_data = socket;
    file->queue = &socket->queue;
    *out = file;
    return 0;
}

static int parse_address(const void *address, socklen_t length, struct sockaddr_nl *out)
{
    if (length < sizeof(*out))
        return -EINVAL;
    memcpy(out, address, sizeof(*out));
    return out->nl_family == AF_NETLINK ? 0 : -EINVAL;
}

int vfs_netlink_bind(struct vfs_file *file, const void *address, socklen_t length, int32_t process)
{
    struct netlink_socket *socket = socket_of(file);
    struct sockaddr_nl name;
    int error = parse_address(address, length, &name);
    if (error < 0)
        return error;
    if (socket->port_id) {
        if (name.nl_pid != 0 && name.nl_pid != socket->port_id)
            return -EINVAL;
    } else if (name.nl_pid) {
        if (port_taken(name.nl_pid))
            return -EADDRINUSE;
        socket->port_id = name.nl_pid;
        list_insert_tail(&bound_netlink, &socket->bound_node);
    } else {
        autobind(socket, process);
    }
    socket->groups = name.nl_groups;  /* no events ever happen on this network: nothing is sent to them */
    return 0;
}

int vfs_netlink_connect(struct vfs_file *file, const void *address, socklen_t length, int32_t process)
{
    struct netlink_socket *socket = socket_of(file);
    if (length >= sizeof(sa_family_t) && ((const struct sockaddr *)address)->sa_family == AF_UNSPEC) {
        socket->destination_port = socket->destination_groups = 0;
        return 0;
    }
    struct sockaddr_nl name;
    int error = parse_address(address, length, &name);
    if (error < 0)
        return error;
    autobind(socket, process);
    socket->destination_port = name.nl_pid;
    socket->destination_groups = name.nl_groups;
    return 0;
}

int vfs_netlink_name(struct vfs_file *file, bool peer, struct sockaddr_storage *address, socklen_t *length)
{
    struct netlink_socket *socket = socket_of(file);
    struct sockaddr_nl name = {.nl_family = AF_NETLINK};
    if (peer) {
        name.nl_pid = socket->destination_port;
        name.nl_groups = socket->destination_groups;
    } else {
        name.nl_pid = socket->port_id;
        name.nl_groups = socket->groups;
    }
    memset(address, 0, sizeof(*address));
    memcpy(address, &name, sizeof(name));
    *length = sizeof(name);
    return 0;
}

ssize_t vfs_netlink_send(struct vfs_file *file, const struct vfs_unix_send *request)
{
    struct netlink_socket *socket = socket_of(file);
    if (request->rights_count)
        return -EINVAL;
    if (request->to) {
        struct sockaddr_nl to;
        int error = parse_address(request->to, request->to_length, &to);
        if (error < 0)
            return error;
        if (to.nl_pid != 0 || to.nl_groups != 0)
            return -ECONNREFUSED;  /* no other netlink sockets listen in this sandbox */
    }
    if (request->length > socket->send_buffer)
        return -EMSGSIZE;
    autobind(socket, 0);
    /* Each complete message is a request; a short tail is ignored, as netlink_rcv_skb does. */
    const uint8_t *data = request->data;
    size_t left = request->length;
    while (left >= NLMSG_HDRLEN) {
        struct nlmsghdr header;
        memcpy(&header, data, sizeof(header));
        if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > left)
            break;
        /* Work on an aligned copy: the task's bytes need not be. */
        struct nlmsghdr *copy = xcalloc(1, header.nlmsg_len);
        memcpy(copy, data, header.nlmsg_len);
        answer(socket, copy, header.nlmsg_len);
        free(copy);
        size_t step = MIN((size_t)NLMSG_ALIGN(header.nlmsg_len), left);
        data += step;
        left -= step;
    }
    return (ssize_t)request->length;
}

ssize_t vfs_netlink_receive(struct vfs_file *file, struct vfs_unix_receive *request)
{
    struct netlink_socket *socket = socket_of(file);
    request->message_flags = 0;
    request->rights = NULL;
    request->rights_count = 0;
    request->credentials_present = false;
    request->from_length = 0;
    if (list_empty(&socket->messages))
        return -EAGAIN;
    struct netlink_datagram *first = CONTAINER_OF(socket->messages.next, struct netlink_datagram, node);
    size_t copied = MIN(request->length, first->length);
    memcpy(request->data, first->data, copied);
    if (copied < first->length)
        request->message_flags |= MSG_TRUNC;
    struct sockaddr_nl from = {.nl_family = AF_NETLINK};  /* the kernel */
    memset(&request->from, 0, sizeof(request->from));
    memcpy(&request->from, &from, sizeof(from));
    request->from_length = sizeof(from);
    ssize_t result = (ssize_t)((request->flags & MSG_TRUNC) ? first->length : copied);
    if (!(request->flags & MSG_PEEK)) {
        list_remove(&first->node);
        socket->queued_bytes -= first->length;
        free(first->data);
        free(first);
    }
    return result;
}

static int put_int(void *value, socklen_t *length, int result)
{
    if (*length < sizeof(int))
        return -EINVAL;
    memcpy(value, &result, sizeof(int));
    *length = sizeof(int);
    return 0;
}

int vfs_netlink_get_option(struct vfs_file *file, int level, int option, void *value, socklen_t *length)
{
    struct netlink_socket *socket = socket_of(file);
    if (level != SOL_SOCKET)
        return -ENOPROTOOPT;
    switch (option) {
    case SO_TYPE: return put_int(value, length, socket->type);
    case SO_DOMAIN: return put_int(value, length, AF_NETLINK);
    case SO_PROTOCOL: return put_int(value, length, NETLINK_ROUTE);
    case SO_ERROR: return put_int(value, length, 0);
    case SO_RCVBUF: return put_int(value, length, (int)socket->receive_buffer);
    case SO_SNDBUF: return put_int(value, length, (int)socket->send_buffer);
    default: return -ENOPROTOOPT;
    }
}

int vfs_netlink_set_option(struct vfs_file *file, int level, int option, const void *value, socklen_t length)
{
    struct netlink_socket *socket = socket_of(file);
    if (level != SOL_SOCKET)
        return -ENOPROTOOPT;  /* SOL_NETLINK options (extended acks, strict checks) are not offered */
    if (length < sizeof(int))
        return -EINVAL;
    int number;
    memcpy(&number, value, sizeof(number));
    switch (option) {
    case SO_RCVBUF: socket->receive_buffer = MAX((size_t)(number < 0 ? 0 : number) * 2, 2304); return 0;
    case SO_SNDBUF: socket->send_buffer = MAX((size_t)(number < 0 ? 0 : number) * 2, 4608); return 0;
    default: return -ENOPROTOOPT;
    }
}
