/* gofer/transport.c: sendmsg/recvmsg framing of protocol messages and SCM_RIGHTS fd donation.
 * Received fds are always taken close-on-exec and never leak: unexpected ones are closed right here. */
#include "gofer/transport.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for more fds than we keep, so a peer sending too many gets them closed rather than truncated. */
#define CONTROL_FDS (2 * PROTOCOL_MAX_FDS)

bool transport_is_message_oriented(int socket_fd)
{
    int type = 0;
    socklen_t length = sizeof(type);
    if (getsockopt(socket_fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0)
        return false;
    return type == SOCK_SEQPACKET || type == SOCK_DGRAM;
}

void transport_close_fds(int *fds, size_t *fd_count)
{
    for (size_t i = 0; i < *fd_count; i++)
        close(fds[i]);
    *fd_count = 0;
}

int transport_send(int socket_fd, const uint8_t *message, size_t length, int donated_fd)
{
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    bool fd_pending = donated_fd >= 0;
    size_t sent = 0;
    while (sent < length) {
        struct iovec iov = {.iov_base = (void *)(message + sent), .iov_len = length - sent};
        struct msghdr header = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd_pending) {
            memset(&control, 0, sizeof(control));
            header.msg_control = control.buffer;
            header.msg_controllen = sizeof(control.buffer);
            struct cmsghdr *cmsg = CMSG_FIRSTHDR(&header);
            cmsg->cmsg_level = SOL_SOCKET;
            cmsg->cmsg_type = SCM_RIGHTS;
            cmsg->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cmsg), &donated_fd, sizeof(int));
        }
        ssize_t written = sendmsg(socket_fd, &header, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        fd_pending = false;  /* the kernel attached it to the bytes it accepted */
        sent += (size_t)written;
    }
    return 0;
}

/* Keeps up to PROTOCOL_MAX_FDS of the fds in a received control buffer; closes the rest. */
static void collect_fds(struct msghdr *header, int *fds, size_t *fd_count)
{
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(header); cmsg; cmsg = CMSG_NXTHDR(header, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (*fd_count < PROTOCOL_MAX_FDS)
                fds[(*fd_count)++] = fd;
            else
                close(fd);
        }
    }
}

/* One recvmsg, retried on EINTR. Returns bytes read, 0 at end of stream, or -errno. */
static ssize_t receive_some(int socket_fd, void *buffer, size_t length, int *fds, size_t *fd_count,
                            bool *truncated)
{
    union {
        char buffer[CMSG_SPACE(CONTROL_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    for (;;) {
        struct iovec iov = {.iov_base = buffer, .iov_len = length};
        struct msghdr header = {.msg_iov = &iov,
                                .msg_iovlen = 1,
                                .msg_control = control.buffer,
                                .msg_controllen = sizeof(control.buffer)};
        ssize_t received = recvmsg(socket_fd, &header, MSG_CMSG_CLOEXEC);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        collect_fds(&header, fds, fd_count);
        if (truncated)
            *truncated = (header.msg_flags & MSG_TRUNC) != 0;
        return received;
    }
}

static int receive_record(int socket_fd, uint8_t *buffer, size_t capacity, int *fds, size_t *fd_count)
{
    bool truncated = false;
    ssize_t received = receive_some(socket_fd, buffer, capacity, fds, fd_count, &truncated);
    if (received <= 0)
        return (int)received;
    if (truncated)
        return -EMSGSIZE;
    struct protocol_header header;
    int error = protocol_decode_header(buffer, (size_t)received, &header);
    if (error)
        return error;
    if (header.size != (size_t)received)
        return -EPROTO;
    return (int)received;
}

/* Reads exactly length bytes of a stream; *eof_at_start tells an orderly close from a torn message. */
static int receive_exactly(int socket_fd, uint8_t *buffer, size_t length, int *fds, size_t *fd_count,
                           bool *eof_at_start)
{
    size_t done = 0;
    *eof_at_start = false;
    while (done < length) {
        ssize_t received = receive_some(socket_fd, buffer + done, length - done, fds, fd_count, NULL);
        if (received < 0)
            return (int)received;
        if (received == 0) {
            *eof_at_start = done == 0;
            return -EIO;
        }
        done += (size_t)received;
    }
    return 0;
}

static int receive_stream(int socket_fd, uint8_t *buffer, size_t capacity, int *fds, size_t *fd_count)
{
    if (capacity < PROTOCOL_HEADER_SIZE)
        return -EMSGSIZE;
    bool eof_at_start;
    int error = receive_exactly(socket_fd, buffer, PROTOCOL_HEADER_SIZE, fds, fd_count, &eof_at_start);
    if (error)
        return eof_at_start ? 0 : error;
    struct protocol_header header;
    error = protocol_decode_header(buffer, PROTOCOL_HEADER_SIZE, &header);
    if (error)
        return error;
    if (header.size > capacity)
        return -EMSGSIZE;
    error = receive_exactly(socket_fd, buffer + PROTOCOL_HEADER_SIZE, header.size - PROTOCOL_HEADER_SIZE, fds,
                            fd_count, &eof_at_start);
    if (error)
        return error;
    return (int)header.size;
}

int transport_receive(int socket_fd, bool message_oriented, uint8_t *buffer, size_t capacity, int *fds,
                      size_t *fd_count)
{
    *fd_count = 0;
    int result = message_oriented ? receive_record(socket_fd, buffer, capacity, fds, fd_count)
                                  : receive_stream(socket_fd, buffer, capacity, fds, fd_count);
    if (result <= 0)
        transport_close_fds(fds, fd_count);
    return result;
}
