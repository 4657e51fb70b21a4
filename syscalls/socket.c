/* syscalls/socket.c: the socket family. AF_UNIX sockets (vfs/unix_socket.c) and loopback-only AF_INET/AF_INET6
 * sockets (vfs/inet_socket.c) live in the Sentry; every other family is absent (EAFNOSUPPORT). */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/sockios.h>
#include <netinet/in.h>

#include "sentry/internal.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])
#define SOCKET_TYPE_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)
#define IOV_MAXIMUM 1024
#define RIGHTS_MAXIMUM 253  /* SCM_MAX_FD */
#define TRANSFER_MAXIMUM (1U << 20)
#define MAX_RW_COUNT 0x7ffff000ULL  /* Linux's cap on one transfer: INT_MAX rounded down to a page */

static struct vfs_unix_credentials credentials_of(struct task *task)
{
    return (struct vfs_unix_credentials){task_pid(task), task->credentials.euid, task->credentials.egid};
}

static int install(struct task *task, struct vfs_file *file, bool close_on_exec)
{
    int fd = vfs_fd_install(task_fd_table(task), file, 0, close_on_exec, task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

/* The socket at fd: EBADF for no file, ENOTSOCK for another kind. */
static long socket_file(struct task *task, int fd, struct vfs_file **out)
{
    struct vfs_file *file = vfs_fd_get(task_fd_table(task), fd);
    if (!file)
        return -EBADF;
    if (!vfs_file_is_unix_socket(file) && !vfs_file_is_inet_socket(file) && !vfs_file_is_netlink_socket(file)) {
        vfs_file_put(file);
        return -ENOTSOCK;
    }
    *out = file;
    return 0;
}

static bool nonblocking(struct vfs_file *file, int flags)
{
    return (flags & MSG_DONTWAIT) || (vfs_file_status_flags(file) & O_NONBLOCK);
}

static bool is_inet(struct vfs_file *file) { return vfs_file_is_inet_socket(file); }
static bool is_netlink(struct vfs_file *file) { return vfs_file_is_netlink_socket(file); }

static long check_family_and_type(int family, int type, int protocol)
{
    if (type & ~(SOCKET_TYPE_FLAGS | 0xf))
        return -EINVAL;
    if (family < 0 || family >= AF_MAX)
        return -EAFNOSUPPORT;
    if (family == AF_INET || family == AF_INET6 || family == AF_NETLINK)
        return 0;  /* the protocol is the family's to check */
    if (family != AF_UNIX)
        return -EAFNOSUPPORT;
    if (protocol != 0 && protocol != PF_UNIX)
        return -EPROTONOSUPPORT;
    return 0;
}

static SYSCALL_HANDLER(socket)
{
    int family = (int)ARG(0), type = (int)ARG(1), protocol = (int)ARG(2);
    long error = check_family_and_type(family, type, protocol);
    if (error < 0)
        return error;
    struct vfs_file *file;
    struct vfs_unix_credentials credentials = credentials_of(task);
    int file_flags = (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
    if (family == AF_INET || family == AF_INET6)
        error = vfs_inet_socket_create(family, type & 0xf, protocol, file_flags, task->credentials.euid, &file);
    else if (family == AF_NETLINK)
        error = vfs_netlink_socket_create(type & 0xf, protocol, file_flags, &file);
    else
        error = vfs_unix_socket_create(type & 0xf, file_flags, &credentials, &file);
    if (error < 0)
        return error;
    return install(task, file, type & SOCK_CLOEXEC);
}

static SYSCALL_HANDLER(socketpair)
{
    int family = (int)ARG(0), type = (int)ARG(1), protocol = (int)ARG(2);
    long error = check_family_and_type(family, type, protocol);
    if (error < 0)
        return error;
    if (family == AF_INET || family == AF_INET6 || family == AF_NETLINK)
        return -EOPNOTSUPP;  /* socketpair is AF_UNIX's alone */
    struct vfs_file *first, *second;
    struct vfs_unix_credentials credentials = credentials_of(task);
    error = vfs_unix_socketpair(type & 0xf, (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0, &credentials, &first, &second);
    if (error < 0)
        return error;
    int fds[2];
    fds[0] = install(task, first, type & SOCK_CLOEXEC);
    if (fds[0] < 0) {
        vfs_file_put(second);
        return fds[0];
    }
    fds[1] = install(task, second, type & SOCK_CLOEXEC);
    if (fds[1] < 0) {
        vfs_fd_close(task_fd_table(task), fds[0]);
        return fds[1];
    }
    if (task_copy_out(task, ARG(3), fds, sizeof(fds)) < 0) {
        vfs_fd_close(task_fd_table(task), fds[0]);
        vfs_fd_close(task_fd_table(task), fds[1]);
        return -EFAULT;
    }
    return 0;
}

/* A sockaddr from the task, as Linux's move_addr_to_kernel: at most a sockaddr_storage. AF_UNIX looks no further
 * than sun_path, so its length is cut to a sockaddr_un. */
static long copy_address_in(struct task *task, struct vfs_file *file, uint64_t address, uint64_t length,
                            struct sockaddr_storage *out)
{
    if ((int)length < 0 || length > sizeof(struct sockaddr_storage))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (length && task_copy_in(task, out, address, length) < 0)
        return -EFAULT;
    if (vfs_file_is_unix_socket(file) && length > sizeof(struct sockaddr_un))
        length = sizeof(struct sockaddr_un);
    return (long)length;
}

/* Write an address out as Linux does: truncate to the caller's buffer, report the full length. */
static long copy_address_out(struct task *task, uint64_t address, uint64_t length_address,
                             const struct sockaddr_storage *name, socklen_t length)
{
    if (!address)
        return 0;
    int capacity;
    if (task_copy_in(task, &capacity, length_address, sizeof(capacity)) < 0)
        return -EFAULT;
    if (capacity < 0)
        return -EINVAL;
    if (task_copy_out(task, address, name, MIN((socklen_t)capacity, length)) < 0)
        return -EFAULT;
    int full = (int)length;
    return task_copy_out(task, length_address, &full, sizeof(full)) < 0 ? -EFAULT : 0;
}

static SYSCALL_HANDLER(bind)
{
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    struct sockaddr_storage address;
    long length = copy_address_in(task, file, ARG(1), ARG(2), &address);
    if (length >= 0 && is_inet(file)) {
        length = vfs_inet_bind(file, &address, (socklen_t)length, task->credentials.euid == 0);
    } else if (length >= 0 && is_netlink(file)) {
        length = vfs_netlink_bind(file, &address, (socklen_t)length, task_pid(task));
    } else if (length >= 0) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        length = vfs_unix_bind(&ctx, file, (struct sockaddr_un *)&address, (socklen_t)length);
    }
    vfs_file_put(file);
    return length < 0 ? length : 0;
}

static SYSCALL_HANDLER(listen)
{
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    error = is_netlink(file) ? -EOPNOTSUPP
            : is_inet(file)  ? vfs_inet_listen(file, (int)ARG(1))
                             : vfs_unix_listen(file, (int)ARG(1));
    vfs_file_put(file);
    return error;
}

static SYSCALL_HANDLER(connect)
{
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    struct sockaddr_storage address;
    long length = copy_address_in(task, file, ARG(1), ARG(2), &address);
    if (length >= 0 && is_netlink(file)) {
        length = vfs_netlink_connect(file, &address, (socklen_t)length, task_pid(task));
    } else if (length >= 0 && is_inet(file)) {
        bool blocking = !nonblocking(file, 0);
        length = vfs_inet_connect(file, &address, (socklen_t)length, !blocking);
        if (length == -EINPROGRESS && blocking) {
            /* The connection completes (or fails) when the listener has room: wait and ask again. */
            long waited = task_wait_file(task, file, POLLOUT);
            vfs_file_put(file);
            return waited;
        }
    } else if (length >= 0) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        length = vfs_unix_connect(&ctx, file, (struct sockaddr_un *)&address, (socklen_t)length);
    }
    vfs_file_put(file);
    return length < 0 ? length : 0;
}

static long accept_common(struct task *task, const struct syscall_args *args, int flags)
{
    if (flags & ~SOCKET_TYPE_FLAGS)
        return -EINVAL;
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    struct vfs_file *accepted;
    int accepted_flags = (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
    error = is_netlink(file) ? -EOPNOTSUPP : is_inet(file) ? vfs_inet_accept(file, accepted_flags, &accepted)
                          : vfs_unix_accept(file, accepted_flags, &accepted);
    if (error == -EAGAIN && !nonblocking(file, 0)) {
        error = task_wait_file(task, file, POLLIN);
        vfs_file_put(file);
        return error;
    }
    if (error < 0) {
        vfs_file_put(file);
        return error;
    }
    struct sockaddr_storage peer;
    socklen_t peer_length = 0;
    if (is_inet(accepted) ? vfs_inet_name(accepted, true, &peer, &peer_length) < 0
                          : vfs_unix_name(accepted, true, &peer, &peer_length) < 0) {
        /* An inet connection reset before accept still has its address; nothing else fails here. */
        memset(&peer, 0, sizeof(peer));
    }
    /* The connecting end is usually unnamed: report just the family, as Linux does. */
    vfs_file_get(accepted);
    int fd = install(task, accepted, flags & SOCK_CLOEXEC);
    if (fd >= 0 && ARG(1) && copy_address_out(task, ARG(1), ARG(2), &peer, peer_length) < 0) {
        vfs_fd_close(task_fd_table(task), fd);
        fd = -EFAULT;
    }
    vfs_file_put(accepted);
    vfs_file_put(file);
    return fd;
}

static SYSCALL_HANDLER(accept) { return accept_common(task, args, 0); }
static SYSCALL_HANDLER(accept4) { return accept_common(task, args, (int)ARG(3)); }

static long name_common(struct task *task, const struct syscall_args *args, bool peer)
{
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    struct sockaddr_storage name;
    socklen_t length;
    error = is_netlink(file) ? vfs_netlink_name(file, peer, &name, &length)
            : is_inet(file)  ? vfs_inet_name(file, peer, &name, &length)
                             : vfs_unix_name(file, peer, &name, &length);
    if (error == 0)
        error = copy_address_out(task, ARG(1), ARG(2), &name, length);
    vfs_file_put(file);
    return error;
}

static SYSCALL_HANDLER(getsockname) { return name_common(task, args, false); }
static SYSCALL_HANDLER(getpeername) { return name_common(task, args, true); }

static SYSCALL_HANDLER(shutdown)
{
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    error = is_netlink(file) ? -EOPNOTSUPP
            : is_inet(file)  ? vfs_inet_shutdown(file, (int)ARG(1))
                             : vfs_unix_shutdown(file, (int)ARG(1));
    vfs_file_put(file);
    return error;
}

#define OPTION_VALUE_MAXIMUM 64  /* larger than any option value an inet socket has */

/* getsockopt's answer: size bytes of the value at optval, then size at optlen. */
static long return_option(struct task *task, const struct syscall_args *args, const void *value, size_t size)
{
    if (size && task_copy_out(task, ARG(3), value, size) < 0)
        return -EFAULT;
    int written = (int)size;
    return task_copy_out(task, ARG(4), &written, sizeof(written)) < 0 ? -EFAULT : 0;
}

static long inet_get_option(struct task *task, struct vfs_file *file, int level, int option, int length,
                            const struct syscall_args *args)
{
    uint8_t bytes[OPTION_VALUE_MAXIMUM] = {0};
    socklen_t room = (socklen_t)MIN((size_t)length, sizeof(bytes));
    long error = is_netlink(file) ? vfs_netlink_get_option(file, level, option, bytes, &room)
                                  : vfs_inet_get_option(file, level, option, bytes, &room);
    if (error < 0)
        return error;
    return return_option(task, args, bytes, room);
}

static SYSCALL_HANDLER(getsockopt)
{
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    int level = (int)ARG(1), option = (int)ARG(2);
    int length;
    if (task_copy_in(task, &length, ARG(4), sizeof(length)) < 0) {
        vfs_file_put(file);
        return -EFAULT;
    }
    if (length < 0) {
        vfs_file_put(file);
        return -EINVAL;
    }
    if (is_inet(file) || is_netlink(file)) {
        long result = inet_get_option(task, file, level, option, length, args);
        vfs_file_put(file);
        return result;
    }
    int value = 0;
    struct vfs_unix_credentials peer;
    error = level == SOL_SOCKET ? vfs_unix_get_option(file, option, &value, &peer) : -EOPNOTSUPP;
    vfs_file_put(file);
    if (error < 0)
        return error;
    const void *result = &value;
    size_t size = sizeof(value);
    if (option == SO_PEERCRED) {
        result = &peer;
        size = sizeof(peer);
    }
    return return_option(task, args, result, MIN(size, (size_t)length));
}

static SYSCALL_HANDLER(setsockopt)
{
    struct vfs_file *file;
    long error = socket_file(task, (int)ARG(0), &file);
    if (error < 0)
        return error;
    int level = (int)ARG(1), option = (int)ARG(2);
    int value = 0;
    if (is_inet(file) || is_netlink(file)) {
        uint8_t bytes[OPTION_VALUE_MAXIMUM] = {0};
        int length = (int)ARG(4);
        if (length < 0)
            error = -EINVAL;
        else if (length && task_copy_in(task, bytes, ARG(3), MIN((size_t)length, sizeof(bytes))) < 0)
            error = -EFAULT;
        else if (is_netlink(file))
            error = vfs_netlink_set_option(file, level, option, bytes, (socklen_t)MIN((size_t)length, sizeof(bytes)));
        else
            error = vfs_inet_set_option(file, level, option, bytes, (socklen_t)MIN((size_t)length, sizeof(bytes)));
    } else if (level != SOL_SOCKET) {
        error = -EOPNOTSUPP;
    } else if (ARG(4) < sizeof(int)) {
        error = -EINVAL;
    } else if (task_copy_in(task, &value, ARG(3), sizeof(value)) < 0) {
        error = -EFAULT;
    } else {
        error = vfs_unix_set_option(file, option, value);
    }
    vfs_file_put(file);
    return error;
}

/* ---- sending and receiving ---- */

struct message_buffers {
    uint8_t *data;
    size_t length;  /* what data holds: the task's first bytes, at most TRANSFER_MAXIMUM */
    size_t total;   /* the task's whole length */
    struct iovec iov[IOV_MAXIMUM];
    int iov_count;
};

static long gather(struct task *task, uint64_t iov_address, uint64_t iov_count, struct message_buffers *buffers,
                   bool copy_data)
{
    if (iov_count > IOV_MAXIMUM)
        return -EMSGSIZE;
    buffers->iov_count = (int)iov_count;
    if (iov_count && task_copy_in(task, buffers->iov, iov_address, iov_count * sizeof(struct iovec)) < 0)
        return -EFAULT;
    size_t total = 0;
    for (uint64_t i = 0; i < iov_count; i++) {
        if ((ssize_t)buffers->iov[i].iov_len < 0)
            return -EINVAL;
        total += buffers->iov[i].iov_len;
        if (total > SSIZE_MAX)
            return -EINVAL;
    }
    buffers->total = total;
    buffers->length = MIN(total, (size_t)TRANSFER_MAXIMUM);
    buffers->data = xcalloc(buffers->length ? buffers->length : 1, 1);
    if (!copy_data)
        return 0;
    size_t done = 0;
    for (uint64_t i = 0; i < iov_count && done < buffers->length; i++) {
        size_t chunk = MIN(buffers->iov[i].iov_len, buffers->length - done);
        if (task_copy_in(task, buffers->data + done, (uint64_t)buffers->iov[i].iov_base, chunk) < 0)
            return -EFAULT;
        done += chunk;
    }
    return 0;
}

/* Copy the task's bytes [start, start + length) of its iovec into buffers->data (length <= buffers->length). */
static long gather_range(struct task *task, struct message_buffers *buffers, size_t start, size_t length)
{
    size_t position = 0, end = start + length;
    for (int i = 0; i < buffers->iov_count && position < end; i++) {
        size_t segment_end = position + buffers->iov[i].iov_len;
        if (segment_end > start) {
            size_t from = MAX(start, position), to = MIN(end, segment_end);
            if (to > from && task_copy_in(task, buffers->data + (from - start),
                                          (uint64_t)buffers->iov[i].iov_base + (from - position), to - from) < 0)
                return -EFAULT;
        }
        position = segment_end;
    }
    return 0;
}

/* Copy buffers->data[start, end) out to where those bytes go in the task's iovec. */
static long scatter_range(struct task *task, const struct message_buffers *buffers, size_t start, size_t end)
{
    size_t position = 0;
    for (int i = 0; i < buffers->iov_count && position < end; i++) {
        size_t segment_end = position + buffers->iov[i].iov_len;
        if (segment_end > start) {
            size_t from = MAX(start, position), to = MIN(end, segment_end);
            if (to > from && task_copy_out(task, (uint64_t)buffers->iov[i].iov_base + (from - position),
                                           buffers->data + from, to - from) < 0)
                return -EFAULT;
        }
        position = segment_end;
    }
    return 0;
}

static long scatter(struct task *task, const struct message_buffers *buffers, size_t length)
{
    return scatter_range(task, buffers, 0, length);
}

/* SCM_RIGHTS and SCM_CREDENTIALS from a control buffer: file references to pass, validated credentials. */
static long parse_control(struct task *task, uint64_t control, uint64_t control_length, struct vfs_file ***rights,
                          size_t *rights_count, struct vfs_unix_credentials *credentials, bool *has_credentials)
{
    *rights = NULL;
    *rights_count = 0;
    *has_credentials = false;
    if (!control || control_length == 0)
        return 0;
    if (control_length > 65536)
        return -ENOBUFS;
    uint8_t *buffer = xcalloc(control_length, 1);
    long error = 0;
    if (task_copy_in(task, buffer, control, control_length) < 0) {
        free(buffer);
        return -EFAULT;
    }
    struct msghdr header = {.msg_control = buffer, .msg_controllen = control_length};
    for (struct cmsghdr *item = CMSG_FIRSTHDR(&header); item && error == 0; item = CMSG_NXTHDR(&header, item)) {
        if (item->cmsg_len < sizeof(struct cmsghdr) || item->cmsg_len > control_length) {
            error = -EINVAL;
            break;
        }
        if (item->cmsg_level != SOL_SOCKET) {
            error = -EINVAL;
            break;
        }
        size_t payload = item->cmsg_len - CMSG_LEN(0);
        if (item->cmsg_type == SCM_RIGHTS) {
            size_t count = payload / sizeof(int);
            if (*rights_count + count > RIGHTS_MAXIMUM) {
                error = -EINVAL;
                break;
            }
            struct vfs_file **grown = realloc(*rights, (*rights_count + count) * sizeof(**rights) + 1);
            if (!grown)
                abort();
            *rights = grown;
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(item) + i * sizeof(int), sizeof(fd));
                struct vfs_file *file = vfs_fd_get(task_fd_table(task), fd);
                if (!file) {
                    error = -EBADF;
                    break;
                }
                (*rights)[(*rights_count)++] = file;
            }
        } else if (item->cmsg_type == SCM_CREDENTIALS) {
            if (payload < sizeof(struct ucred)) {
                error = -EINVAL;
                break;
            }
            struct ucred given;
            memcpy(&given, CMSG_DATA(item), sizeof(given));
            /* Only root may claim other identities (Linux: CAP_SYS_ADMIN/SETUID/SETGID). */
            bool privileged = task->credentials.euid == 0;
            if (!privileged && (given.pid != task_pid(task) || given.uid != task->credentials.euid ||
                                given.gid != task->credentials.egid))
                error = -EPERM;
            *credentials = (struct vfs_unix_credentials){given.pid, given.uid, given.gid};
            *has_credentials = true;
        } else {
            error = -EINVAL;
        }
    }
    free(buffer);
    if (error < 0) {
        for (size_t i = 0; i < *rights_count; i++)
            vfs_file_put((*rights)[i]);
        free(*rights);
        *rights = NULL;
        *rights_count = 0;
    }
    return error;
}

static long send_common(struct task *task, int fd, struct message_buffers *buffers, int flags,
                        uint64_t to_address, uint64_t to_length, uint64_t control, uint64_t control_length)
{
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_EOR | MSG_MORE | MSG_CONFIRM | MSG_DONTROUTE | MSG_OOB))
        return -EINVAL;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    struct vfs_file *file;
    long error = socket_file(task, fd, &file);
    if (error < 0)
        return error;
    struct sockaddr_storage to;
    long to_size = 0;
    if (to_address) {
        to_size = copy_address_in(task, file, to_address, to_length, &to);
        if (to_size < 0) {
            vfs_file_put(file);
            return to_size;
        }
    }
    struct vfs_file **rights;
    size_t rights_count;
    struct vfs_unix_credentials credentials;
    bool has_credentials;
    error = parse_control(task, control, control_length, &rights, &rights_count, &credentials, &has_credentials);
    if (error < 0) {
        vfs_file_put(file);
        return error;
    }
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    struct vfs_unix_send request = {
        .data = buffers->data, .length = buffers->length, .rights = rights, .rights_count = rights_count,
        .credentials = has_credentials ? &credentials : NULL, .to = to_address ? &to : NULL,
        .to_length = (socklen_t)to_size, .context = &ctx,
    };
    if (is_inet(file) && vfs_inet_socket_type(file) == SOCK_STREAM)
        request.to = NULL;  /* TCP ignores a destination address (there is no fast open here) */
    /* A blocking send on a TCP socket takes everything, waiting for room as often as needed (tcp_sendmsg); how
     * much went is kept across the waits, and a signal or an error then ends the call with that count. */
    bool whole = is_inet(file) && vfs_inet_socket_type(file) == SOCK_STREAM && !nonblocking(file, flags);
    uint64_t *progress = task_syscall_restart_state(task);
    size_t done = whole ? (size_t)MIN(progress[0], (uint64_t)buffers->total) : 0;
    ssize_t sent;
    for (;;) {
        if (whole) {
            /* The window of the task's bytes from done on (the first window was copied by the caller). */
            request.length = MIN(buffers->total - done, (size_t)TRANSFER_MAXIMUM);
            if (done > 0 && gather_range(task, buffers, done, request.length) < 0) {
                sent = -EFAULT;
                break;
            }
        }
        sent = is_netlink(file) ? vfs_netlink_send(file, &request)
               : is_inet(file)  ? vfs_inet_send(file, &request)
                                : vfs_unix_send(file, &request);
        if (!whole || sent <= 0)
            break;
        done += (size_t)sent;
        progress[0] = done;
        if (done == buffers->total)
            break;
    }
    for (size_t i = 0; i < rights_count; i++)
        vfs_file_put(rights[i]);
    free(rights);
    if (sent == -EAGAIN && !nonblocking(file, flags)) {
        task->interrupted_result = (long)done;  /* 0: the usual restart rules */
        long waited = task_wait_file(task, file, POLLOUT);
        vfs_file_put(file);
        return waited;
    }
    if (whole) {
        progress[0] = 0;
        if (done > 0) {
            vfs_file_put(file);
            return (long)done;
        }
    }
    if (sent == -EPIPE && !(flags & MSG_NOSIGNAL))
        task_send_signal(task, SIGPIPE);
    vfs_file_put(file);
    return sent;
}

static long receive_common(struct task *task, int fd, struct message_buffers *buffers, int flags,
                           uint64_t from_address, uint64_t from_length_address, struct msghdr *header,
                           uint64_t header_address)
{
    if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_WAITALL | MSG_CMSG_CLOEXEC | MSG_ERRQUEUE | MSG_OOB))
        return -EINVAL;
    if (flags & (MSG_OOB | MSG_ERRQUEUE))
        return flags & MSG_OOB ? -EOPNOTSUPP : -EAGAIN;
    struct vfs_file *file;
    long error = socket_file(task, fd, &file);
    if (error < 0)
        return error;
    /* MSG_WAITALL on a stream: each chunk goes to the task as it comes, and how much has is kept across the
     * waits in between; a signal then ends the call with that count, an end of stream or error with it too. */
    int socket_type = 0;
    if (is_inet(file))
        socket_type = vfs_inet_socket_type(file);
    else if (vfs_file_is_unix_socket(file))
        vfs_unix_get_option(file, SO_TYPE, &socket_type, NULL);
    bool wait_all = (flags & MSG_WAITALL) && !(flags & MSG_PEEK) && socket_type == SOCK_STREAM;
    uint64_t *progress = task_syscall_restart_state(task);
    size_t done = wait_all ? (size_t)progress[0] : 0;
    struct vfs_unix_receive request;
    ssize_t received;
    for (;;) {
        request = (struct vfs_unix_receive){.data = buffers->data + done, .length = buffers->length - done,
                                            .flags = flags};
        received = is_netlink(file) ? vfs_netlink_receive(file, &request)
                   : is_inet(file)  ? vfs_inet_receive(file, &request)
                                    : vfs_unix_receive(file, &request);
        if (!wait_all || received <= 0)
            break;
        if (scatter_range(task, buffers, done, done + (size_t)received) < 0) {
            received = -EFAULT;
            break;
        }
        done += (size_t)received;
        progress[0] = done;
        if (done == buffers->length || request.rights_count)
            break;
    }
    if (received == -EAGAIN && !nonblocking(file, flags)) {
        task->interrupted_result = (long)done;  /* 0: the usual restart rules */
        long waited = task_wait_file(task, file, POLLIN);
        vfs_file_put(file);
        return waited;
    }
    vfs_file_put(file);
    progress[0] = 0;  /* finished: a recvmmsg's next message starts afresh */
    if (wait_all && done > 0)
        received = (ssize_t)done;  /* what arrived before the end, an error or a non-blocking stop */
    if (received < 0)
        return received;
    long result = wait_all ? 0 : scatter(task, buffers, MIN((size_t)received, buffers->length));
    if (result == 0 && from_address && request.from_length)
        result = copy_address_out(task, from_address, from_length_address, &request.from, request.from_length);
    else if (result == 0 && from_address) {
        int zero = 0;
        result = task_copy_out(task, from_length_address, &zero, sizeof(zero));
    }
    if (result == 0 && header) {
        /* Control messages: passed fds become ours; what does not fit is closed and MSG_CTRUNC set. */
        size_t capacity = header->msg_control ? header->msg_controllen : 0;
        uint8_t *control = xcalloc(capacity + 1, 1);
        size_t used = 0;
        int message_flags = request.message_flags;
        if (request.credentials_present) {
            struct ucred sender = {request.credentials.pid, request.credentials.uid, request.credentials.gid};
            if (capacity - used >= CMSG_SPACE(sizeof(sender))) {
                struct cmsghdr *item = (struct cmsghdr *)(control + used);
                item->cmsg_len = CMSG_LEN(sizeof(sender));
                item->cmsg_level = SOL_SOCKET;
                item->cmsg_type = SCM_CREDENTIALS;
                memcpy(CMSG_DATA(item), &sender, sizeof(sender));
                used += CMSG_SPACE(sizeof(sender));
            } else {
                message_flags |= MSG_CTRUNC;
            }
        }
        if (request.rights_count) {
            size_t room = capacity - used < CMSG_LEN(0) ? 0 : (capacity - used - CMSG_LEN(0)) / sizeof(int);
            size_t count = MIN(room, request.rights_count);
            if (count < request.rights_count)
                message_flags |= MSG_CTRUNC;
            if (count) {
                struct cmsghdr *item = (struct cmsghdr *)(control + used);
                item->cmsg_len = CMSG_LEN(count * sizeof(int));
                item->cmsg_level = SOL_SOCKET;
                item->cmsg_type = SCM_RIGHTS;
                for (size_t i = 0; i < count; i++) {
                    int new_fd = vfs_fd_install(task_fd_table(task), request.rights[i], 0, flags & MSG_CMSG_CLOEXEC,
                                                task_rlimit_current(task, RLIMIT_NOFILE));
                    if (new_fd < 0) {
                        message_flags |= MSG_CTRUNC;
                        item->cmsg_len = CMSG_LEN(i * sizeof(int));
                        break;
                    }
                    memcpy(CMSG_DATA(item) + i * sizeof(int), &new_fd, sizeof(new_fd));
                }
                used += CMSG_SPACE((item->cmsg_len - CMSG_LEN(0)));
                used = MIN(used, capacity);
            }
        }
        if (used && task_copy_out(task, (uint64_t)header->msg_control, control, used) < 0)
            result = -EFAULT;
        free(control);
        header->msg_controllen = used;
        header->msg_flags = message_flags;
        if (result == 0 && (task_copy_out(task, header_address + offsetof(struct msghdr, msg_controllen),
                                          &header->msg_controllen, sizeof(header->msg_controllen)) < 0 ||
                            task_copy_out(task, header_address + offsetof(struct msghdr, msg_flags),
                                          &header->msg_flags, sizeof(header->msg_flags)) < 0))
            result = -EFAULT;
    }
    for (size_t i = 0; i < request.rights_count; i++)
        vfs_file_put(request.rights[i]);
    free(request.rights);
    return result < 0 ? result : received;
}

static SYSCALL_HANDLER(sendto)
{
    struct message_buffers buffers;
    struct iovec single = {(void *)ARG(1), ARG(2)};
    memset(&buffers, 0, sizeof(buffers));
    if (ARG(2) > SSIZE_MAX)
        return -EINVAL;
    /* Linux checks the buffer's range (import_ubuf) before it looks at the socket. */
    if (!syscall_user_range_ok(ARG(1), MIN(ARG(2), (uint64_t)MAX_RW_COUNT)))
        return -EFAULT;
    /* UDP refuses a datagram longer than an IP packet before it reads a byte of it. */
    struct vfs_file *file;
    if (socket_file(task, (int)ARG(0), &file) == 0) {
        bool too_long = is_inet(file) && vfs_inet_socket_type(file) == SOCK_DGRAM && ARG(2) > 0xffff;
        vfs_file_put(file);
        if (too_long)
            return -EMSGSIZE;
    }
    buffers.iov[0] = single;
    buffers.iov_count = 1;
    buffers.total = ARG(2);
    buffers.length = MIN(ARG(2), (uint64_t)TRANSFER_MAXIMUM);
    buffers.data = xcalloc(buffers.length ? buffers.length : 1, 1);
    long result = task_copy_in(task, buffers.data, ARG(1), buffers.length) < 0 ? -EFAULT
                  : send_common(task, (int)ARG(0), &buffers, (int)ARG(3), ARG(4), ARG(5), 0, 0);
    free(buffers.data);
    return result;
}

static SYSCALL_HANDLER(recvfrom)
{
    struct message_buffers buffers;
    memset(&buffers, 0, sizeof(buffers));
    if (!syscall_user_range_ok(ARG(1), MIN(ARG(2), (uint64_t)MAX_RW_COUNT)))
        return -EFAULT;
    buffers.iov[0] = (struct iovec){(void *)ARG(1), ARG(2)};
    buffers.iov_count = 1;
    buffers.length = MIN(ARG(2), (uint64_t)TRANSFER_MAXIMUM);
    buffers.data = xcalloc(buffers.length ? buffers.length : 1, 1);
    long result = receive_common(task, (int)ARG(0), &buffers, (int)ARG(3), ARG(4), ARG(5), NULL, 0);
    free(buffers.data);
    return result;
}

/* One sendmsg: the struct msghdr at header_address. */
static long send_message(struct task *task, int fd, uint64_t header_address, int flags)
{
    struct msghdr header;
    if (task_copy_in(task, &header, header_address, sizeof(header)) < 0)
        return -EFAULT;
    struct message_buffers *buffers = xcalloc(1, sizeof(*buffers));
    long result = gather(task, (uint64_t)header.msg_iov, header.msg_iovlen, buffers, true);
    if (result == 0)
        result = send_common(task, fd, buffers, flags, (uint64_t)header.msg_name, header.msg_namelen,
                             (uint64_t)header.msg_control, header.msg_controllen);
    free(buffers->data);
    free(buffers);
    return result;
}

/* One recvmsg: the struct msghdr at header_address. */
static long receive_message(struct task *task, int fd, uint64_t header_address, int flags)
{
    struct msghdr header;
    if (task_copy_in(task, &header, header_address, sizeof(header)) < 0)
        return -EFAULT;
    struct message_buffers *buffers = xcalloc(1, sizeof(*buffers));
    long result = gather(task, (uint64_t)header.msg_iov, header.msg_iovlen, buffers, false);
    if (result == 0) {
        uint64_t name_length_address = header_address + offsetof(struct msghdr, msg_namelen);
        if (header.msg_name) {
            /* recvmsg takes the name buffer's size from msg_namelen, and writes the real length back. */
            result = receive_common(task, fd, buffers, flags, (uint64_t)header.msg_name, name_length_address,
                                    &header, header_address);
        } else {
            result = receive_common(task, fd, buffers, flags, 0, 0, &header, header_address);
        }
    }
    free(buffers->data);
    free(buffers);
    return result;
}

static SYSCALL_HANDLER(sendmsg) { return send_message(task, (int)ARG(0), ARG(1), (int)ARG(2)); }
static SYSCALL_HANDLER(recvmsg) { return receive_message(task, (int)ARG(0), ARG(1), (int)ARG(2)); }

/* ---- sendmmsg / recvmmsg: several messages, counted in restart_state across the waits between them (a
 * re-run continues where the last one stopped; a signal then ends the call with the count so far). ---- */

#define MMSG_DONE 1      /* restart_state slots: messages done so far */
#define MMSG_DEADLINE 2  /* recvmmsg: the timeout's end, CLOCK_MONOTONIC ns (0 = none) */
#define MMSG_HEADER_SIZE sizeof(struct mmsghdr)
#define LINUX_MSG_WAITFORONE 0x10000
#define LINUX_MSG_CMSG_COMPAT 0x80000000U  /* the kernel's own flag: refused from user space */

/* Record msg_len of message index. */
static int put_message_length(struct task *task, uint64_t vector, uint64_t index, long length)
{
    unsigned int value = (unsigned int)length;
    return task_copy_out(task, vector + index * MMSG_HEADER_SIZE + offsetof(struct mmsghdr, msg_len), &value,
                         sizeof(value));
}

static SYSCALL_HANDLER(sendmmsg)
{
    int fd = (int)ARG(0);
    uint64_t vector = ARG(1);
    unsigned int count = (unsigned int)ARG(2);
    int flags = (int)ARG(3);
    struct vfs_file *file;
    long error = socket_file(task, fd, &file);
    if (error < 0)
        return error;
    vfs_file_put(file);
    count = MIN(count, (unsigned int)IOV_MAXIMUM);
    uint64_t *state = task_syscall_restart_state(task);
    uint64_t done = state[MMSG_DONE];
    long result = 0;
    while (done < count) {
        struct msghdr header;
        uint64_t header_address = vector + done * MMSG_HEADER_SIZE;
        result = send_message(task, fd, header_address, flags);
        if (result < 0)
            break;
        if (put_message_length(task, vector, done, result) < 0) {
            result = -EFAULT;
            break;
        }
        done++;
        state[MMSG_DONE] = done;
        /* A stream socket that took part of a message stops the batch (msg_data_left). */
        size_t total = 0;
        if (task_copy_in(task, &header, header_address, sizeof(header)) == 0 && header.msg_iovlen <= IOV_MAXIMUM) {
            for (size_t i = 0; i < header.msg_iovlen; i++) {
                struct iovec segment;
                if (task_copy_in(task, &segment, (uint64_t)header.msg_iov + i * sizeof(segment), sizeof(segment)) < 0)
                    break;
                total += segment.iov_len;
            }
        }
        if ((size_t)result < MIN(total, (size_t)TRANSFER_MAXIMUM))
            break;
    }
    if (result == -SENTRY_ERESTARTSYS && done > 0)
        task->interrupted_result = (long)done;
    if (result == -SENTRY_ERESTARTSYS)
        return result;
    return done > 0 ? (long)done : result;
}

static SYSCALL_HANDLER(recvmmsg)
{
    int fd = (int)ARG(0);
    uint64_t vector = ARG(1);
    unsigned int count = (unsigned int)ARG(2);
    int flags = (int)ARG(3);
    uint64_t timeout_address = ARG(4);
    uint64_t *state = task_syscall_restart_state(task);
    if ((unsigned int)flags & LINUX_MSG_CMSG_COMPAT)
        return -EINVAL;
    if (!task_syscall_is_restarted(task) && timeout_address) {
        struct timespec timeout;
        if (task_copy_in(task, &timeout, timeout_address, sizeof(timeout)) < 0)
            return -EFAULT;
        if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000L)
            return -EINVAL;
        uint64_t length = (uint64_t)timeout.tv_sec * 1000000000ULL + (uint64_t)timeout.tv_nsec;
        uint64_t now = monotonic_nanoseconds();
        state[MMSG_DEADLINE] = length > UINT64_MAX - now ? UINT64_MAX : now + length;
    }
    struct vfs_file *file;
    long error = socket_file(task, fd, &file);
    if (error < 0)
        return error;
    vfs_file_put(file);
    uint64_t done = state[MMSG_DONE];
    long result = 0;
    bool timed_out = false;
    while (done < count) {
        /* MSG_WAITFORONE: non-blocking once one message has come. */
        int message_flags = flags & ~LINUX_MSG_WAITFORONE;
        if ((flags & LINUX_MSG_WAITFORONE) && done > 0)
            message_flags |= MSG_DONTWAIT;
        uint64_t header_address = vector + done * MMSG_HEADER_SIZE;
        result = receive_message(task, fd, header_address, message_flags);
        if (result < 0)
            break;
        if (put_message_length(task, vector, done, result) < 0) {
            result = -EFAULT;
            break;
        }
        done++;
        state[MMSG_DONE] = done;
        result = 0;
        /* Linux looks at the timeout only after each message: it never ends a wait for one. */
        if (timeout_address && monotonic_nanoseconds() >= state[MMSG_DEADLINE]) {
            timed_out = true;
            break;
        }
    }
    if (result == -SENTRY_ERESTARTSYS) {
        if (done > 0)
            task->interrupted_result = (long)done;
        return result;
    }
    if (done == 0)
        return result;
    if (timeout_address) {
        uint64_t now = monotonic_nanoseconds();
        uint64_t left = timed_out || now >= state[MMSG_DEADLINE] ? 0 : state[MMSG_DEADLINE] - now;
        struct timespec remaining = {(time_t)(left / 1000000000ULL), (long)(left % 1000000000ULL)};
        if (task_copy_out(task, timeout_address, &remaining, sizeof(remaining)) < 0)
            return -EFAULT;
    }
    return (long)done;
}

/* ---- the loopback interface, as the SIOCGIF* ioctls show it ---- */

#define LOOPBACK_NAME "lo"
#define LOOPBACK_INDEX 1
#define LOOPBACK_MTU 65536
#define LOOPBACK_FLAGS (IFF_UP | IFF_LOOPBACK | IFF_RUNNING)

static void put_ipv4(struct sockaddr *out, uint32_t address_host_order)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(address_host_order)};
    memcpy(out, &v4, sizeof(v4));
}

/* SIOCGIFCONF: the IPv4 interfaces, as many whole struct ifreq as fit; with no buffer, the size needed. */
static long interface_list(struct task *task, uint64_t argument)
{
    struct ifconf list;
    if (task_copy_in(task, &list, argument, sizeof(list)) < 0)
        return -EFAULT;
    if (list.ifc_buf == NULL) {
        list.ifc_len = sizeof(struct ifreq);
    } else {
        int room = list.ifc_len;
        list.ifc_len = 0;
        if (room >= (int)sizeof(struct ifreq)) {
            struct ifreq entry;
            memset(&entry, 0, sizeof(entry));
            strcpy(entry.ifr_name, LOOPBACK_NAME);
            put_ipv4(&entry.ifr_addr, INADDR_LOOPBACK);
            if (task_copy_out(task, (uint64_t)list.ifc_buf, &entry, sizeof(entry)) < 0)
                return -EFAULT;
            list.ifc_len = sizeof(entry);
        }
    }
    return task_copy_out(task, argument + offsetof(struct ifconf, ifc_len), &list.ifc_len, sizeof(list.ifc_len)) < 0
               ? -EFAULT : 0;
}

long syscall_socket_ioctl(struct task *task, struct vfs_file *file, unsigned long command, uint64_t argument)
{
    if (!vfs_file_is_unix_socket(file) && !vfs_file_is_inet_socket(file))
        return -ENOTTY;
    bool ipv4 = false;
    if (is_inet(file)) {
        int family = 0;
        socklen_t size = sizeof(family);
        vfs_inet_get_option(file, SOL_SOCKET, SO_DOMAIN, &family, &size);
        ipv4 = family == AF_INET;
    }
    switch (command) {
    case SIOCOUTQ: {
        int32_t count;
        long error = vfs_ioctl(file, TIOCOUTQ, &count, sizeof(count));
        if (error < 0)
            return error;
        return task_copy_out(task, argument, &count, sizeof(count)) < 0 ? -EFAULT : 0;
    }
    case SIOCGIFCONF:
        return interface_list(task, argument);
    case SIOCGIFNAME: case SIOCGIFFLAGS: case SIOCGIFINDEX: case SIOCGIFMTU: case SIOCGIFHWADDR: case SIOCGIFTXQLEN:
    case SIOCGIFADDR: case SIOCGIFNETMASK:
        break;
    default:
        return -ENOTTY;
    }
    if ((command == SIOCGIFADDR || command == SIOCGIFNETMASK) && !ipv4)
        return -ENOTTY;  /* only the IPv4 layer answers these (devinet_ioctl) */
    struct ifreq request;
    if (task_copy_in(task, &request, argument, sizeof(request)) < 0)
        return -EFAULT;
    request.ifr_name[IFNAMSIZ - 1] = '\0';
    if (command == SIOCGIFNAME) {
        if (request.ifr_ifindex != LOOPBACK_INDEX)
            return -ENODEV;
        memset(request.ifr_name, 0, sizeof(request.ifr_name));
        strcpy(request.ifr_name, LOOPBACK_NAME);
    } else {
        if (strcmp(request.ifr_name, LOOPBACK_NAME) != 0)
            return -ENODEV;
        switch (command) {
        case SIOCGIFFLAGS: request.ifr_flags = LOOPBACK_FLAGS; break;
        case SIOCGIFINDEX: request.ifr_ifindex = LOOPBACK_INDEX; break;
        case SIOCGIFMTU: request.ifr_mtu = LOOPBACK_MTU; break;
        case SIOCGIFTXQLEN: request.ifr_qlen = 1000; break;
        case SIOCGIFHWADDR:
            memset(&request.ifr_hwaddr, 0, sizeof(request.ifr_hwaddr));
            request.ifr_hwaddr.sa_family = ARPHRD_LOOPBACK;
            break;
        case SIOCGIFADDR: put_ipv4(&request.ifr_addr, INADDR_LOOPBACK); break;
        case SIOCGIFNETMASK: put_ipv4(&request.ifr_netmask, 0xff000000U); break;
        }
    }
    return task_copy_out(task, argument, &request, sizeof(request)) < 0 ? -EFAULT : 0;
}

const struct syscall_binding syscall_bindings_socket[] = {
    {__NR_socket, sys_socket}, {__NR_socketpair, sys_socketpair}, {__NR_bind, sys_bind},
    {__NR_listen, sys_listen}, {__NR_connect, sys_connect}, {__NR_accept, sys_accept},
    {__NR_accept4, sys_accept4}, {__NR_getsockname, sys_getsockname}, {__NR_getpeername, sys_getpeername},
    {__NR_shutdown, sys_shutdown}, {__NR_getsockopt, sys_getsockopt}, {__NR_setsockopt, sys_setsockopt},
    {__NR_sendto, sys_sendto}, {__NR_recvfrom, sys_recvfrom}, {__NR_sendmsg, sys_sendmsg},
    {__NR_recvmsg, sys_recvmsg}, {__NR_sendmmsg, sys_sendmmsg}, {__NR_recvmmsg, sys_recvmmsg}, {-1, NULL},
};
