/* syscalls/dispatch.c: binds each family's handlers into the table and runs them; a number without a
 * handler returns ENOSYS and is logged once, by name, per sandbox. */
#include "syscalls/syscalls.h"
#include "syscalls/families_extra.h"

#include <errno.h>

static syscall_handler handlers[SYSCALL_TABLE_SIZE];
static bool handlers_bound;
static bool unsupported_logged[SYSCALL_TABLE_SIZE + 1];

static void bind_family(const struct syscall_binding *bindings)
{
    for (; bindings->number >= 0; bindings++)
        if (bindings->number < SYSCALL_TABLE_SIZE)
            handlers[bindings->number] = bindings->handler;
}

static void bind_all(void)
{
    const struct syscall_binding *families[] = {
        syscall_bindings_signalfd, syscall_bindings_inotify, syscall_bindings_ipc,
        syscall_bindings_file, syscall_bindings_fs, syscall_bindings_mm, syscall_bindings_process,
        syscall_bindings_signal, syscall_bindings_time, syscall_bindings_info, syscall_bindings_socket, syscall_bindings_futex, syscall_bindings_xattr,
        syscall_bindings_poll, syscall_bindings_timer, syscall_bindings_eventfd, syscall_bindings_timerfd,
        syscall_bindings_epoll, syscall_bindings_memfd, syscall_bindings_locks,
        syscall_bindings_sched, syscall_bindings_system, syscall_bindings_splice, syscall_bindings_pidfd,
    };
    for (size_t i = 0; i < ARRAY_SIZE(families); i++)
        bind_family(families[i]);
    handlers_bound = true;
}

bool syscall_is_implemented(uint64_t number)
{
    if (!handlers_bound)
        bind_all();
    return number < SYSCALL_TABLE_SIZE && handlers[number] != NULL;
}

long syscall_dispatch(struct task *task, const struct syscall_args *args)
{
    if (!handlers_bound)
        bind_all();
    uint64_t number = args->number;
    if (number >= SYSCALL_TABLE_SIZE || !handlers[number]) {
        size_t slot = number >= SYSCALL_TABLE_SIZE ? SYSCALL_TABLE_SIZE : number;
        if (!unsupported_logged[slot]) {
            unsupported_logged[slot] = true;
            log_warning("unsupported syscall %s (%lu): returning ENOSYS", syscall_name(number),
                        (unsigned long)number);
        }
        return -ENOSYS;
    }
    return handlers[number](task, args);
}
