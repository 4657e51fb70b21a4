/* syscalls/ipc.c: System V semaphores, message queues and shared memory (semget, semop, semtimedop, semctl,
 * msgget, msgsnd, msgrcv, msgctl, shmget, shmat, shmdt, shmctl): argument decoding as the kernel's entry points
 * do; the namespace lives in sentry/ipc.c. */
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

static SYSCALL_HANDLER(shmget)
{
    return ipc_shmget(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2));
}

static SYSCALL_HANDLER(shmat)
{
    return ipc_shmat(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2));
}

static SYSCALL_HANDLER(shmdt) { return ipc_shmdt(task, args->arg[0]); }

static SYSCALL_HANDLER(shmctl)
{
    return ipc_shmctl(task, syscall_argument_int(args, 0), syscall_argument_int(args, 1), args->arg[2]);
}

const struct syscall_binding syscall_bindings_ipc[] = {
    {__NR_shmget, sys_shmget}, {__NR_shmat, sys_shmat}, {__NR_shmdt, sys_shmdt}, {__NR_shmctl, sys_shmctl},
    {__NR_semget, sys_semget}, {__NR_semop, sys_semop}, {__NR_semtimedop, sys_semtimedop},
    {__NR_semctl, sys_semctl}, {__NR_msgget, sys_msgget}, {__NR_msgsnd, sys_msgsnd},
    {__NR_msgrcv, sys_msgrcv}, {__NR_msgctl, sys_msgctl}, {-1, NULL},
};
