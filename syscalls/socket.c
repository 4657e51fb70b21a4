/* syscalls/socket.c: the socket family. With the "none" network (the only one so far) there are no sockets
 * yet: every socket syscall stays unbound in the table, so it returns ENOSYS and is logged once by name. */
#include "syscalls/syscalls.h"

const struct syscall_binding syscall_bindings_socket[] = {
    {-1, NULL},
};
