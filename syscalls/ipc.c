/* syscalls/ipc.c: System V semaphores and message queues (semget, semop, semtimedop, semctl, msgget, msgsnd,
 * msgrcv, msgctl): argument decoding as the kernel's entry points do; the namespace lives in sentry/ipc.c. */
#include <errno.h>
#include <sys/syscall.h>

#include "sentry/internal.h"
#include "syscalls/internal.h"

static SYSCALL_HANDLER(semget)
{
    return ipc_semget(task, syscall_argument_int(args, 0), syscall_argument_int(args, 1), syscall_argument_int(args, 2));
}

static SYSCALL_HANDLER(semop)
{
    return ipc_semtimedop(task, syscall_argument_int(args, 0), args->arg[1], (uint32_t)args->arg[2], 0, false);
}

static SYSCALL_HANDLER(semtimedop)
{
    return ipc_semtimedop(task, syscall_argument_int(args, 0), args->arg[1], (uint32_t)args->arg[2], args->arg[3],
                          args->arg[3] != 0);
}

static SYSCALL_HANDLER(semctl)
{
    return ipc_semctl(task, syscall_argument_int(args, 0), syscall_argument_int(args, 1),
                      syscall_argument_int(args, 2), args->arg[3]);
}

static SYSCALL_HANDLER(msgget)
{
    return ipc_msgget(task, syscall_argument_int(args, 0), syscall_argument_int(args, 1));
}

static SYSCALL_HANDLER(msgsnd)
{
    return ipc_msgsnd(task, syscall_argument_int(args, 0), args->arg[1], args->arg[2], syscall_argument_int(args, 3));
}

static SYSCALL_HANDLER(msgrcv)
{
    return ipc_msgrcv(task, syscall_argument_int(args, 0), args->arg[1], args->arg[2], (int64_t)args->arg[3],
                      syscall_argument_int(args, 4));
}

static SYSCALL_HANDLER(msgctl)
{
    return ipc_msgctl(task, syscall_argument_int(args, 0), syscall_argument_int(args, 1), args->arg[2]);
}

const struct syscall_binding syscall_bindings_ipc[] = {
    {__NR_semget, sys_semget}, {__NR_semop, sys_semop}, {__NR_semtimedop, sys_semtimedop},
    {__NR_semctl, sys_semctl}, {__NR_msgget, sys_msgget}, {__NR_msgsnd, sys_msgsnd},
    {__NR_msgrcv, sys_msgrcv}, {__NR_msgctl, sys_msgctl}, {-1, NULL},
};
