/* gofer/transport.h: moving whole protocol messages, and the fds that ride with them, over the socket.
 * Internal to gofer/; works on SOCK_STREAM (framed by the size field) and SOCK_SEQPACKET sockets. */
#ifndef USANDBOX_GOFER_TRANSPORT_H
#define USANDBOX_GOFER_TRANSPORT_H

#include "gofer/protocol.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if each send on socket_fd arrives as one record (SOCK_SEQPACKET, SOCK_DGRAM); a stream otherwise. */
bool transport_is_message_oriented(int socket_fd);

/* Send message[0..length) whole; if donated_fd >= 0 it travels as SCM_RIGHTS with the first byte.
 * Never raises SIGPIPE. Returns 0 or -errno. */
int transport_send(int socket_fd, const uint8_t *message, size_t length, int donated_fd);

/* Receive one whole message into buffer[0..capacity). Fds that came with it (close-on-exec) are stored in
 * fds[0..*fd_count), at most PROTOCOL_MAX_FDS; any further ones are closed. Returns the message length,
 * 0 when the peer closed between messages, -EMSGSIZE / -EPROTO when the message cannot be framed (the
 * connection is then unusable), -EIO when the peer closed in the middle of one, or another -errno.
 * On any non-positive return no fds are left open. */
int transport_receive(int socket_fd, bool message_oriented, uint8_t *buffer, size_t capacity, int *fds,
                      size_t *fd_count);

void transport_close_fds(int *fds, size_t *fd_count);

#endif
